"""Forward progress, stalls and failure reasons of recorded trajectories (numpy only).

A robot walks +x at its commanded speed ``command`` (m/s). A trajectory is useful only if the
robot does what its labels say, so besides falling a trajectory also fails when it *stalls*:
its forward progress over some :data:`STALL_WINDOW_S` window is below :data:`STALL_FRACTION`
of what the command asks for over that window (a robot trotting in place at the foot of a
flight of stairs). One place computes every figure that the generator, the report and the
benchmarks use.

Positions ``x`` are (N, T) arrays of the base's forward (world x) coordinate, m, sampled every
``frame_dt`` s; ``command`` is (N,) m/s.
"""

from __future__ import annotations

import numpy as np

STALL_WINDOW_S = 10.0  # s, window over which a trajectory's forward progress is judged
STALL_FRACTION = 0.25  # progress over a window below this fraction of the command's = stalled
STALLED_FRAME_WINDOW_S = 1.0  # s, window of the per-frame "stalled" measure (reports)

# why a trajectory failed, as stored in the ``failure_reason`` array (index into this tuple).
# "fell": base below the height limit or tilted past the limit; "left_terrain": walked off the
# sub-terrain grid; "unstable": a non-finite state or a respawn-like jump of over 1 m in one
# frame; "stalled": forward progress over a STALL_WINDOW_S window under STALL_FRACTION of the
# command. The first reason met wins; "stalled" is judged only for robots that did not fail
# otherwise.
FAILURE_REASONS: tuple[str, ...] = ("none", "fell", "left_terrain", "unstable", "stalled")
NONE, FELL, LEFT_TERRAIN, UNSTABLE, STALLED = range(len(FAILURE_REASONS))


def _window_frames(window_s: float, frame_dt: float) -> int:
    return max(1, int(round(window_s / frame_dt)))


def progress_ratio(x: np.ndarray, command: np.ndarray, frame_dt: float) -> np.ndarray:
    """(N,) float32: forward distance over the episode (last frame minus first, m) divided by
    the commanded distance ``command * (T - 1) * frame_dt`` m (the time between the first and
    the last frame). 1 means the robot kept its command on average."""
    x = np.asarray(x, np.float64)
    span = (x.shape[1] - 1) * frame_dt
    want = np.asarray(command, np.float64) * span
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (x[:, -1] - x[:, 0]) / want
    return out.astype(np.float32)


def window_progress(x: np.ndarray, window: int) -> np.ndarray:
    """(N, T - window) forward distance m over every ``window``-frame window
    (x[k + window] - x[k]); empty along axis 1 when the episode is not longer than the
    window."""
    x = np.asarray(x, np.float64)
    return x[:, window:] - x[:, :-window] if x.shape[1] > window else x[:, :0]


def stalled(x: np.ndarray, command: np.ndarray, frame_dt: float, *,
            window_s: float = STALL_WINDOW_S, fraction: float = STALL_FRACTION) -> np.ndarray:
    """(N,) bool: trajectories whose forward progress over some ``window_s`` s window is below
    ``fraction`` of ``command * window_s`` m. An episode that holds no whole window (at most
    ``window_s`` s long) is not judged: it never stalls (a robot starting from rest needs
    about a second to reach its command, so shorter spans would judge the start-up)."""
    x = np.asarray(x, np.float64)
    w = _window_frames(window_s, frame_dt)
    need = fraction * np.asarray(command, np.float64) * w * frame_dt
    return (window_progress(x, w) < need[:, None]).any(axis=1)


def stalled_frames(x: np.ndarray, command: np.ndarray, frame_dt: float, *,
                   window_s: float = STALLED_FRAME_WINDOW_S,
                   fraction: float = STALL_FRACTION) -> np.ndarray:
    """(N, T) bool: frames at which the robot's forward speed over the last ``window_s`` s
    (x[k] - x[k - w], w = window_s / frame_dt frames) is below ``fraction`` of its command.
    The first w frames take the first full window's value; an episode of at most w frames is
    judged over its whole length."""
    x = np.asarray(x, np.float64)
    n, t = x.shape
    w = _window_frames(window_s, frame_dt)
    cmd = np.asarray(command, np.float64)[:, None]
    if t <= w:
        speed = ((x[:, -1] - x[:, 0]) / max((t - 1) * frame_dt, frame_dt))[:, None]
        return np.broadcast_to(speed < fraction * cmd, (n, t)).copy()
    speed = (x[:, w:] - x[:, :-w]) / (w * frame_dt)  # frames w .. T-1
    speed = np.concatenate([np.repeat(speed[:, :1], w, axis=1), speed], axis=1)
    return speed < fraction * cmd


def with_stalls(reason: np.ndarray, x: np.ndarray, command: np.ndarray,
                frame_dt: float) -> np.ndarray:
    """(N,) int8 failure reasons: ``reason`` with :data:`STALLED` where it was
    :data:`NONE` and the trajectory stalled."""
    reason = np.asarray(reason, np.int8).copy()
    ok = reason == NONE
    if ok.any():
        reason[ok & stalled(x, command, frame_dt)] = STALLED
    return reason


def failure_reasons(success: np.ndarray, x: np.ndarray, command: np.ndarray, frame_dt: float,
                    reason: np.ndarray | None = None) -> np.ndarray:
    """(N,) int8 failure reason of each trajectory: for an unsuccessful one its ``reason``
    ((N,) int8, None: :data:`FELL` for all), for a successful one :data:`STALLED` where it
    stalled (:func:`stalled`), else :data:`NONE`. ``success`` (N,) bool."""
    failed_as = FELL if reason is None else np.asarray(reason, np.int8)
    base = np.where(np.asarray(success, bool), NONE, failed_as).astype(np.int8)
    return with_stalls(base, x, command, frame_dt)
