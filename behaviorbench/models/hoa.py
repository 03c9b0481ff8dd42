"""Histogram-of-future-actions (HoA) targets and the squared earth mover's distance loss.

Targets (BAMS reference semantics):

* Each target feature is quantised into ``bins`` bins: ``bins - 1`` equally spaced edges between
  the ``low``/``high`` percentiles (default 0.5 / 99.5) of that feature's values with
  ``|x| > min_abs`` (default 0.1) over all valid frames; ``np.digitize`` gives indices
  ``0 .. bins-1`` (below the first edge -> 0, at/after the last -> bins-1).
* For frame ``t`` the target is the histogram of the bin indices of frames ``t+1 .. t+window``
  divided by ``window`` (frames past the sequence end simply do not count, so the last frames'
  histograms sum to < 1, as in the reference).
* The frame weight is the fraction of valid frames among ``t+1 .. t+window``.

This follows the BAMS paper's text (histogram of the *future* frames). The released reference
code differs (docs/models.md lists where); ``hoa_target="reference-code"`` in ``BAMSConfig``
reproduces it with :func:`reference_code_counts` and ``hoa_loss(..., reference_code=True)``.

Deviation from the reference code, on purpose: the reference also counts invalid (missing)
frames in the histogram; we leave them out (they carry no measured action). Without missing
frames both are identical. The reference's loss also applies its weights with a broadcasting
slip (``1 - weights`` tiled along the wrong axis); we implement the documented intent: weight
= fraction of valid future frames, first ``skip_frames`` frames of each sequence weight 0.

Everything here is vectorised over sequences, frames and features: the histograms come from
a cumulative sum of one-hot codes (``hist[t] = C[t+window] - C[t]``), never a Python loop
over frames. :func:`naive_histograms` is the reference-style per-item loop, kept as the
baseline for ``benchmarks/bams_train.py`` and as an independent check in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Quantizer:
    """Per-feature bin edges. ``edges`` (bins-1, F) float32; ``scale`` (F,) = max(|low|,|high|)."""

    edges: np.ndarray
    scale: np.ndarray

    @property
    def bins(self) -> int:
        return self.edges.shape[0] + 1

    @classmethod
    def fit(
        cls,
        targets: np.ndarray,
        valid: np.ndarray | None = None,
        bins: int = 32,
        low_pct: float = 0.5,
        high_pct: float = 99.5,
        min_abs: float = 0.1,
    ) -> Quantizer:
        """Fit edges on ``targets`` (N, T, F); ``valid`` (N, T) bool selects frames used."""
        if not 2 <= bins <= 255:
            raise ValueError(f"bins must be in [2, 255], got {bins}")
        n_feat = targets.shape[-1]
        flat = targets.reshape(-1, n_feat)
        if valid is not None:
            flat = flat[valid.reshape(-1)]
        edges = np.zeros((bins - 1, n_feat), dtype=np.float32)
        scale = np.ones(n_feat, dtype=np.float32)
        for i in range(n_feat):  # loop over features only (few); the work inside is vectorised
            col = flat[:, i]
            col = col[np.isfinite(col)]
            big = col[np.abs(col) > min_abs]
            if big.size == 0:  # feature never exceeds the threshold: fall back to all values
                big = col if col.size else np.zeros(1, np.float32)
            low, high = np.percentile(big, [low_pct, high_pct])
            edges[:, i] = np.linspace(low, high, bins - 1)
            s = max(abs(float(low)), abs(float(high)))
            scale[i] = s if s > 0 else 1.0
        return cls(edges=edges, scale=scale)

    def quantize(self, targets: np.ndarray) -> np.ndarray:
        """(N, T, F) float -> (N, T, F) uint8 bin indices in [0, bins-1] (NaN -> bins-1)."""
        q = np.empty(targets.shape, dtype=np.uint8)
        for i in range(targets.shape[-1]):
            q[..., i] = np.digitize(targets[..., i], self.edges[:, i])
        return q


def histogram_counts(
    q: np.ndarray, valid: np.ndarray, bins: int, window: int, chunk: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised future-action histograms.

    Args:
        q: (N, T, F) uint8 bin indices.
        valid: (N, T) bool, frames that count.
        bins: number of bins B.
        window: future window W in frames (<= 255 so counts fit uint8).

    Returns:
        counts: (N, T, F, B) uint8, ``counts[n, t, f, b]`` = number of valid frames s in
            ``t+1 .. min(t+W, T-1)`` with ``q[n, s, f] == b``. Divide by W for the target.
        weights: (N, T) float32, fraction of valid frames among the next W frames.
    """
    if window > 255:
        raise ValueError("window must be <= 255 (counts are stored as uint8)")
    n, t_len, n_feat = q.shape
    acc = np.int16 if t_len < 32_000 else np.int32  # running counts stay below t_len
    counts = np.empty((n, t_len, n_feat, bins), dtype=np.uint8)
    for s in range(0, n, chunk):  # chunk sequences to bound memory; no loop over frames
        # invalid frames go to an extra bin `bins` that is dropped, so they never count
        qs = np.where(valid[s : s + chunk, :, None], q[s : s + chunk], bins).astype(np.intp)
        cum = np.zeros((qs.shape[0], t_len + window, n_feat, bins + 1), dtype=acc)
        np.put_along_axis(cum[:, :t_len], qs[..., None], 1, axis=-1)
        np.cumsum(cum[:, :t_len], axis=1, dtype=acc, out=cum[:, :t_len])  # C[t] = sum_{s<=t}
        cum[:, t_len:] = cum[:, t_len - 1 : t_len]  # C beyond the end stays at C[T-1]
        counts[s : s + chunk] = cum[:, window:, :, :bins] - cum[:, :t_len, :, :bins]
    vcum = np.cumsum(valid.astype(np.int32), axis=1)
    end = np.minimum(np.arange(t_len) + window, t_len - 1)  # last future frame index per t
    weights = (vcum[:, end] - vcum).astype(np.float32) / window
    return counts, weights


