"""Model configs are validated before a model is built; results files' configs are too."""

from __future__ import annotations

import pytest

from behaviorbench.models import MODELS, ModelConfigError, config_problems, get_model
from behaviorbench.models.registry import recorded_config_problems


def test_every_builtin_default_config_is_valid():
    for name, cls in MODELS.items():
        assert config_problems(cls.config_class()) == [], name


@pytest.mark.parametrize(("name", "overrides", "message"), [
    ("bams", {"epochs": -3}, "epochs must be an integer >= 1, got -3"),
    ("bams", {"epochs": 0}, "epochs must be an integer >= 1, got 0"),
    ("bams", {"batch_size": 0}, "batch_size must be an integer >= 1"),
    ("bams", {"lr": float("nan")}, "lr must be finite"),
    ("bams", {"short_channels": ()}, "short_channels must not be empty"),
    ("bams", {"hoa_low_percentile": 90.0, "hoa_high_percentile": 10.0}, "must be below"),
    ("random-tcn", {"dropout": 1.0}, "dropout must be in [0, 1)"),
    ("tcn-autoencoder", {"window": 0}, "window must be >= 1"),
    ("pca", {"n_components": 0}, "n_components must be in [1, 4096], got 0"),
    ("pca", {"n_components": 100000}, "n_components must be in [1, 4096], got 100000"),
    ("cebra-time", {"max_iterations": 0}, "max_iterations must be an integer >= 1"),
])
def test_invalid_configs_are_refused_at_construction(name, overrides, message):
    with pytest.raises(ModelConfigError) as err:
        get_model(name, **overrides)
    assert message in str(err.value) and f"model {name}: invalid config" in str(err.value)
    assert "\n" not in str(err.value)


def test_recorded_configs():
    ok = get_model("bams").config
    from behaviorbench.models.base import config_to_dict

    good = config_to_dict(ok)
    assert recorded_config_problems("bams", good, builtin=True) == []
    assert recorded_config_problems("bams", {**good, "dropout": 2.0}, builtin=True) == [
        "dropout must be in [0, 1), got 2.0"]
    # other models: the generic rules only (their classes are not imported)
    assert recorded_config_problems("pkg.mod:M", {"epochs": -3, "depth": -1}, builtin=False) == [
        "epochs must be an integer >= 1, got -3"]
