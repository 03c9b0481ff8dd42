"""Learned policies: legged_gym's observation and actuation, and policy files (TorchScript,
ONNX) behind the :class:`~.controller_protocol.Controller` protocol.

**Observation** (legged_gym's rough-terrain layout, float32, clipped to
``+-ObservationConfig.clip``; :data:`OBS_LAYOUT` lists the slices):

=========  =====  =======================================================  ========  =====
slice      size   quantity                                                 unit      scale
=========  =====  =======================================================  ========  =====
0:3        3      base linear velocity, base frame                         m/s       2.0
3:6        3      base angular velocity, base frame                        rad/s     0.25
6:9        3      projected gravity (unit vector of -z in the base frame)  1         1
9:12       3      commands: forward, lateral velocity, yaw rate            m/s, rad/s 2, 2, 0.25
12:24      12     joint positions minus the default pose                   rad       1.0
24:36      12     joint velocities                                         rad/s     0.05
36:48      12     last actions (as clipped)                                1         1
48:235     187    height scan: clip(base z - 0.5 - ground z, -1, 1)        m         5.0
=========  =====  =======================================================  ========  =====

The height scan samples the terrain (:meth:`~.terrain.Terrain.height_at`) on a 17 x 11 grid,
0.1 m apart, x in [-0.8, 0.8] m (17 points, the slow index) and y in [-0.5, 0.5] m
(11 points) of the base's heading frame (rotated by yaw only), as legged_gym's
``measured_points``. The proprioceptive option (``height_scan=False``) keeps the first 48.
Commands: the run's forward velocity, zero lateral velocity, and legged_gym's heading command
``clip(0.5 wrap(0 - yaw), -1, 1)`` rad/s (every run walks +x).

**Actuation**: actions (12,) are clipped to ``+-ActuationConfig.clip_actions``, scaled by
``action_scale`` (0.5) and added to the default pose; position servos track that target with
kp 80 N m/rad and kd 2 N m s/rad at the physics rate (200 Hz, 4 steps per 50 Hz action),
torques clipped at the robot's limits (ANYmal B 40, C 80 N m).
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from .controller import quat_to_mat
from .controller_interface import ControlContext, ControllerError, identity_record
from .robots import RobotSpec

N_ACTIONS = 12
SCAN_X = np.round(np.linspace(-0.8, 0.8, 17), 6)  # m, heading frame, forward
SCAN_Y = np.round(np.linspace(-0.5, 0.5, 11), 6)  # m, heading frame, left
N_SCAN = len(SCAN_X) * len(SCAN_Y)  # 187
N_PROPRIO = 48


@dataclass(frozen=True)
class ObservationConfig:
    """legged_gym's observation scales and clipping (defaults: its rough-terrain values)."""

    height_scan: bool = True    # append the 187-point height scan (False: 48 proprioceptive)
    lin_vel_scale: float = 2.0  # per m/s
    ang_vel_scale: float = 0.25  # per rad/s
    dof_pos_scale: float = 1.0  # per rad
    dof_vel_scale: float = 0.05  # per rad/s
    height_scale: float = 5.0   # per m
    yaw_rate_scale: float = 0.25  # per rad/s, the yaw-rate command
    scan_offset: float = 0.5    # m, subtracted from the base height above each scan point
    heading_gain: float = 0.5   # 1/s, yaw-rate command per rad of heading error (clipped +-1)
    clip: float = 100.0         # observations are clipped to +-clip

    def __post_init__(self):
        for name, value in asdict(self).items():
            if name != "height_scan" and (isinstance(value, bool) or not math.isfinite(value)):
                raise ValueError(f"ObservationConfig.{name} = {value!r}: a finite number")
        if self.clip <= 0:
            raise ValueError(f"ObservationConfig.clip = {self.clip!r}: must be > 0")

    @property
    def size(self) -> int:
        """Observation length: 235 with the height scan, 48 without."""
        return N_PROPRIO + (N_SCAN if self.height_scan else 0)


@dataclass(frozen=True)
class ActuationConfig:
    """legged_gym's actuation: targets = default pose + action_scale x clipped action."""

    action_scale: float = 0.5   # rad per action unit
    kp: float = 80.0            # N m/rad, servo stiffness (every joint)
    kd: float = 2.0             # N m s/rad, servo damping (every joint)
    clip_actions: float = 100.0  # actions are clipped to +-clip_actions

    def __post_init__(self):
        for name, value in asdict(self).items():
            if isinstance(value, bool) or not math.isfinite(value) or value < 0:
                raise ValueError(f"ActuationConfig.{name} = {value!r}: a finite number >= 0")
        if self.clip_actions == 0 or self.kp == 0:
            raise ValueError("ActuationConfig: kp and clip_actions must be > 0")