def naive_histograms(
    q: np.ndarray, valid: np.ndarray, bins: int, window: int
) -> tuple[np.ndarray, np.ndarray]:
    """Reference-style histograms for ONE sequence, looping over the window offsets.

    q (T, F) uint8, valid (T,) bool -> (counts (T, F, B) uint8, weights (T,) float32).
    This is how the reference builds each item in ``__getitem__`` (every epoch).
    """
    t_len, n_feat = q.shape
    rows, cols = np.indices(q.shape)
    counts = np.zeros((t_len, n_feat, bins), dtype=np.uint8)
    weights = np.zeros(t_len, dtype=np.float32)
    v = valid.astype(np.uint8)
    for i in range(1, window + 1):
        if i >= t_len:
            break
        counts[rows[:-i], cols[:-i], q[i:]] += v[i:, None]  # (t, f) pairs unique per offset
        weights[:-i] += v[i:]
    return counts, weights / window


def reference_code_counts(q: np.ndarray, bins: int, window: int) -> np.ndarray:
    """The released code's histograms (``bams/data/dataset.py``, ``__getitem__``).

    Its loop ``hist[rows[:-i], cols[:-i], q[:-i]] += 1`` for ``i = 1..window`` adds, at frame
    ``t``, the bin of frame ``t`` itself (not of ``t + i``), once per offset that stays inside
    the sequence, and counts invalid frames too. So ``counts[n, t, f]`` is
    ``min(window, T-1-t)`` times the one-hot of ``q[n, t, f]``.

    q (N, T, F) uint8 bin indices -> counts (N, T, F, bins) uint8.
    """
    if window > 255:
        raise ValueError("window must be <= 255 (counts are stored as uint8)")
    n, t_len, n_feat = q.shape
    reps = np.clip(t_len - 1 - np.arange(t_len), 0, window).astype(np.uint8)  # (T,)
    counts = np.zeros((n, t_len, n_feat, bins), dtype=np.uint8)
    values = np.broadcast_to(reps[None, :, None, None], (n, t_len, n_feat, 1))
    np.put_along_axis(counts, q[..., None].astype(np.intp), values, axis=-1)
    return counts


