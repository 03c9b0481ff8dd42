"""Fixtures: official metadata from ../shared/reference/mabe22 and a small synthetic data set.

The synthetic set uses the real clip ids: the first 12 SubmissionTrain, 4 publicTest and 4
privateTest ids of ``jax_split.json`` (list order), 1800 frames per clip (official length).
"""

from __future__ import annotations

import pytest

from behaviorbench.benchmark.mabe.files import MabeLabels
from behaviorbench.benchmark.mabe.protocol import load_split
from behaviorbench.benchmark.mabe.synthetic import (
    SyntheticConfig,
    make_synthetic_mabe,
    write_synthetic_mabe,
)


@pytest.fixture(scope="package")
def mabe_ref(reference_dir):
    return reference_dir / "mabe22"


@pytest.fixture(scope="package")
def official_split(mabe_ref):
    return load_split(mabe_ref / "jax_split.json")


@pytest.fixture(scope="package")
def synth(official_split):
    return make_synthetic_mabe(SyntheticConfig(), official_split)


@pytest.fixture(scope="package")
def synth_labels(synth):
    return MabeLabels(**synth.labels)


@pytest.fixture(scope="package")
def synth_dir(tmp_path_factory, official_split):
    d = tmp_path_factory.mktemp("mabe_synth")
    paths = write_synthetic_mabe(d, SyntheticConfig(), official_split, naming="caltech")
    return d, paths
