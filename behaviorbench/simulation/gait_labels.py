"""Gait labels derived from foot contacts: stance / swing, the phase within the stride, and the
stride frequency, per frame.

This is the one place these labels are defined. Input: ``foot_contact`` (N, T, 4) bool at
``frame_rate_hz`` (50 Hz), legs in LF, RF, LH, RH order, True where the foot touches the ground.

Definitions
-----------
* **Cleaning.** A contact run or a gap shorter than ``min_run_frames`` frames (default 2, i.e.
  under 40 ms at 50 Hz) is contact chatter, not a step: it is merged into the surrounding state
  (gaps first, then runs). Stance is the cleaned contact.
* **Stride.** A leg's stride runs from one touchdown (a swing -> stance transition) to its next.
  Strides longer than ``max_stride_s`` (default 2 s) are a standing leg, not a stride.
* **Phase** (N, T, 4) float32 in [0, 1): ``(t - touchdown) / stride length`` within a stride, 0 at
  touchdown; NaN outside any stride (before a leg's first touchdown, after its last, during a
  stride too long to count).
* **Stride frequency** (N, T) float32 Hz: the mean over legs of 1 / stride duration, over the legs
  that are inside a stride at that frame; NaN where none is.
"""

from __future__ import annotations

import numpy as np

LEG_ORDER: tuple[str, ...] = ("LF", "RF", "LH", "RH")
FRAME_RATE_HZ = 50.0     # Hz, the dataset's frame rate
MIN_RUN_FRAMES = 2       # frames; shorter contact runs or gaps are chatter (40 ms at 50 Hz)
MAX_STRIDE_S = 2.0       # s; a longer touchdown-to-touchdown interval is a standing leg


def _runs(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run-length encoding of a 1-D bool array: (starts, lengths, values)."""
    change = np.flatnonzero(x[1:] != x[:-1]) + 1
    starts = np.concatenate([[0], change])
    lengths = np.diff(np.concatenate([starts, [x.size]]))
    return starts, lengths, x[starts]


def _merge_short(x: np.ndarray, value: bool, min_run: int) -> np.ndarray:
    """Turn interior runs of ``value`` shorter than ``min_run`` into the opposite state."""
    starts, lengths, values = _runs(x)
    out = x.copy()
    for s, n, v in zip(starts, lengths, values, strict=True):
        interior = s > 0 and s + n < x.size
        if v == value and n < min_run and interior:
            out[s:s + n] = not value
    return out


def clean_contacts(foot_contact: np.ndarray, min_run_frames: int = MIN_RUN_FRAMES) -> np.ndarray:
    """(N, T, 4) bool -> (N, T, 4) bool stance, with chatter merged (gaps, then runs)."""
    c = np.asarray(foot_contact, dtype=bool)
    if c.ndim != 3 or c.shape[-1] != 4:
        raise ValueError(f"foot_contact must be (N, T, 4) bool, got shape {c.shape}")
    out = c.copy()
    if min_run_frames <= 1:
        return out
    for i in range(c.shape[0]):
        for leg in range(4):
            x = _merge_short(c[i, :, leg], False, min_run_frames)
            out[i, :, leg] = _merge_short(x, True, min_run_frames)
    return out


def gait_labels(foot_contact: np.ndarray, frame_rate_hz: float = FRAME_RATE_HZ, *,
                min_run_frames: int = MIN_RUN_FRAMES,
                max_stride_s: float = MAX_STRIDE_S) -> dict[str, np.ndarray]:
    """Per-frame gait labels from foot contacts (see the module docstring).

    Returns ``stance`` (N, T, 4) bool, ``phase`` (N, T, 4) float32 in [0, 1) or NaN, and
    ``stride_frequency`` (N, T) float32 Hz or NaN."""
    if frame_rate_hz <= 0 or max_stride_s <= 0:
        raise ValueError("frame_rate_hz and max_stride_s must be positive")
    stance = clean_contacts(foot_contact, min_run_frames)
    n, t, _ = stance.shape
    phase = np.full((n, t, 4), np.nan, dtype=np.float32)
    freq_sum = np.zeros((n, t), dtype=np.float64)
    freq_count = np.zeros((n, t), dtype=np.int32)
    max_len = max_stride_s * frame_rate_hz
    for i in range(n):
        for leg in range(4):
            x = stance[i, :, leg]
            touchdowns = np.flatnonzero(x[1:] & ~x[:-1]) + 1
            for a, b in zip(touchdowns[:-1], touchdowns[1:], strict=True):
                length = b - a
                if length > max_len:
                    continue
                phase[i, a:b, leg] = np.arange(length, dtype=np.float64) / length
                freq_sum[i, a:b] += frame_rate_hz / length
                freq_count[i, a:b] += 1
    freq = np.full((n, t), np.nan, dtype=np.float32)
    has = freq_count > 0
    freq[has] = (freq_sum[has] / freq_count[has]).astype(np.float32)
    return {"stance": stance, "phase": phase, "stride_frequency": freq}


def phase_to_sin_cos(phase: np.ndarray) -> np.ndarray:
    """(..., 4) phase in [0, 1) -> (..., 8) float32: sin then cos of 2 pi phase per leg (NaN
    stays NaN): the regression target of the stride-phase task, continuous across 1 -> 0."""
    ang = 2.0 * np.pi * np.asarray(phase, dtype=np.float64)
    return np.concatenate([np.sin(ang), np.cos(ang)], axis=-1).astype(np.float32)
