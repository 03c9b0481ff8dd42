"""Per-mouse BAMS-style input features and the mouse -> clip embedding combination.

Simplified from BAMS ``mouse_triplets.py`` (which uses polar/egocentric body features): here each
mouse's features are its 12 keypoints (x, y) divided by the arena size (850 px -> [0, 1]) and their
frame-to-frame differences (same unit per frame), 48 columns. Each mouse is a separate sequence
(BAMS models mice separately). Ignored frames follow BAMS: a frame is ignored when any keypoint's
x is 0 (missing) in it or in the previous frame (the difference is then invalid, and set to 0).

Clip embedding (BAMS): per-mouse embeddings (3, T, D) -> [mean over mice, max - min over mice]
(T, 2D) -> z-scored. BAMS z-scores each (frame index, column) over clips (``embs.mean(0)`` on
(clips, T, D)); ``zscore="frames"`` pools all frames of all clips per column instead.
"""

from __future__ import annotations

import numpy as np

from .files import ARENA_PX, N_KEYPOINTS, N_MICE

N_MOUSE_FEATURES = 4 * N_KEYPOINTS  # 24 positions + 24 differences per frame


def mouse_features(keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-mouse features of clips.

    keypoints: (N, T, 3, 12, 2) px, missing = 0.
    Returns (features (N*3, T, 48) float32, ignore (N*3, T) bool); row = clip * 3 + mouse.
    Columns: x0, y0, ..., x11, y11 (unit: arena sides), then their differences (per frame).
    """
    kp = np.asarray(keypoints, dtype=np.float32)
    if kp.ndim != 5 or kp.shape[2:] != (N_MICE, N_KEYPOINTS, 2):
        raise ValueError(f"keypoints must be (N, T, 3, 12, 2), got {kp.shape}")
    n, t = kp.shape[:2]
    kp = kp.transpose(0, 2, 1, 3, 4).reshape(n * N_MICE, t, N_KEYPOINTS, 2)
    ignore = np.any(kp[..., 0] == 0, axis=-1)
    ignore[:, 1:] |= ignore[:, :-1].copy()
    pos = kp.reshape(n * N_MICE, t, 2 * N_KEYPOINTS) / ARENA_PX
    vel = np.zeros_like(pos)
    vel[:, 1:] = pos[:, 1:] - pos[:, :-1]
    vel[ignore] = 0.0
    return np.concatenate([pos, vel], axis=-1).astype(np.float32), ignore


def combine_mice(per_mouse: np.ndarray) -> np.ndarray:
    """(N*3, T, D) or (N, 3, T, D) per-mouse embeddings -> (N, T, 2D) float32:
    [mean over mice, max - min over mice]."""
    e = np.asarray(per_mouse, dtype=np.float32)
    if e.ndim == 3:
        e = e.reshape(-1, N_MICE, *e.shape[1:])
    if e.ndim != 4 or e.shape[1] != N_MICE:
        raise ValueError(f"expected (N*3, T, D) or (N, 3, T, D), got {per_mouse.shape}")
    return np.concatenate([e.mean(1), e.max(1) - e.min(1)], axis=-1)


def zscore(emb: np.ndarray, mode: str = "clips") -> np.ndarray:
    """Z-score (N, T, D) clip embeddings (population std; a zero std leaves values centred only).

    mode "clips" (BAMS): statistics per (frame index, column) over clips; "frames": per column
    over all frames.
    """
    e = np.asarray(emb, dtype=np.float64)
    axes = {"clips": (0,), "frames": (0, 1)}.get(mode)
    if axes is None:
        raise ValueError("mode must be 'clips' or 'frames'")
    mean = e.mean(axis=axes, keepdims=True)
    std = e.std(axis=axes, keepdims=True)
    std = np.where(std > 0, std, 1.0)
    return ((e - mean) / std).astype(np.float32)


def reduce_dims(emb: np.ndarray, max_dims: int = 128) -> np.ndarray:
    """(..., D) -> (..., min(D, max_dims)) float32 by projection on the top principal axes
    (deterministic, eigen-decomposition of the float64 covariance); unchanged when D <= max_dims."""
    d = emb.shape[-1]
    if d <= max_dims:
        return np.asarray(emb, dtype=np.float32)
    flat = emb.reshape(-1, d).astype(np.float64)
    mean = flat.mean(0)
    cov = np.cov(flat - mean, rowvar=False)
    _, vecs = np.linalg.eigh(cov)
    basis = vecs[:, ::-1][:, :max_dims]
    signs = np.sign(basis[np.argmax(np.abs(basis), axis=0), np.arange(max_dims)])
    return ((flat - mean) @ (basis * signs)).reshape(*emb.shape[:-1], max_dims).astype(np.float32)
