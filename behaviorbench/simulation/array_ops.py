"""Array namespaces the trot controller is written against: numpy on the CPU, torch elsewhere.

:mod:`.controller` calls array functions through a namespace ``xp`` with numpy's names and
signatures (``xp.where``, ``xp.einsum``, ``xp.linalg.solve``...), plus a few of its own:

* :data:`NUMPY`: numpy's own functions (``NUMPY.where is np.where``), so that the CPU
  controller runs exactly the numpy calls, in the same order, that a numpy-only controller would
  (the same bits, no wrapper layer); float64 throughout.
* :class:`~behaviorbench.simulation.controller_torch.TorchOps`: the same names on torch tensors
  of one dtype (float64 or float32) and device, for the GPU backends. Imported only when a
  tensor arrives (:func:`namespace`), so the numpy path never imports torch.

Names beyond numpy's, on both namespaces:

* ``sync_free``: False for numpy, whose controller may branch on data (footholds computed only
  for the robots lifting a foot this tick); True for torch, whose controller computes every
  robot and foot and keeps results by mask, so that a tick never waits for the device.
* ``float`` / ``clock``: the working float dtype (numpy float64; torch float64 or float32) and
  the gait clock's (always float64: a float32 clock summed over thousands of ticks drifts);
  ``bool``: the boolean dtype.
* ``asarray(a)`` / ``asclock(a)`` / ``asbool(a)``: array, tensor or sequence -> the working
  float / clock / bool dtype (numpy: ``np.asarray``, no copy when it already is one).
* ``clamp(x, lo, hi)``: ``np.clip`` without its Python layers; ``max(a, axis)`` /
  ``cummax(a, axis)``: maximum over / running maximum along an axis (``np.maximum.reduce`` /
  ``.accumulate``); ``copy(a)``; ``trace(a, axis1, axis2)``.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np


def clamp(x, lo, hi) -> np.ndarray:
    """``np.clip(x, lo, hi)``, the same numbers, without np.clip's Python layers (the
    controller calls it dozens of times per tick on small arrays)."""
    return np.minimum(np.maximum(x, lo), hi)


def _asfloat(a) -> np.ndarray:
    """``a`` as a float64 array (no copy if it is one)."""
    return np.asarray(a, dtype=np.float64)


#: numpy (float64) as the controller's array namespace: numpy's functions themselves
NUMPY = SimpleNamespace(
    name="numpy", sync_free=False, float=np.float64, clock=np.float64, bool=bool,
    asarray=_asfloat, asclock=_asfloat, asbool=lambda a: np.asarray(a, dtype=bool),
    copy=np.ndarray.copy, zeros=np.zeros, ones=np.ones, empty=np.empty, full=np.full,
    eye=np.eye, zeros_like=np.zeros_like, ones_like=np.ones_like,
    where=np.where, maximum=np.maximum, minimum=np.minimum, clamp=clamp, abs=np.abs,
    sqrt=np.sqrt, sin=np.sin, cos=np.cos, arctan=np.arctan, arctan2=np.arctan2,
    arcsin=np.arcsin, isfinite=np.isfinite,
    max=np.maximum.reduce, cummax=np.maximum.accumulate, argmax=np.argmax, trace=np.trace,
    stack=np.stack, concatenate=np.concatenate, broadcast_to=np.broadcast_to,
    broadcast_arrays=np.broadcast_arrays, broadcast_shapes=np.broadcast_shapes,
    repeat=np.repeat, take_along_axis=np.take_along_axis, diff=np.diff,
    einsum=np.einsum, linalg=np.linalg,
)


def namespace(a):
    """The array namespace of ``a``: :data:`NUMPY` for numpy arrays (and anything that is not
    a torch tensor), else the torch namespace of the tensor's dtype and device."""
    if isinstance(a, np.ndarray) or type(a).__module__ != "torch":
        return NUMPY
    from .controller_torch import torch_ops

    return torch_ops(a.dtype, a.device)