def reference_code_weights(weights: torch.Tensor, n_features: int, skip_frames: int
                           ) -> torch.Tensor:
    """The released code's loss weights (``bams/hoa_loss.py``, ``HoALoss.forward``).

    It takes the fraction of valid future frames as "ignore" weights, sets the first
    ``skip_frames`` to 1, tiles them with ``unsqueeze(2).repeat((1, 1, n, 1))`` (along time, not
    features) and uses ``1 - ignore``: the weight of (frame t, feature f) is
    ``1 - ignore[(t * F + f) mod L]``, so with no missing frames only positions that land on
    the last ``window`` frames get weight. weights (B, L) -> (B, L, F) float32.
    """
    ignore = weights.float().clone()
    ignore[:, :skip_frames] = 1.0
    length = ignore.shape[1]
    pos = (torch.arange(length)[:, None] * n_features + torch.arange(n_features)[None, :]) % length
    return 1.0 - ignore[:, pos.to(ignore.device)]


def squared_emd(target: torch.Tensor, pred_prob: torch.Tensor) -> torch.Tensor:
    """Squared EMD between histograms along the last axis: mean_b (cumsum(t) - cumsum(p))**2."""
    diff = torch.cumsum(target, dim=-1) - torch.cumsum(pred_prob, dim=-1)
    return diff.square().mean(dim=-1)


_UPPER: dict[tuple[int, str], torch.Tensor] = {}


def squared_emd_matmul(target: torch.Tensor, pred_prob: torch.Tensor) -> torch.Tensor:
    """:func:`squared_emd` with both cumulative sums in one fp32 matmul, ``(t - p) @ U``.

    ``U`` (bins, bins) is upper-triangular ones, so column b of the product is the sum of bins
    ``0..b``: the same value up to float rounding. On the CPU ``torch.cumsum`` along a short
    last axis (and its backward, which flips the tensor twice) is several times slower than
    the matmul. (..., bins) fp32 -> (...,) fp32; autocast is off inside.
    """
    bins, device = target.shape[-1], target.device
    key = (bins, str(device))
    if key not in _UPPER:
        _UPPER[key] = torch.ones(bins, bins, device=device).triu_()
    with torch.autocast(device.type, enabled=False):
        diff = (target.float() - pred_prob.float()) @ _UPPER[key]
        return diff.square().mean(dim=-1)


def hoa_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    weights: torch.Tensor,
    skip_frames: int = 100,
    reference_code: bool = False,
    matmul_cumsum: bool = False,
) -> torch.Tensor:
    """Weighted squared-EMD HoA loss.

    Args:
        logits: (B, L, F, bins) predicted logits (softmax over bins is applied here, in fp32).
        target: (B, L, F, bins) target histograms (counts / window).
        weights: (B, L) per-frame weights (fraction of valid future frames).
        skip_frames: the first ``skip_frames`` frames of each sequence get weight 0.
        reference_code: weight (frame, feature) pairs as the released code does
            (:func:`reference_code_weights`) instead.
        matmul_cumsum: use :func:`squared_emd_matmul` (faster, same value up to rounding).

    Returns: scalar, ``sum(emd * w) / sum(w)`` averaged over features.
    """
    prob = torch.softmax(logits.float(), dim=-1)
    emd_fn = squared_emd_matmul if matmul_cumsum else squared_emd
    if reference_code:
        emd = emd_fn(target.float(), prob)  # (B, L, F)
        w = reference_code_weights(weights, emd.shape[-1], skip_frames)
        return (emd * w).sum() / w.sum().clamp_min(1e-8)
    emd = emd_fn(target.float(), prob).mean(dim=-1)  # (B, L), mean over features
    w = weights.float().clone()
    w[:, :skip_frames] = 0.0
    return (emd * w).sum() / w.sum().clamp_min(1e-8)
