"""Model registry: ``MODELS`` (name -> built-in estimator class), ``get_model``, ``load_model``.

``MODELS`` holds the built-ins only; models of other packages are found through the
``behaviorbench.models`` entry points or an import path (``external.py``), and ``get_model``
accepts all three kinds of name.
"""

from __future__ import annotations

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
    """Instantiate a model with its default config, a config/dict, and overrides.

    ``name``: a key of ``MODELS``, an entry-point name or ``package.module:ClassName``.
    Unknown names raise ``KeyError``; unknown override names ``TypeError`` listing the valid
    fields; an invalid config ``validation.ModelConfigError``.
    """
    from .external import ModelResolutionError, build, resolve_model

    try:
        source = resolve_model(name)
    except ModelResolutionError as e:
        raise KeyError(str(e)) from None
    return build(source, config, **config_overrides)


def load_model(path: str | Path, name: str | None = None) -> Estimator:
    """Load a saved model: a built-in by the registry name stored in the file, or the class
    that ``name`` (entry-point name or import path) resolves to."""
    if name is not None and name not in MODELS:
        from .external import load_checkpoint, resolve_model

        return load_checkpoint(resolve_model(name), path)
    payload = torch.load(Path(path), map_location="cpu", weights_only=True)
    return MODELS[payload["model"]].load(path)
