"""Model registry: ``MODELS`` (name -> estimator class), ``get_model`` and ``load_model``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from .bams import BAMS
from .base import Estimator
from .baselines import BAMSLong, BAMSShort, PCABaseline, RandomTCN, RawFeatures
from .cebra_model import CebraTime
from .tcn_autoencoder import TCNAutoencoder

MODELS: dict[str, type[Estimator]] = {
    "bams": BAMS,
    "bams-short": BAMSShort,
    "bams-long": BAMSLong,
    "raw": RawFeatures,
    "pca": PCABaseline,
    "random-tcn": RandomTCN,
    "tcn-autoencoder": TCNAutoencoder,
    "cebra-time": CebraTime,
}


def get_model(name: str, config: Any = None, **config_overrides: Any) -> Estimator:
    """Instantiate ``MODELS[name]`` with its default config, a config/dict, and overrides.

    Unknown override names raise ``TypeError`` listing the valid fields.
    """
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; choose from {sorted(MODELS)}")
    cls = MODELS[name]
    fields = {f.name for f in dataclasses.fields(cls.config_class)}
    bad = sorted(set(config_overrides) - fields)
    if bad:
        raise TypeError(f"{name}: unknown config field(s) {bad}; valid: {sorted(fields)}")
    return cls(config, **config_overrides)


def load_model(path: str | Path) -> Estimator:
    """Load any saved model, dispatching on the registry name stored in the file."""
    payload = torch.load(Path(path), map_location="cpu", weights_only=True)
    return MODELS[payload["model"]].load(path)
