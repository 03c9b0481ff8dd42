"""Registry and baselines: interface round-trips, causality, PCA vs scikit-learn, slicing."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from behaviorbench.models import MODELS, BAMSLong, BAMSShort, get_model, load_model

from .synthetic import regime_sinusoids

FAST = {
    "bams": {"epochs": 1, "progress": False},
    "bams-short": {"epochs": 1, "progress": False},
    "bams-long": {"epochs": 1, "progress": False},
    "tcn-autoencoder": {"epochs": 2, "progress": False},
    "cebra-time": {"max_iterations": 15, "batch_size": 128},
}
DIMS = {"bams": 64, "bams-short": 32, "bams-long": 32, "raw": 24, "pca": 64, "random-tcn": 64,
        "tcn-autoencoder": 64, "cebra-time": 32}


class Holder:
    """Dataset-like object: `.features` and `.valid_mask`."""

    def __init__(self, features, valid_mask):
        self.features, self.valid_mask = features, valid_mask


@pytest.fixture(scope="module")
def data():
    return regime_sinusoids(n=4, t_len=160, seed=1)[0]


def test_registry_names():
    assert set(MODELS) == {"bams", "bams-short", "bams-long", "raw", "pca", "random-tcn",
                           "tcn-autoencoder", "cebra-time"}
    with pytest.raises(KeyError):
        get_model("nope")
    with pytest.raises(TypeError, match="unknown config field"):
        get_model("pca", n_componentz=3)
    assert get_model("pca", n_components=5).config.n_components == 5


@pytest.mark.parametrize("name", sorted(DIMS))
def test_fit_embed_save_load_causal(name, data, tmp_path):
    if name == "cebra-time":
        pytest.importorskip("cebra")
    valid = np.ones(data.shape[:2], bool)
    valid[0, 50:60] = False
    model = get_model(name, **FAST.get(name, {})).fit(Holder(data, valid))
    z = model.embed(data)
    assert z.shape == (4, 160, DIMS[name]) and z.dtype == np.float32
    assert np.isfinite(z).all()
    assert model.embedding_dim == DIMS[name]
    assert isinstance(model.n_parameters, int)
    loaded = load_model(model.save(tmp_path / f"{name}.pt"))
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.embed(data), z)
    x2 = data.copy()
    x2[:, 100:] += 3.0
    z2 = model.embed(x2)
    np.testing.assert_array_equal(z2[:, :100], z[:, :100])
    assert not np.allclose(z2[:, 100:], z[:, 100:])


def test_raw_is_max_abs_normalised(data):
    z = get_model("raw").fit(data).embed(data)
    np.testing.assert_allclose(z, data / np.abs(data).max(axis=(0, 1)), rtol=1e-6)


def test_pca_matches_sklearn_on_single_frames(data):
    m = get_model("pca", n_components=6, history=1).fit(data)
    xn = (data / np.abs(data).max(axis=(0, 1))).reshape(-1, 24)
    ref = PCA(n_components=6, svd_solver="full").fit(xn)
    ours = m.embed(data).reshape(-1, 6)
    theirs = ref.transform(xn)
    signs = np.sign((ours * theirs).sum(0))
    np.testing.assert_allclose(ours * signs, theirs, atol=1e-4)
    assert get_model("pca", n_components=500, history=2).fit(data).embedding_dim == 48


def test_bams_spaces_slice_one_trained_model(data):
    bams = get_model("bams", epochs=1, progress=False).fit(data)
    z = bams.embed(data)
    short, long_ = BAMSShort.from_trained(bams), BAMSLong.from_trained(bams)
    np.testing.assert_array_equal(short.embed(data), z[..., :32])
    np.testing.assert_array_equal(long_.embed(data), z[..., 32:])
    assert short.n_parameters == bams.n_parameters
