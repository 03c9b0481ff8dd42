"""One interface for every controller that walks robots: the built-in trot controller and
user policies alike.

The recording loop (:func:`behaviorbench.simulation.rollout._simulate_chunk`) drives ``n``
robots of one type through a :class:`Controller`:

1. :meth:`Controller.reset` once per batch, with a :class:`ControlContext` (robot, commands,
   added masses, terrain height function, initial poses);
2. per control tick (50 Hz): :meth:`Controller.act` on the batch's state returns the
   position-servo targets ``ctrl`` (n, 12) rad, and :meth:`Controller.write_gains` writes that
   tick's servo gains into the per-simulation actuator parameters; the servos then apply
   ``kp (ctrl - q) - kd qdot``, clipped at the robot's torque limits, at the physics rate
   (200 Hz, 4 physics steps per tick).

:meth:`Controller.identity` names the controller in a store's attributes (``name``,
``source``, ``config``, ``sha256`` of its file where it has one); ``--resume`` refuses a store
begun by another identity.

A controller is named by a string (:func:`load_controller`): a built-in name
(:data:`BUILTIN`: ``trot``), ``module:Class`` (a Python class implementing this protocol,
constructed without arguments), or a policy file, TorchScript ``.pt`` or ONNX ``.onnx``
(:mod:`behaviorbench.simulation.policy`).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np

from .controller import ControllerConfig, TrotController
from .controller_interface import (
    ControlContext,
    Controller,
    ControllerError,
    identity_record,
)

BUILTIN_DEFAULT = "trot"  # the model-based trot controller (:mod:`.controller`)


class TrotPolicy:
    """The built-in model-based controller (:class:`~.controller.TrotController`) behind the
    :class:`Controller` protocol: the same calls, in the same order, as the recording loop
    made before the protocol existed, so its stores are bit-identical."""

    name = BUILTIN_DEFAULT

    def __init__(self, config: ControllerConfig | None = None):
        self.cfg = config or ControllerConfig()
        self.ctl: TrotController | None = None

    def reset(self, ctx: ControlContext) -> None:
        self.ctl = TrotController(ctx.robot, ctx.command_vel, height_fn=ctx.height_fn,
                                  added_mass=ctx.added_mass, config=self.cfg)
        self.ctl.reset(ctx.qpos.copy())

    def act(self, qpos: np.ndarray, qvel: np.ndarray, rot: np.ndarray) -> np.ndarray:
        return self.ctl(qpos, qvel, rot)

    def write_gains(self, gainprm: np.ndarray, biasprm: np.ndarray) -> None:
        self.ctl.write_gains(gainprm, biasprm)

    def config(self) -> dict:
        return identity_record("", "", asdict(self.cfg))["config"]

    def identity(self) -> dict:
        return identity_record(self.name, "builtin", self.config())


#: built-in controllers: name -> factory taking the run's ControllerConfig
BUILTIN: dict[str, Callable[[ControllerConfig], Controller]] = {
    BUILTIN_DEFAULT: TrotPolicy,
}
POLICY_SUFFIXES = (".pt", ".onnx")


def is_file_spec(spec: str) -> bool:
    """Whether controller name ``spec`` names a policy file (by suffix or existing path)."""
    return spec.lower().endswith(POLICY_SUFFIXES) or os.path.isfile(spec)


def load_controller(spec: str, config: ControllerConfig | None = None,
                    robot: str | None = None) -> Controller:
    """A fresh :class:`Controller` from its name: a :data:`BUILTIN` name (given ``config``),
    a policy file (``.pt`` TorchScript, ``.onnx`` ONNX: :func:`.policy.load_policy_file`,
    checked against ``robot``'s observation size), or ``module:Class`` (constructed without
    arguments). Raises :class:`ControllerError` (one line) when it cannot be loaded or does not
    implement the protocol."""
    if not isinstance(spec, str) or not spec:
        raise ControllerError(f"controller must be a name, module:Class or file, got {spec!r}")
    if spec in BUILTIN:
        return BUILTIN[spec](config or ControllerConfig())
    if is_file_spec(spec):
        from .policy import load_policy_file

        return load_policy_file(spec)
    if ":" not in spec:
        raise ControllerError(f"unknown controller {spec!r} (built-in: {', '.join(BUILTIN)}; "
                              f"or module:Class, or a .pt / .onnx policy file)")
    mod, _, cls_name = spec.partition(":")
    try:
        cls = getattr(importlib.import_module(mod), cls_name)
    except (ImportError, AttributeError, ValueError) as e:
        raise ControllerError(f"controller {spec!r} cannot be imported: "
                              f"{type(e).__name__}: {e}") from e
    try:
        ctl = cls()
    except Exception as e:  # noqa: BLE001 - any construction failure is the user's class
        raise ControllerError(f"controller {spec!r} could not be constructed: "
                              f"{type(e).__name__}: {e}") from e
    missing = [m for m in ("reset", "act", "write_gains", "config", "identity")
               if not callable(getattr(ctl, m, None))]
    if missing or not isinstance(getattr(ctl, "name", None), str):
        what = ", ".join(missing) if missing else "a name attribute"
        raise ControllerError(f"controller {spec!r} does not implement the controller protocol "
                              f"(missing {what})")
    return ctl


def controller_identity(spec: str, config: ControllerConfig | None = None) -> dict:
    """The identity of the controller named ``spec`` (loads it: files are checked)."""
    ident = load_controller(spec, config).identity()
    if not isinstance(ident, dict):
        raise ControllerError(f"controller {spec!r}: identity() must return a dict")
    return identity_record(str(ident.get("name", spec)), str(ident.get("source", spec)),
                           ident.get("config") or {}, ident.get("sha256"))


def describe(ident: dict[str, Any]) -> str:
    """One phrase naming a controller identity, e.g. ``policy.pt (sha256 1a2b3c4d...)``."""
    sha = ident.get("sha256")
    return f"{ident.get('name')}" + (f" (sha256 {sha[:12]}...)" if sha else "")
