"""Estimator protocol shared by every model: data coercion, normalisation, save/load.

Every model is scikit-learn-like::

    model = MODELS["bams"](config)      # cheap: no data, no network yet
    model.fit(data)                     # (N, T, F) float32 array or object with .features
    z = model.embed(x)                  # (N, T, D) float32, causal per frame
    model.save(path); same = type(model).load(path)

Subclasses implement ``_fit(x, valid)``, ``_embed(x)``, ``_get_state()`` / ``_set_state(state)``
and set ``config_class``. Saved files are ``torch.save`` dicts of plain types and tensors
(``torch.load(weights_only=True)`` safe), tagged with the registry name.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from .validation import check_config, config_from_dict, naming_model


def as_features(data: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Coerce ``data`` to ((N, T, F) float32 array, (N, T) bool valid mask or None).

    Accepts an array of shape (N, T, F) or (T, F) (treated as N=1), or any object with a
    ``.features`` attribute of that shape and optionally ``.valid_mask`` (N, T) bool.
    """
    valid = None
    if hasattr(data, "features"):
        valid = getattr(data, "valid_mask", None)
        data = data.features
    if isinstance(data, torch.Tensor):
        data = data.detach().cpu().numpy()
    x = np.asarray(data, dtype=np.float32)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"expected (N, T, F) features, got shape {x.shape}")
    if valid is not None:
        valid = np.asarray(valid, dtype=bool).reshape(x.shape[:2])
    return x, valid


@dataclasses.dataclass
class MaxAbsScaler:
    """The reference's input normalisation: each feature divided by its max |value|.

    ``scale`` (F,) float32; features that are all zero/NaN keep scale 1. NaN inputs map to 0.
    """

    scale: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray, valid: np.ndarray | None = None) -> MaxAbsScaler:
        flat = x.reshape(-1, x.shape[-1])
        if valid is not None and valid.any():
            flat = flat[valid.reshape(-1)]
        with np.errstate(all="ignore"):
            m = np.nanmax(np.abs(flat), axis=0) if flat.size else np.ones(x.shape[-1])
        m = np.where(np.isfinite(m) & (m > 0), m, 1.0).astype(np.float32)
        return cls(scale=m)

    def transform(self, x: np.ndarray) -> np.ndarray:
        return np.nan_to_num(x / self.scale, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def _to_state(value: Any) -> Any:
    """numpy arrays -> tensors (so files load with weights_only=True)."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, dict):
        return {k: _to_state(v) for k, v in value.items()}
    return value


def config_to_dict(config: Any) -> dict:
    out = {}
    for f in dataclasses.fields(config):
        v = getattr(config, f.name)
        out[f.name] = list(v) if isinstance(v, tuple) else v
    return out


class Estimator:
    """Base class: holds ``config`` (a dataclass) and the fitted state."""

    name: ClassVar[str] = "estimator"
    config_class: ClassVar[type] = object

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        with naming_model(self.name):  # a config validates itself on construction
            if config is None:
                config = self.config_class()
            elif isinstance(config, dict):
                config = self.config_class(**config)
            if overrides:
                config = dataclasses.replace(config, **overrides)

        self.config = check_config(config, self.name)
        self.fitted_ = False

    # --- public API -------------------------------------------------------------------
    def fit(self, data: Any) -> Estimator:
        x, valid = as_features(data)
        self._fit(x, valid)
        self.fitted_ = True
        return self

    def embed(self, x: Any) -> np.ndarray:
        """(N, T, F) -> (N, T, D) float32 per-frame embeddings (frame t uses inputs <= t)."""
        if not self.fitted_:
            raise RuntimeError(f"{type(self).__name__}.embed called before fit/load")
        arr, _ = as_features(x)
        return np.ascontiguousarray(self._embed(arr), dtype=np.float32)

    transform = embed

    @property
    def n_parameters(self) -> int:
        """Number of learned scalars (trainable weights, or fitted statistics for baselines)."""
        return 0

    @property
    def embedding_dim(self) -> int:
        raise NotImplementedError

    def save(self, path: str | Path) -> Path:
        if not self.fitted_:
            raise RuntimeError("save called before fit")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "model": self.name,
            "class": type(self).__name__,
            "config": config_to_dict(self.config),
            "state": _to_state(self._get_state()),
        }
        torch.save(payload, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Estimator:
        payload = torch.load(Path(path), map_location="cpu", weights_only=True)
        if payload.get("class") != cls.__name__:
            raise ValueError(f"{path} holds a {payload.get('class')}, not a {cls.__name__}")
        obj = cls(config_from_dict(cls.config_class, payload["config"]))
        obj._set_state(payload["state"])
        obj.fitted_ = True
        return obj

    # --- to implement -----------------------------------------------------------------
    def _fit(self, x: np.ndarray, valid: np.ndarray | None) -> None:
        raise NotImplementedError

    def _embed(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _get_state(self) -> dict:
        raise NotImplementedError

    def _set_state(self, state: dict) -> None:
        raise NotImplementedError


def resolve_device(device: str) -> torch.device:
    """ "auto" -> cuda if available else cpu; otherwise ``torch.device(device)``."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but CUDA is not available")
    return dev
