"""The controller interface: :class:`Controller` (the protocol every controller implements),
:class:`ControlContext` (what a controller learns at reset), :class:`ControllerError` and the
identity record a store keeps. Loading controllers by name is
:mod:`~behaviorbench.simulation.controller_protocol`'s job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from .controller import HeightFn
from .robots import RobotSpec


class ControllerError(ValueError):
    """A controller name, class or file that cannot drive the robots (one-line message)."""


@dataclass(frozen=True)
class ControlContext:
    """What a controller learns at :meth:`Controller.reset` about the ``n`` robots it drives.

    ``robot``: their :class:`~.robots.RobotSpec`; ``command_vel`` (n,) float64 m/s forward
    (world +x) commands; ``added_mass`` (n,) float64 kg added to each base; ``height_fn``
    terrain height z (m) at world x, y (m) arrays; ``qpos`` (n, 19) float64 initial poses
    (MuJoCo free-joint layout: position m, w-x-y-z quaternion, 12 joint angles rad)."""

    robot: RobotSpec
    command_vel: np.ndarray
    added_mass: np.ndarray
    height_fn: HeightFn
    qpos: np.ndarray


@runtime_checkable
class Controller(Protocol):
    """The controller protocol (see the module docstring). ``name``: a short identifier."""

    name: str

    def reset(self, ctx: ControlContext) -> None:
        """Start an episode for the ``n`` robots of ``ctx``."""

    def act(self, qpos: np.ndarray, qvel: np.ndarray, rot: np.ndarray) -> np.ndarray:
        """One control tick. ``qpos`` (n, 19), ``qvel`` (n, 18) float64 (MuJoCo free-joint
        layout: world linear velocity m/s, body angular velocity rad/s, joint velocities
        rad/s), ``rot`` (n, 3, 3) base orientation. Returns the position-servo targets
        (n, 12) rad, joint order :data:`~.robots.JOINT_NAMES`."""

    def write_gains(self, gainprm: np.ndarray, biasprm: np.ndarray) -> None:
        """Write this tick's servo gains into per-simulation actuator parameters (n, 12, 10):
        ``gainprm[..., 0] = kp``, ``biasprm[..., 1] = -kp``, ``biasprm[..., 2] = -kd``."""

    def config(self) -> dict:
        """JSON-able parameters of the controller."""

    def identity(self) -> dict:
        """``{"name", "source", "config", "sha256"}`` (``sha256`` None without a file)."""


def identity_record(name: str, source: str, config: dict, sha256: str | None = None) -> dict:
    """The identity dict every controller returns (JSON-able)."""
    import json

    return json.loads(json.dumps({"name": name, "source": source, "config": config,
                                  "sha256": sha256}))
