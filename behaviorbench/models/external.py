"""Models from outside the package: import paths and the ``behaviorbench.models`` entry points.

A model is named in one of three ways (``resolve_model(spec)``):

- a built-in registry name, a key of ``registry.MODELS`` (``"bams"``);
- an entry-point name: an installed distribution declares, in its ``pyproject.toml``::

      [project.entry-points."behaviorbench.models"]
      gru-example = "bb_gru.model:GRUEmbedder"

  and ``gru-example`` becomes a model name beside the built-ins (built-ins win a name clash);
- an import path ``package.module:ClassName`` (the module must be importable).

Every such class implements the estimator protocol (docs/models.md): ``cls(config)``,
``fit(x) -> self``, ``embed(x) -> (N, T, D) float32``, ``save(path)``, classmethod
``load(path)``, ``n_parameters`` and ``config_class``, a dataclass whose fields all have
defaults. ``protocol_problems(cls)`` checks the parts that can be checked without data.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Literal

from .validation import check_config, naming_model

ENTRY_POINT_GROUP = "behaviorbench.models"
"""Entry-point group scanned for third-party models."""

_IMPORT_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")

Origin = Literal["builtin", "entry-point", "import-path"]


class ModelResolutionError(ValueError):
    """A model name or import path cannot be turned into a usable class (one-line message)."""


@dataclass(frozen=True)
class ModelSource:
    """A resolved model: the class and where it came from (recorded in results files)."""

    name: str  # what results record as model.name: registry / entry-point name, or import path
    cls: type
    origin: Origin
    target: str  # "package.module:ClassName" of the class
    package: str | None = None  # "distribution version" that declared an entry point

    @property
    def external(self) -> bool:
        """True for models defined outside behaviorbench."""
        return self.origin != "builtin"


def protocol_problems(cls: Any) -> list[str]:
    """What ``cls`` lacks of the estimator protocol (empty list: usable)."""
    if not isinstance(cls, type):
        return [f"is a {type(cls).__name__}, not a class"]
    out = [f"no {m}() method" for m in ("fit", "embed", "save")
           if not callable(getattr(cls, m, None))]
    if not callable(getattr(cls, "load", None)):
        out.append("no load(path) classmethod")
    if not hasattr(cls, "n_parameters"):
        out.append("no n_parameters attribute")
    conf = getattr(cls, "config_class", None)
    if not (isinstance(conf, type) and dataclasses.is_dataclass(conf)):
        out.append("config_class is not a dataclass")
    else:
        try:
            conf()
        except TypeError as e:
            out.append(f"config_class() fails without arguments (every field needs a default: {e})")
    return out


def _target(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def load_import_path(spec: str) -> type:
    """The class named by ``package.module:ClassName``, checked against the protocol."""
    if not _IMPORT_PATH.match(spec):
        raise ModelResolutionError(
            f"model {spec!r} is not a known name nor an import path package.module:ClassName")
    module_name, _, attr = spec.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as e:  # noqa: BLE001 - any import failure is the user's to fix
        raise ModelResolutionError(
            f"model {spec!r}: cannot import {module_name!r} ({type(e).__name__}: {e})") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ModelResolutionError(f"model {spec!r}: {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    bad = protocol_problems(obj)
    if bad:
        raise ModelResolutionError(
            f"model {spec!r} does not implement the model protocol: {'; '.join(bad)}")
    return obj


def entry_points() -> dict[str, metadata.EntryPoint]:
    """Entry points of the ``behaviorbench.models`` group, by name (not loaded yet)."""
    return {ep.name: ep for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP),
                                         key=lambda e: e.name)}


def _package(ep: metadata.EntryPoint) -> str | None:
    dist = getattr(ep, "dist", None)
    return f"{dist.metadata['Name']} {dist.version}" if dist is not None else None


def _from_entry_point(name: str, ep: metadata.EntryPoint) -> ModelSource:
    if not _IMPORT_PATH.match(ep.value):
        raise ModelResolutionError(
            f"entry point {name!r} ({ep.value!r}) does not name a class as package.module:Class")
    try:
        cls = load_import_path(ep.value)
    except ModelResolutionError as e:
        raise ModelResolutionError(f"entry point {name!r} of {_package(ep)}: {e}") from None
    return ModelSource(name=name, cls=cls, origin="entry-point", target=_target(cls),
                       package=_package(ep))


def resolve_model(spec: str) -> ModelSource:
    """A built-in name, an entry-point name or an import path -> ``ModelSource``.

    Raises ``ModelResolutionError`` (one line) naming ``spec`` and what is wrong.
    """
    from .builtin import MODELS

    if spec in MODELS:
        return ModelSource(name=spec, cls=MODELS[spec], origin="builtin",
                           target=_target(MODELS[spec]))
    eps = entry_points()
    if spec in eps:
        return _from_entry_point(spec, eps[spec])
    if ":" in spec:
        cls = load_import_path(spec)
        return ModelSource(name=spec, cls=cls, origin="import-path", target=spec)
    names = sorted(MODELS) + sorted(n for n in eps if n not in MODELS)
    raise ModelResolutionError(
        f"unknown model {spec!r}; choose from {', '.join(names)} or give package.module:ClassName")


def available_models() -> list[tuple[str, ModelSource | ModelResolutionError]]:
    """Built-ins, then entry-point models (each resolved, or the error that stops it)."""
    from .builtin import MODELS

    out: list[tuple[str, ModelSource | ModelResolutionError]] = [
        (n, resolve_model(n)) for n in sorted(MODELS)]
    for name, ep in entry_points().items():
        if name in MODELS:
            out.append((name, ModelResolutionError(
                f"entry point of {_package(ep)} ignored: {name!r} is a built-in model")))
            continue
        try:
            out.append((name, _from_entry_point(name, ep)))
        except ModelResolutionError as e:
            out.append((name, e))
    return out


def build(source: ModelSource, config: Any = None, **overrides: Any) -> Any:
    """An untrained model of ``source``: default config (or ``config``) plus ``overrides``.

    Unknown override names raise ``TypeError``; an invalid config raises
    ``validation.ModelConfigError``; both before the model is built.
    """
    conf_cls = source.cls.config_class
    fields = {f.name for f in dataclasses.fields(conf_cls)}
    bad = sorted(set(overrides) - fields)
    if bad:
        raise TypeError(f"{source.name}: unknown config field(s) {bad}; valid: {sorted(fields)}")
    with naming_model(source.name):  # a config validates itself on construction
        if config is None:
            config = conf_cls()
        elif isinstance(config, dict):
            config = conf_cls(**config)
        if overrides:
            config = dataclasses.replace(config, **overrides)
    return source.cls(check_config(config, source.name))


def load_checkpoint(source: ModelSource, path: Any) -> Any:
    """``source.cls.load(path)``, checked to return an instance of that class."""
    model = source.cls.load(path)
    if not isinstance(model, source.cls):
        raise ModelResolutionError(
            f"{source.target}.load({str(path)!r}) returned a {type(model).__name__}")
    return model