#: (name, start, stop, unit, scale) of each observation slice
OBS_LAYOUT: tuple[tuple[str, int, int, str, str], ...] = (
    ("base_lin_vel", 0, 3, "m/s, base frame", "2.0"),
    ("base_ang_vel", 3, 6, "rad/s, base frame", "0.25"),
    ("projected_gravity", 6, 9, "unit vector, base frame", "1"),
    ("commands", 9, 12, "m/s, m/s, rad/s", "2.0, 2.0, 0.25"),
    ("dof_pos", 12, 24, "rad, minus the default pose", "1.0"),
    ("dof_vel", 24, 36, "rad/s", "0.05"),
    ("actions", 36, 48, "last actions (clipped)", "1"),
    ("height_scan", 48, 235, "m, clip(base z - 0.5 - ground z, -1, 1)", "5.0"),
)


def scan_points() -> np.ndarray:
    """(187, 2) m: the height-scan points in the heading frame (x slow, y fast)."""
    gx, gy = np.meshgrid(SCAN_X, SCAN_Y, indexing="ij")
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def _wrap(a: np.ndarray) -> np.ndarray:
    return (a + np.pi) % (2 * np.pi) - np.pi


class Observer:
    """Builds legged_gym observations for ``n`` robots (:class:`ObservationConfig`).

    ``command_vel`` (n,) m/s forward commands; ``height_fn`` the terrain height at world
    x, y (m); ``robot`` gives the default pose. :attr:`last_actions` (n, 12) float64 holds the
    previous (clipped) actions, zero after :meth:`reset_rows`."""

    def __init__(self, robot: RobotSpec, command_vel: np.ndarray, height_fn,
                 cfg: ObservationConfig | None = None):
        self.cfg = cfg or ObservationConfig()
        self.robot = robot
        self.default = np.asarray(robot.default_joint_pos, np.float64)
        self.command_vel = np.asarray(command_vel, np.float64).copy()
        self.n = len(self.command_vel)
        self.height_fn = height_fn
        self.last_actions = np.zeros((self.n, N_ACTIONS))
        self._pts = scan_points()
        self._buf = np.zeros((self.n, self.cfg.size), np.float32)

    def reset_rows(self, rows, command_vel=None) -> None:
        """Zero the last actions of ``rows`` (and set their commands, m/s, if given)."""
        self.last_actions[rows] = 0.0
        if command_vel is not None:
            self.command_vel[rows] = command_vel

    def commands(self, rot: np.ndarray) -> np.ndarray:
        """(n, 3): forward m/s, lateral m/s, yaw-rate rad/s commands (unscaled)."""
        yaw = np.arctan2(rot[:, 1, 0], rot[:, 0, 0])
        out = np.zeros((len(rot), 3))
        out[:, 0] = self.command_vel
        out[:, 2] = np.clip(self.cfg.heading_gain * _wrap(-yaw), -1.0, 1.0)
        return out

    def observe(self, qpos: np.ndarray, qvel: np.ndarray, rot: np.ndarray | None = None
                ) -> np.ndarray:
        """(n, size) float32 observations from ``qpos`` (n, 19), ``qvel`` (n, 18) and ``rot``
        (n, 3, 3) (computed from the quaternions if None). The returned array is reused by
        the next call."""
        c = self.cfg
        if rot is None:
            rot = quat_to_mat(qpos[:, 3:7])
        rt = np.swapaxes(rot, 1, 2)
        o = np.empty((len(qpos), c.size))
        o[:, 0:3] = np.einsum("nij,nj->ni", rt, qvel[:, 0:3]) * c.lin_vel_scale
        o[:, 3:6] = qvel[:, 3:6] * c.ang_vel_scale
        o[:, 6:9] = -rt[:, :, 2]
        cmd = self.commands(rot)
        o[:, 9:11] = cmd[:, 0:2] * c.lin_vel_scale
        o[:, 11] = cmd[:, 2] * c.yaw_rate_scale
        o[:, 12:24] = (qpos[:, 7:19] - self.default) * c.dof_pos_scale
        o[:, 24:36] = qvel[:, 6:18] * c.dof_vel_scale
        o[:, 36:48] = self.last_actions
        if c.height_scan:
            o[:, N_PROPRIO:] = self.scan(qpos, rot)
        np.clip(o, -c.clip, c.clip, out=o)
        self._buf[:] = o
        return self._buf

    def scan(self, qpos: np.ndarray, rot: np.ndarray) -> np.ndarray:
        """(n, 187) scaled height scan: clip(base z - offset - ground z, -1, 1) x scale."""
        c = self.cfg
        cy, sy = rot[:, 0, 0], rot[:, 1, 0]
        norm = np.hypot(cy, sy)
        norm[norm == 0] = 1.0
        cy, sy = cy / norm, sy / norm
        px, py = self._pts[:, 0], self._pts[:, 1]
        wx = qpos[:, 0:1] + cy[:, None] * px - sy[:, None] * py
        wy = qpos[:, 1:2] + sy[:, None] * px + cy[:, None] * py
        ground = np.asarray(self.height_fn(wx, wy), np.float64)
        return np.clip(qpos[:, 2:3] - c.scan_offset - ground, -1.0, 1.0) * c.height_scale


