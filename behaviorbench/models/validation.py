"""Model config validation: a model whose config is invalid is never built, trained or scored.

``config_problems(config) -> list[str]`` gathers every problem of a config dataclass, one short
phrase each naming the field and its value:

- generic rules, for any config (built-in or third-party): a float field must be finite; a field
  called ``epochs``, ``batch_size``, ``max_iterations`` or ``embed_batch_size`` must be an
  integer >= 1;
- the config's own rules: a config class may define ``problems(self) -> list[str]`` (every
  built-in config does: ``TrainingConfig``, ``BAMSConfig``, ``PCAConfig``, ...).

Every built-in config calls ``validate_on_construction`` from its ``__post_init__``, so an
invalid config cannot be built at all. ``check_config(config, model_name)`` raises
``ModelConfigError`` (a ``ValueError``) with all problems on one line; ``Estimator.__init__``
calls it too (third-party configs), so ``get_model("bams", epochs=-3)`` fails before anything
is built.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterable, Iterator
from typing import Any

#: largest embedding size D a model may produce: the benchmark's ridge readout solves (D, D)
#: normal equations in float64
MAX_EMBEDDING_DIM = 4096

#: integer fields that must be >= 1 whatever model they belong to
POSITIVE_INT_FIELDS = ("epochs", "batch_size", "max_iterations", "embed_batch_size")


class ModelConfigError(ValueError):
    """A model config holds an invalid value; the message names every bad field (one line).

    ``problems``: the problems, one phrase each (field, value, valid range).
    """

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = list(problems or [message])


def validate_on_construction(config: Any) -> None:
    """``__post_init__`` of the built-in model configs: raise ``ModelConfigError`` (naming the
    config class) when ``config_problems(config)`` finds any; an estimator or the benchmark
    re-raises it naming the model."""
    problems = config_problems(config)
    if problems:
        raise ModelConfigError(f"{type(config).__name__}: invalid config: "
                               + "; ".join(problems), problems)


def at_least(name: str, value: Any, low: float) -> list[str]:
    """[problem] if ``value`` is not a number >= ``low``, else []."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= low:
        return [f"{name} must be >= {low:g}, got {value!r}"]
    return []


def positive(name: str, value: Any) -> list[str]:
    """[problem] if ``value`` is not a number > 0, else []."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        return [f"{name} must be > 0, got {value!r}"]
    return []


def in_range(name: str, value: Any, low: float, high: float, high_open: bool = False) -> list[str]:
    """[problem] if ``value`` is not in [low, high] (or [low, high) with ``high_open``)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value and (
        value < high if high_open else value <= high)
    if not ok:
        return [f"{name} must be in [{low:g}, {high:g}{')' if high_open else ']'}, got {value!r}"]
    return []


def all_at_least(name: str, values: Iterable[Any] | None, low: float,
                 allow_empty: bool = False) -> list[str]:
    """[problem] if ``values`` is empty (unless allowed) or holds a value < ``low``."""
    vals = list(values or ())
    if not vals and not allow_empty:
        return [f"{name} must not be empty"]
    bad = [v for v in vals if at_least(name, v, low)]
    return [f"{name} values must be >= {low:g}, got {vals!r}"] if bad else []


def config_problems(config: Any) -> list[str]:
    """Every problem of the dataclass instance ``config`` (generic rules + its ``problems()``)."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        return [f"config must be a dataclass instance, got {type(config).__name__}"]
    out: list[str] = []
    for f in dataclasses.fields(config):
        v = getattr(config, f.name)
        if isinstance(v, float) and not math.isfinite(v):
            out.append(f"{f.name} must be finite, got {v!r}")
        elif f.name in POSITIVE_INT_FIELDS and (
                isinstance(v, bool) or not isinstance(v, int) or v < 1):
            out.append(f"{f.name} must be an integer >= 1, got {v!r}")
    own = getattr(config, "problems", None)
    if callable(own):
        out += [p for p in own() if p not in out]
    return out


@contextlib.contextmanager
def naming_model(model_name: str) -> Iterator[None]:
    """Re-raise a ``ModelConfigError`` of a config's construction naming the model
    (``model bams: invalid config: ...``) instead of the config class."""
    try:
        yield
    except ModelConfigError as e:
        raise ModelConfigError(f"model {model_name}: invalid config: " + "; ".join(e.problems),
                               e.problems) from None


def check_config(config: Any, model_name: str) -> Any:
    """Return ``config`` if valid; else raise ``ModelConfigError`` listing every problem."""
    problems = config_problems(config)
    if problems:
        raise ModelConfigError(f"model {model_name}: invalid config: " + "; ".join(problems),
                               problems)
    return config


def config_from_dict(cls: type, d: dict) -> Any:
    names = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for k, v in d.items():
        if k not in names:
            continue  # tolerate fields removed since the file was written
        as_tuple = isinstance(names[k].default, tuple) or "tuple" in str(names[k].type)
        kwargs[k] = tuple(v) if isinstance(v, list) and as_tuple else v
    return cls(**kwargs)
