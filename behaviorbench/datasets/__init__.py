"""behaviorbench.datasets: the simulated-quadruped terrain dataset (Zarr v3 store).

``load_terrain_dataset(path)`` reads a store; ``generate_dataset(out, config)`` writes one (CLI:
``generate-terrain-data``); ``validate_store(path)`` checks one (CLI: ``validate-dataset``).
"""

from behaviorbench.datasets.config import PRESETS, ConfigError, GenerationConfig, preset
from behaviorbench.datasets.loader import (
    DatasetError,
    TerrainDataset,
    WindowDataset,
    load_terrain_dataset,
)

__all__ = [
    "PRESETS", "ConfigError", "DatasetError", "GenerationConfig", "TerrainDataset",
    "WindowDataset", "generate_dataset", "load_terrain_dataset", "preset", "validate_store",
]


def generate_dataset(*args, **kwargs):
    """See ``behaviorbench.datasets.generate.generate``."""
    from behaviorbench.datasets.generate import generate as _generate

    return _generate(*args, **kwargs)


def validate_store(*args, **kwargs):
    """See ``behaviorbench.datasets.validate.validate_store``."""
    from behaviorbench.datasets.validate import validate_store as _validate

    return _validate(*args, **kwargs)