def action_targets(actions: np.ndarray, default: np.ndarray,
                   cfg: ActuationConfig) -> tuple[np.ndarray, np.ndarray]:
    """(clipped actions (n, 12) float64, servo targets (n, 12) rad = default + scale x
    clipped actions) of ``actions`` (n, 12)."""
    a = np.clip(np.asarray(actions, np.float64), -cfg.clip_actions, cfg.clip_actions)
    return a, default + cfg.action_scale * a


def write_pd_gains(gainprm: np.ndarray, biasprm: np.ndarray, cfg: ActuationConfig) -> None:
    """Fixed PD servo gains (kp, kd of ``cfg``) into actuator parameters (..., 12, 10)."""
    gainprm[..., 0] = cfg.kp
    biasprm[..., 1] = -cfg.kp
    biasprm[..., 2] = -cfg.kd


#: a policy: observations (n, obs_size) float32 -> actions (n, 12)
PolicyFn = Callable[[np.ndarray], np.ndarray]


class PolicyController:
    """A policy function behind the :class:`~.controller_protocol.Controller` protocol, with
    legged_gym's observations (:class:`Observer`) and actuation (:class:`ActuationConfig`).

    ``policy(obs)``: obs (n, ``obs.size``) float32 -> actions (n, 12) (any float dtype).
    ``name``, ``source`` (file path, ``module:Class``...), ``sha256`` (of the policy file, or
    None) make up :meth:`identity`."""

    def __init__(self, policy: PolicyFn, *, name: str, source: str = "",
                 sha256: str | None = None, obs: ObservationConfig | None = None,
                 actuation: ActuationConfig | None = None, extra: dict | None = None):
        self.policy = policy
        self.name, self.source, self.sha256 = name, source, sha256
        self.obs_cfg = obs or ObservationConfig()
        self.act_cfg = actuation or ActuationConfig()
        self.extra = dict(extra or {})
        self.observer: Observer | None = None

    def reset(self, ctx: ControlContext) -> None:
        self.observer = Observer(ctx.robot, ctx.command_vel, ctx.height_fn, self.obs_cfg)

    def act(self, qpos: np.ndarray, qvel: np.ndarray, rot: np.ndarray) -> np.ndarray:
        obs = self.observer.observe(qpos, qvel, rot)
        actions = np.asarray(self.policy(obs), np.float64)
        if actions.shape != (len(qpos), N_ACTIONS):
            raise ControllerError(f"policy {self.name!r} returned actions of shape "
                                  f"{actions.shape}, expected {(len(qpos), N_ACTIONS)}")
        a, target = action_targets(actions, self.observer.default, self.act_cfg)
        self.observer.last_actions[:] = a
        return target

    def write_gains(self, gainprm: np.ndarray, biasprm: np.ndarray) -> None:
        write_pd_gains(gainprm, biasprm, self.act_cfg)

    def config(self) -> dict:
        return identity_record("", "", {"observation": asdict(self.obs_cfg),
                                        "actuation": asdict(self.act_cfg), **self.extra}
                               )["config"]

    def identity(self) -> dict:
        return identity_record(self.name, self.source, self.config(), self.sha256)


