"""Where a run's embeddings come from: a model (built-in, entry point, import path) or a file.

- ``resolve_source(name)``: the model named on the command line (``models.external``).
- ``check_overrides(cfg)``: the run's config overrides applied to the model's config and
  validated, before any data is read.
- ``build_model(cfg, seed)`` / ``checkpoint_model(cfg, loaded, log)``: a fresh model per seed,
  or the one saved in ``cfg.checkpoint``.
- ``checked_embed(model, x, name)``: ``model.embed(x)`` with the protocol's output checked:
  (N, T, D) for an (N, T, F) input, 1 <= D <= ``embeddings.MAX_EMBEDDING_DIM``, finite.
- ``model_info(...)``: the results' ``model`` block, with the model's origin.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from behaviorbench.models.external import (
    ModelResolutionError,
    ModelSource,
    load_checkpoint,
    resolve_model,
)
from behaviorbench.models.validation import check_config, naming_model

from .embeddings import MAX_EMBEDDING_DIM


class ModelProtocolError(ValueError):
    """A model broke the estimator protocol at run time (wrong embedding shape, NaN, ...)."""


def safe_name(name: str) -> str:
    """``name`` usable in a file name: characters other than letters, digits, '.', '_', '-'
    become '-' (``pkg.mod:Class`` -> ``pkg.mod-Class``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "model"


def resolve_source(name: str) -> ModelSource:
    """The ``ModelSource`` of ``name`` (built-in, entry point or import path)."""
    return resolve_model(name)


def _overrides(cfg: Any, source: ModelSource, seed: int) -> dict[str, Any]:
    fields = {f.name for f in dataclasses.fields(source.cls.config_class)}
    over = dict(cfg.model_overrides)
    bad = sorted(set(over) - fields)
    if bad:
        raise ModelResolutionError(f"model {source.name}: unknown config field(s) {bad}")
    if "seed" in fields:
        over.setdefault("seed", int(seed))
    if "device" in fields:
        over.setdefault("device", cfg.device)
    return over


def check_overrides(cfg: Any) -> ModelSource:
    """Resolve ``cfg.model`` and validate its config with the run's overrides (first seed).

    Raises ``ModelResolutionError`` or ``models.ModelConfigError``, one line each.
    """
    source = resolve_source(cfg.model)
    with naming_model(source.name):  # a built-in config validates itself on construction
        conf = dataclasses.replace(source.cls.config_class(),
                                   **_overrides(cfg, source, int(cfg.seeds[0])))
    check_config(conf, source.name)
    return source


def build_model(cfg: Any, seed: int) -> Any:
    """A fresh, untrained model for ``seed`` with the run's overrides and device."""
    from behaviorbench.models.external import build

    source = resolve_source(cfg.model)
    return build(source, **_overrides(cfg, source, seed))


def checkpoint_model(cfg: Any, loaded: Any, log: Callable[[str], None]) -> Any:
    """The model in ``cfg.checkpoint``, loaded once (``loaded``: the one loaded before, or None).

    Raises ``ModelResolutionError`` (one line) when the file is missing, is not a checkpoint,
    or holds another model than ``cfg.model``.
    """
    if loaded is not None:
        return loaded
    from pathlib import Path

    source = resolve_source(cfg.model)
    path = Path(cfg.checkpoint)
    if not path.is_file():
        raise ModelResolutionError(f"checkpoint {cfg.checkpoint}: "
                                   f"{'is a directory' if path.is_dir() else 'no such file'}")
    log(f"loading checkpoint {cfg.checkpoint}")
    try:
        if source.origin != "builtin":
            return load_checkpoint(source, cfg.checkpoint)
        import torch

        from behaviorbench.models import MODELS

        payload = torch.load(path, map_location="cpu", weights_only=True)
        name = payload.get("model") if isinstance(payload, dict) else None
        if name not in MODELS:
            raise ModelResolutionError(f"{cfg.checkpoint} is not a behaviorbench model "
                                       f"checkpoint (no known model name in it)")
        if name != cfg.model:
            raise ModelResolutionError(f"{cfg.checkpoint} holds a {name!r} model, not "
                                       f"{cfg.model!r}")
        return MODELS[name].load(path)
    except ModelResolutionError:
        raise
    except Exception as e:  # noqa: BLE001 - torch's unpickling errors are many and long
        first = (str(e).strip().splitlines() or [""])[0].split(". ")[0][:160]
        raise ModelResolutionError(f"{cfg.checkpoint} is not a {cfg.model} checkpoint "
                                   f"({type(e).__name__}{': ' + first if first else ''})") from e


def checked_embed(model: Any, x: np.ndarray, name: str) -> np.ndarray:
    """``model.embed(x)`` as (N, T, D) float32, or ``ModelProtocolError`` naming the fault."""
    z = model.embed(x)
    z = np.asarray(z)
    if z.ndim != 3 or z.shape[:2] != x.shape[:2]:
        raise ModelProtocolError(f"model {name}: embed returned shape {tuple(z.shape)} for "
                                 f"input {tuple(x.shape)}; expected (N, T, D) = "
                                 f"({x.shape[0]}, {x.shape[1]}, D)")
    if not 1 <= z.shape[2] <= MAX_EMBEDDING_DIM:
        raise ModelProtocolError(f"model {name}: embedding size D = {z.shape[2]}; expected "
                                 f"1 <= D <= {MAX_EMBEDDING_DIM}")
    if z.dtype.kind not in "fiu":
        raise ModelProtocolError(f"model {name}: embed returned dtype {z.dtype}")
    z = np.ascontiguousarray(z, dtype=np.float32)
    if not np.isfinite(z).all():
        raise ModelProtocolError(f"model {name}: embed returned non-finite values")
    return z


def model_config(model: Any, per_seed: bool) -> dict:
    """The model's config as JSON-able dict; ``seed`` dropped when it varied per run."""
    cfg = getattr(model, "config", None)
    if cfg is None or not dataclasses.is_dataclass(cfg):
        return {}
    out = {}
    for f in dataclasses.fields(cfg):
        k, v = f.name, getattr(cfg, f.name)
        if per_seed and k == "seed":
            continue
        v = list(v) if isinstance(v, tuple) else v
        out[k] = v if isinstance(v, (int, float, str, bool, list, type(None))) else str(v)
    return out


def model_info(name: str, model: Any, source: ModelSource, per_seed: bool,
               display_name: str | None = None) -> Any:
    """The results' ``ModelInfo`` of a model run (``name``: the result's model name)."""
    from .results import ModelInfo

    n_params = getattr(model, "n_parameters", None)
    return ModelInfo(name=name, display_name=display_name,
                     config=model_config(model, per_seed=per_seed),
                     n_parameters=None if n_params is None else int(n_params),
                     origin=source.origin, target=source.target, package=source.package)


def embeddings_info(name: str, path: str, sha256: str, n_parameters: int | None) -> Any:
    """The results' ``ModelInfo`` of precomputed embeddings."""
    from .results import ModelInfo

    return ModelInfo(name=name, config={}, n_parameters=n_parameters, origin="embeddings",
                     target=str(path), embeddings_sha256=sha256)
