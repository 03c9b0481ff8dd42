"""Sampling a terrain height map at world points: a compiled kernel (numba) and its numpy twin.

The controllers sample the map about ten times per control tick (footholds, leg clearance,
the ground plane, the stairs look-ahead), a few thousand points per call at the default batch of
32 robots. numpy's answer costs about twenty array passes and their Python calls; the numba
kernel makes one pass, without the GIL (``nogil``), so :func:`simulate`'s worker threads overlap
it. Both compute the same IEEE operations in the same order (no fused multiply-adds, no
reassociation): their results are equal bit for bit, which ``tests/simulation/
test_height_sampling.py`` checks. Without numba installed, :func:`sample_heights` falls back
to numpy.

The kernel compiles on its first call in a new install (about 0.4 s) and is cached like
bytecode, in ``__pycache__`` beside this module (or where ``NUMBA_CACHE_DIR`` points), so
later processes, the generator's pool workers included, load it instead.

The map: ``flat_heights`` (nx * ny,) float64 m, sample ``[ix, iy]`` at flat index ``ix * ny +
iy`` and world ``(origin + ix * hs, origin + iy * hs)``; ``flat_walls`` (``(nx - 1) * (ny - 1)``,)
bool or None: cells that are flat at their lowest corner (vertical walls), cell ``[i, j]`` at
flat index ``i * (ny - 1) + j``.
"""

from __future__ import annotations

import os

import numpy as np

try:  # the compiled kernel is optional; numpy gives the same numbers, slower
    import numba
except ImportError:  # pragma: no cover - numba is a dependency; this is for bare installs
    numba = None

# BEHAVIORBENCH_NUMBA=0 forces the numpy path (for comparisons; results are the same)
USE_NUMBA = numba is not None and os.environ.get("BEHAVIORBENCH_NUMBA", "1") != "0"


def bilinear_numpy(flat_heights: np.ndarray, flat_walls: np.ndarray | None, nx: int, ny: int,
                   fx: np.ndarray, fy: np.ndarray) -> np.ndarray:
    """Heights (m, float64, the shape of ``fx``) at fractional sample indices ``fx``, ``fy``
    (float64, equal shapes, within [0, nx - 1] x [0, ny - 1]); numpy."""
    i0 = np.minimum(fx.astype(np.int64), nx - 2)   # floor (indices are >= 0)
    j0 = np.minimum(fy.astype(np.int64), ny - 2)
    tx, ty = fx - i0, fy - j0
    h = flat_heights
    k = i0 * ny + j0                               # flat index of corner [i0, j0]
    c00 = h.take(k)
    k += ny
    c10 = h.take(k)
    k += 1
    c11 = h.take(k)
    k -= ny
    c01 = h.take(k)
    ux, uy = 1 - tx, 1 - ty
    # (1 - tx)(1 - ty) c00 + tx (1 - ty) c10 + (1 - tx) ty c01 + tx ty c11, in that order
    z = ux * uy
    z *= c00
    w = tx * uy
    w *= c10
    z += w
    w = ux * ty
    w *= c01
    z += w
    w = tx * ty
    w *= c11
    z += w
    if flat_walls is None:
        return z
    k -= i0 + 1                                    # flat index of cell [i0, j0]
    wall = flat_walls.take(k)
    if not wall.any():
        return z
    lo = np.minimum(np.minimum(c00, c10), np.minimum(c01, c11))
    return np.where(wall, lo, z)


def heights_numpy(flat_heights: np.ndarray, flat_walls: np.ndarray | None, nx: int, ny: int,
                  origin: float, hs: float, x, y) -> np.ndarray:
    """Heights (m, float64) at world points ``x``, ``y`` (m, broadcastable); points outside
    the field are clamped to its edge. numpy."""
    # np.minimum(np.maximum()) is np.clip without its Python layers (called every tick)
    fx = np.minimum(np.maximum((np.asarray(x, dtype=np.float64) - origin) / hs, 0), nx - 1)
    fy = np.minimum(np.maximum((np.asarray(y, dtype=np.float64) - origin) / hs, 0), ny - 1)
    if fx.shape != fy.shape:
        fx, fy = np.broadcast_arrays(fx, fy)
    return bilinear_numpy(flat_heights, flat_walls, nx, ny, fx, fy)


if numba is not None:
    @numba.njit(cache=True, nogil=True)
    def _heights_kernel(x, y, origin, hs, flat_heights, flat_walls, nx, ny, out):
        """``out[i]`` = the height at (x[i], y[i]); all 1-d, float64 (``flat_walls`` bool, empty
        for none). Same operations, in the same order, as :func:`heights_numpy`; NaN
        coordinates give NaN."""
        walls = flat_walls.size > 0
        for i in range(x.size):
            fx = (x[i] - origin) / hs
            fy = (y[i] - origin) / hs
            if fx != fx or fy != fy:
                out[i] = np.nan
                continue
            fx = min(max(fx, 0.0), nx - 1.0)
            fy = min(max(fy, 0.0), ny - 1.0)
            i0 = min(int(fx), nx - 2)
            j0 = min(int(fy), ny - 2)
            tx = fx - i0
            ty = fy - j0
            k = i0 * ny + j0
            c00 = flat_heights[k]
            c10 = flat_heights[k + ny]
            c11 = flat_heights[k + ny + 1]
            c01 = flat_heights[k + 1]
            if walls and flat_walls[k - i0]:
                out[i] = min(min(c00, c10), min(c01, c11))
                continue
            ux = 1.0 - tx
            uy = 1.0 - ty
            z = ux * uy
            z *= c00
            w = tx * uy
            w *= c10
            z += w
            w = ux * ty
            w *= c01
            z += w
            w = tx * ty
            w *= c11
            z += w
            out[i] = z

_NO_WALLS = np.zeros(0, dtype=bool)


def sample_heights(flat_heights: np.ndarray, flat_walls: np.ndarray | None, nx: int, ny: int,
                   origin: float, hs: float, x, y) -> np.ndarray:
    """Heights (m, float64, the broadcast shape of ``x`` and ``y``) at world points ``x``, ``y``
    (m); points outside the field are clamped to its edge. Bilinear between samples; cells in
    ``flat_walls`` are flat at their lowest corner. The numba kernel where numba is installed,
    else numpy: the same bits either way (except at NaN coordinates, where the kernel gives
    NaN and numpy's indexing raises IndexError)."""
    if not USE_NUMBA:
        return heights_numpy(flat_heights, flat_walls, nx, ny, origin, hs, x, y)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        x, y = np.broadcast_arrays(x, y)
    shape = x.shape
    out = np.empty(shape)
    _heights_kernel(np.ascontiguousarray(x).reshape(-1), np.ascontiguousarray(y).reshape(-1),
                    float(origin), float(hs), flat_heights,
                    _NO_WALLS if flat_walls is None else flat_walls, nx, ny, out.reshape(-1))
    return out