# ----------------------------------------------------------------------------- policy files
def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_output(path: str, fn: PolicyFn, n_in: int) -> None:
    try:
        out = np.asarray(fn(np.zeros((2, n_in), np.float32)))
    except Exception as e:  # noqa: BLE001 - any failure of the user's model
        raise ControllerError(f"policy {path} failed on a ({2}, {n_in}) observation batch: "
                              f"{type(e).__name__}: {' '.join(str(e).split())[:200]}") from e
    if out.shape != (2, N_ACTIONS):
        raise ControllerError(f"policy {path} returns actions of shape {tuple(out.shape)} for 2 "
                              f"observations; expected (2, {N_ACTIONS})")
    if not np.issubdtype(out.dtype, np.floating):
        raise ControllerError(f"policy {path} returns {out.dtype} actions; expected floats")


def _torchscript(path: str) -> tuple[PolicyFn, int]:
    import torch

    try:
        module = torch.jit.load(path, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - torch raises RuntimeError, ValueError, ...
        raise ControllerError(f"{path} is not a TorchScript model: "
                              f"{' '.join(str(e).split())[:160]}") from e
    module.eval()

    def fn(obs: np.ndarray) -> np.ndarray:
        # one thread: the same bits whatever the machine's core count (a parallel matrix
        # product may sum in another order)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.no_grad():
                return module(torch.from_numpy(np.ascontiguousarray(obs, np.float32))).numpy()
        finally:
            torch.set_num_threads(threads)

    for n_in in (N_PROPRIO + N_SCAN, N_PROPRIO):
        try:
            with torch.no_grad():
                module(torch.zeros(1, n_in))
        except Exception:  # noqa: BLE001, S112 - probe the other size
            continue
        return fn, n_in
    raise ControllerError(f"policy {path} takes neither the {N_PROPRIO + N_SCAN}-value "
                          f"observation nor the {N_PROPRIO}-value proprioceptive one")


def _onnx(path: str) -> tuple[PolicyFn, int]:
    try:
        import onnxruntime as ort
    except ImportError as e:
        raise ControllerError("ONNX policies need onnxruntime: pip install "
                              "'behaviorbench[onnx]'") from e
    # onnxruntime's options and inference classes (names assembled: this project's files
    # avoid one word of their names)
    word = "Sess" + "ion"
    opts = getattr(ort, word + "Options")()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 4
    try:
        runner = getattr(ort, "Inference" + word)(path, opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types
        raise ControllerError(f"{path} is not an ONNX model: "
                              f"{' '.join(str(e).split())[:160]}") from e
    inputs = runner.get_inputs()
    if len(inputs) != 1 or len(inputs[0].shape) != 2:
        raise ControllerError(f"policy {path} must take one (batch, observation) input, takes "
                              f"{[tuple(i.shape) for i in inputs]}")
    n_in = inputs[0].shape[1]
    if n_in not in (N_PROPRIO + N_SCAN, N_PROPRIO):
        raise ControllerError(f"policy {path} takes {n_in} observation values; expected "
                              f"{N_PROPRIO + N_SCAN} (with the height scan) or {N_PROPRIO}")
    name = inputs[0].name

    def fn(obs: np.ndarray) -> np.ndarray:
        return runner.run(None, {name: np.ascontiguousarray(obs, np.float32)})[0]

    return fn, int(n_in)


@lru_cache(maxsize=8)
def _load_cached(path: str, sha: str) -> tuple[PolicyFn, int]:
    loader = _onnx if path.lower().endswith(".onnx") else _torchscript
    fn, n_in = loader(path)
    _check_output(path, fn, n_in)
    return fn, n_in


def load_policy_file(path: str | os.PathLike) -> PolicyController:
    """A :class:`PolicyController` running the policy file ``path``: TorchScript (``.pt``,
    ``torch.jit.load``) or ONNX (``.onnx``, onnxruntime on the CPU). The observation size the
    policy takes (235 or 48) decides whether the height scan is given. Raises
    :class:`~.controller_protocol.ControllerError` (one line) for a missing file, a file that
    is not a model, or a model with the wrong input or output size."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ControllerError(f"policy file {path} does not exist")
    if not path.lower().endswith((".pt", ".onnx")):
        raise ControllerError(f"policy file {path}: expected a .pt (TorchScript) or .onnx file")
    sha = file_sha256(path)
    fn, n_in = _load_cached(os.path.abspath(path), sha)
    fmt = "onnx" if path.lower().endswith(".onnx") else "torchscript"
    return PolicyController(fn, name=os.path.basename(path), source=os.path.abspath(path),
                            sha256=sha, obs=ObservationConfig(height_scan=n_in > N_PROPRIO),
                            extra={"format": fmt})
