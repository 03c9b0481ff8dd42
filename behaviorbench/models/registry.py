"""Models by name: ``get_model``, ``load_model`` and ``recorded_config_problems``.

``MODELS`` (``builtin.py``) holds the built-ins only; models of other packages are found
through the ``behaviorbench.models`` entry points or an import path (``external.py``), and
``get_model`` accepts all three kinds of name.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from .base import Estimator
from .builtin import MODELS
from .external import ModelResolutionError, build, load_checkpoint, resolve_model
from .validation import (
    POSITIVE_INT_FIELDS,
    ModelConfigError,
    config_from_dict,
    config_problems,
)


def get_model(name: str, config: Any = None, **config_overrides: Any) -> Estimator:
    """Instantiate a model with its default config, a config/dict, and overrides.

    ``name``: a key of ``MODELS``, an entry-point name or ``package.module:ClassName``.
    Unknown names raise ``KeyError``; unknown override names ``TypeError`` listing the valid
    fields; an invalid config ``validation.ModelConfigError``.
    """
    try:
        source = resolve_model(name)
    except ModelResolutionError as e:
        raise KeyError(str(e)) from None
    return build(source, config, **config_overrides)


def load_model(path: str | Path, name: str | None = None) -> Estimator:
    """Load a saved model: a built-in by the registry name stored in the file, or the class
    that ``name`` (entry-point name or import path) resolves to."""
    if name is not None and name not in MODELS:
        return load_checkpoint(resolve_model(name), path)
    payload = torch.load(Path(path), map_location="cpu", weights_only=True)
    return MODELS[payload["model"]].load(path)


def recorded_config_problems(model_name: str, config: dict, builtin: bool) -> list[str]:
    """Problems of a config as a results file records it (a dict, ``seed`` maybe dropped).

    A built-in model's config is rebuilt from the dict and checked in full; any other model's
    dict gets the generic rules only (its class is not imported).
    """
    if builtin and model_name in MODELS:
        try:
            conf = config_from_dict(MODELS[model_name].config_class, config)
        except ModelConfigError as e:  # the config validates itself on construction
            return list(e.problems)
        except (TypeError, ValueError) as e:
            return [f"config does not fit {model_name}'s config class ({e})"]
        return config_problems(conf)
    out = []
    for k, v in config.items():
        if isinstance(v, float) and not math.isfinite(v):
            out.append(f"{k} must be finite, got {v!r}")
        elif k in POSITIVE_INT_FIELDS and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            out.append(f"{k} must be an integer >= 1, got {v!r}")
    return out
