"""The trot controller (:mod:`behaviorbench.simulation.controller`) on torch tensors, for batched
GPU simulation (:mod:`.warp_backend`, :mod:`.isaacgym_backend`).

There is one controller: :class:`~behaviorbench.simulation.controller.TrotController` is written
against an array namespace (:mod:`.array_ops`). This module provides the torch namespace
(:class:`TorchOps`: numpy's names on tensors of one dtype and device), the terrain height on
tensors (:class:`TorchHeightField`) and :class:`TrotController` / :class:`LegModel` bound to
torch. ``tests/simulation/test_controller_torch.py`` checks that in float64 on the CPU the
controller gives the same outputs, gains and state (to ~1e-9) on tensors as on numpy arrays.

With tensors the controller has no data-dependent Python branch (``TorchOps.sync_free``):
footholds, stairs searches and edge checks are computed for every robot and foot and kept by
mask, so a tick never waits for the device. The working dtype is float64 (parity) or float32
(speed on a GPU); the gait clock is float64 either way.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from types import SimpleNamespace

import numpy as np
import torch

from . import controller as _controller
from .controller import (  # noqa: F401  (re-exported: the names the torch backends import)
    CLOCK_FIELDS,
    GRAVITY,
    STATE_FIELDS,
    ControllerConfig,
    configure_servos,
    flat_ground,
    quat_to_mat,
    rpy_from_mat,
    rpy_to_mat,
    stance_fraction,
    trot_period,
)
from .gait import gait_phase, smoothstep, swing_position  # noqa: F401  (re-exported)
from .robots import RobotSpec
from .terrain import Terrain

TorchHeightFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


# ----------------------------------------------------------------------------- namespace
def _elementwise_bound(op, bound: str):
    """``np.maximum`` / ``np.minimum`` on tensors (``op``), either side possibly a Python
    number (then ``torch.clamp(tensor, **{bound: number})``, which needs no tensor of it)."""
    def f(a, b):
        if not isinstance(a, torch.Tensor):
            a, b = b, a
        return op(a, b) if isinstance(b, torch.Tensor) else torch.clamp(a, **{bound: b})
    return staticmethod(f)


class TorchOps:
    """The array namespace of :mod:`.array_ops` on torch tensors: numpy's names and signatures
    (``axis``, ``keepdims``), new arrays in ``float`` (``dtype``: float64 or float32) on
    ``device``, the gait clock in float64. Only what the controller calls. Get one with
    :func:`torch_ops` (cached per dtype and device)."""

    name = "torch"
    sync_free = True        # no data-dependent branches or shapes (no host sync in a tick)
    clock = torch.float64   # the gait clock's dtype
    bool = torch.bool

    def __init__(self, dtype: torch.dtype = torch.float64,
                 device: torch.device | str | None = None):
        self.float = dtype
        self.device = torch.device(device or "cpu")
        self.linalg = SimpleNamespace(solve=torch.linalg.solve, inv=torch.linalg.inv,
                                      norm=self._norm)

    # --- conversion and creation
    def _as(self, a, dtype: torch.dtype) -> torch.Tensor:
        if isinstance(a, torch.Tensor):
            return a.to(dtype=dtype, device=self.device)
        return torch.as_tensor(np.asarray(a), device=self.device).to(dtype)

    def asarray(self, a) -> torch.Tensor:
        """Array, tensor or sequence -> tensor of the working dtype on the device."""
        return self._as(a, self.float)

    def asclock(self, a) -> torch.Tensor:
        """-> float64 tensor on the device (the gait clock's dtype)."""
        return self._as(a, torch.float64)

    def asbool(self, a) -> torch.Tensor:
        """-> bool tensor on the device."""
        return self._as(a, torch.bool)

    def zeros(self, shape, dtype=None) -> torch.Tensor:
        return torch.zeros(shape, dtype=dtype or self.float, device=self.device)

    def ones(self, shape, dtype=None) -> torch.Tensor:
        return torch.ones(shape, dtype=dtype or self.float, device=self.device)

    def empty(self, shape, dtype=None) -> torch.Tensor:
        return torch.empty(shape, dtype=dtype or self.float, device=self.device)

    def full(self, shape, value, dtype=None) -> torch.Tensor:
        return torch.full(shape, value, dtype=dtype or self.float, device=self.device)

    def eye(self, k: int) -> torch.Tensor:
        return torch.eye(k, dtype=self.float, device=self.device)

    zeros_like = staticmethod(torch.zeros_like)
    ones_like = staticmethod(torch.ones_like)

    @staticmethod
    def copy(a: torch.Tensor) -> torch.Tensor:
        return a.clone()

    # --- elementwise (Python numbers allowed where numpy allows them)
    def where(self, cond, a, b) -> torch.Tensor:
        if not isinstance(a, torch.Tensor) and not isinstance(b, torch.Tensor):
            a = torch.full((), a, dtype=self.float, device=self.device)
        return torch.where(cond, a, b)

    maximum = _elementwise_bound(torch.maximum, "min")
    minimum = _elementwise_bound(torch.minimum, "max")

    def clamp(self, x, lo, hi) -> torch.Tensor:
        if isinstance(lo, torch.Tensor) or isinstance(hi, torch.Tensor):
            return self.minimum(self.maximum(x, lo), hi)
        return torch.clamp(x, lo, hi)

    abs = staticmethod(torch.abs)
    sqrt = staticmethod(torch.sqrt)
    sin = staticmethod(torch.sin)
    cos = staticmethod(torch.cos)
    arctan = staticmethod(torch.atan)
    arctan2 = staticmethod(torch.atan2)
    arcsin = staticmethod(torch.asin)
    isfinite = staticmethod(torch.isfinite)
    einsum = staticmethod(torch.einsum)

    # --- reductions, scans
    @staticmethod
    def max(a, axis=None) -> torch.Tensor:
        return torch.amax(a, dim=axis)

    @staticmethod
    def cummax(a, axis) -> torch.Tensor:
        return torch.cummax(a, dim=axis).values

    @staticmethod
    def argmax(a, axis=None) -> torch.Tensor:
        """Index of the first maximum (bool: the first True, 0 if none)."""
        return torch.argmax(a.to(torch.uint8) if a.dtype == torch.bool else a, dim=axis)

    @staticmethod
    def trace(a, axis1=0, axis2=1) -> torch.Tensor:
        return torch.diagonal(a, dim1=axis1, dim2=axis2).sum(-1)

    @staticmethod
    def _norm(a, axis=None, keepdims=False) -> torch.Tensor:
        return torch.linalg.norm(a, dim=axis, keepdim=keepdims)

    # --- shapes
    @staticmethod
    def stack(arrays, axis=0) -> torch.Tensor:
        return torch.stack(list(arrays), dim=axis)

    @staticmethod
    def concatenate(arrays, axis=0) -> torch.Tensor:
        return torch.cat(list(arrays), dim=axis)

    @staticmethod
    def broadcast_to(a, shape) -> torch.Tensor:
        return a.expand(shape)

    broadcast_arrays = staticmethod(torch.broadcast_tensors)
    broadcast_shapes = staticmethod(torch.broadcast_shapes)

    @staticmethod
    def repeat(a, repeats: int, axis: int) -> torch.Tensor:
        return torch.repeat_interleave(a, repeats, dim=axis)

    @staticmethod
    def take_along_axis(a, indices, axis: int) -> torch.Tensor:
        return torch.gather(a, axis, indices)

    @staticmethod
    def diff(a, axis=-1) -> torch.Tensor:
        return torch.diff(a, dim=axis)


@cache
def _ops(dtype: torch.dtype, device: torch.device) -> TorchOps:
    return TorchOps(dtype, device)


def torch_ops(dtype: torch.dtype = torch.float64,
              device: torch.device | str | None = None) -> TorchOps:
    """The (cached) :class:`TorchOps` of ``dtype`` on ``device`` (default the CPU)."""
    return _ops(dtype, torch.device(device or "cpu"))


# ----------------------------------------------------------------------------- terrain
class TorchHeightField:
    """:meth:`Terrain.height_at` on tensors (bilinear; cells flat at their lowest corner in
    vertical-wall regions): height (m) at world points ``x``, ``y``
    (tensors of one shape, m) of the terrain's samples; points outside the field are clamped
    to its edge. Returns a tensor of ``x``'s shape in ``dtype``.

    ``heights`` (nx, ny) float32 m become ``dtype`` on ``device`` (exact for float64)."""

    def __init__(self, terrain: Terrain, dtype: torch.dtype = torch.float64,
                 device: torch.device | str | None = None):
        self.heights = torch.as_tensor(terrain.heights, device=device).to(dtype)
        self.nx, self.ny = terrain.heights.shape
        self.flat = self.heights.reshape(-1)
        self.hs = float(terrain.horizontal_scale)
        self.origin = tuple(float(v) for v in terrain.origin)  # (2,) m
        self.wall_cells = None if terrain.wall_cells is None else (  # flat at lowest corner
            torch.as_tensor(terrain.wall_cells, device=device).reshape(-1))

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        hs, nx, ny = self.hs, self.nx, self.ny
        if x.shape != y.shape:
            x, y = torch.broadcast_tensors(x, y)
        fx = torch.clamp((x - self.origin[0]) / hs, 0, nx - 1)
        fy = torch.clamp((y - self.origin[1]) / hs, 0, ny - 1)
        # the lower bound only matters for NaN points (floor -> INT64_MIN): they get NaN
        i0 = torch.clamp(torch.floor(fx).long(), 0, nx - 2)
        j0 = torch.clamp(torch.floor(fy).long(), 0, ny - 2)
        tx, ty = fx - i0.to(fx.dtype), fy - j0.to(fy.dtype)
        h, k = self.flat, i0 * ny + j0
        c00, c10, c01, c11 = h[k], h[k + ny], h[k + 1], h[k + ny + 1]
        z = ((1 - tx) * (1 - ty) * c00 + tx * (1 - ty) * c10
             + (1 - tx) * ty * c01 + tx * ty * c11)
        if self.wall_cells is None:
            return z
        lo = torch.minimum(torch.minimum(c00, c10), torch.minimum(c01, c11))
        return torch.where(self.wall_cells[i0 * (ny - 1) + j0], lo, z)


# ----------------------------------------------------------------------------- controller
class LegModel(_controller.LegModel):
    """:class:`behaviorbench.simulation.controller.LegModel` on tensors of ``dtype`` on
    ``device``."""

    def __init__(self, robot: RobotSpec, dtype: torch.dtype = torch.float64,
                 device: torch.device | str | None = None):
        super().__init__(robot, torch_ops(dtype, device))


class TrotController(_controller.TrotController):
    """:class:`behaviorbench.simulation.controller.TrotController` on torch tensors.

    Args as the numpy controller's (``command_vel`` (n,) m/s and ``added_mass`` (n,) kg may be
    arrays or tensors; ``height_fn`` on tensors, e.g. :class:`TorchHeightField`, default a flat
    floor), and:
        dtype: ``torch.float64`` (parity with numpy) or ``torch.float32`` (speed); the gait
            clock is float64 either way.
        device: where every tensor lives (``"cpu"``, ``"cuda:0"``...).

    Inputs and outputs of :meth:`__call__` are tensors of ``dtype`` on ``device``.
    """

    def __init__(self, robot: str | RobotSpec, command_vel, height_fn: TorchHeightFn = flat_ground,
                 added_mass=None, config: ControllerConfig | None = None, *,
                 dtype: torch.dtype = torch.float64,
                 device: torch.device | str | None = None):
        xp = torch_ops(dtype, device)
        super().__init__(robot, command_vel, height_fn, added_mass, config, xp=xp)
        self.dtype, self.device = dtype, xp.device
