"""Embed the scored frames: deterministic frame selection, batched embedding, embedding views.

- ``select_frames``: at most ``cap`` (sequence, frame) pairs of frames ``t >= skip``, drawn by
  ``numpy.random.default_rng(seed)`` independently of the model seed, so every model is scored
  on the same frames.
- ``embed_selection``: embeds the selection's sequences in batches and keeps only the selected
  frames (plus each sequence's mean over frames ``t >= skip``); memory is bounded by the caps.
  Non-finite embeddings are refused here, before any readout sees them.
- ``score_views``: the slices of one model's embedding scored as separate results (``--spaces``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Selection:
    """Scored frames of one split: sequence index and frame index per row (both (n,) int64)."""

    seq: np.ndarray
    t: np.ndarray
    n_available: int  # frames t >= skip of the split's sequences (frames)


def select_frames(
    seq_idx: np.ndarray, n_frames: int, cap: int, skip: int, seed: int
) -> Selection:
    """Deterministic subsample of the frames ``t >= skip`` of sequences ``seq_idx``.

    At most ``cap`` (seq, t) pairs drawn without replacement by ``default_rng(seed)``, sorted.
    """
    seq_idx = np.sort(np.asarray(seq_idx, dtype=np.int64))
    per = max(n_frames - skip, 0)
    total = len(seq_idx) * per
    if total <= cap:
        flat = np.arange(total, dtype=np.int64)
    else:
        flat = np.sort(np.random.default_rng(seed).choice(total, size=cap, replace=False))
    per = max(per, 1)
    return Selection(seq=seq_idx[flat // per], t=flat % per + skip, n_available=total)


@dataclass
class Embedded:
    """Embeddings of one split's selection: rows (n, D) float32 and per-sequence means."""

    rows: np.ndarray  # (n_selected, D) float32
    seq_mean: dict[int, np.ndarray]  # sequence index -> (D,) float32 mean over frames t >= skip


def embed_selection(
    embed: Callable[[np.ndarray], np.ndarray], sel: Selection, skip: int, batch: int,
    name: str = "model",
) -> Embedded:
    """Embed the sequences of ``sel`` in batches, keeping only the selected frames.

    ``embed`` maps sorted sequence indices (b,) to their embeddings (b, T, D). Raises
    ``sources.ModelProtocolError`` (one line) when D changes between batches or an embedding
    is not finite.
    """
    from .sources import ModelProtocolError

    seqs = np.unique(sel.seq)
    rows: np.ndarray | None = None
    means: dict[int, np.ndarray] = {}
    for s in range(0, len(seqs), batch):
        chunk = seqs[s : s + batch]
        z = embed(chunk)  # (b, T, D)
        if not np.isfinite(z).all():
            bad = int(chunk[np.flatnonzero(~np.isfinite(z).all(axis=(1, 2)))[0]])
            raise ModelProtocolError(f"{name}: non-finite embedding values (sequence {bad}); "
                                     f"nothing scored")
        if rows is None:
            rows = np.empty((len(sel.seq), z.shape[-1]), dtype=np.float32)
        elif z.shape[-1] != rows.shape[1]:
            raise ModelProtocolError(f"embedding size changed between batches: D = "
                                     f"{rows.shape[1]}, then {z.shape[-1]}")
        for j, q in enumerate(chunk):
            means[int(q)] = z[j, skip:].mean(axis=0)
        lo, hi = np.searchsorted(sel.seq, [chunk[0], chunk[-1] + 1])
        pos = np.searchsorted(chunk, sel.seq[lo:hi])
        rows[lo:hi] = z[pos, sel.t[lo:hi]]
    if rows is None:
        rows = np.zeros((0, 0), dtype=np.float32)
    return Embedded(rows=rows, seq_mean=means)


def model_embedder(model: Any, features: np.ndarray, name: str
                   ) -> Callable[[np.ndarray], np.ndarray]:
    """Sequence indices (b,) -> the model's checked embeddings (b, T, D) of those sequences."""
    from .sources import checked_embed

    return lambda idx: checked_embed(model, features[idx], name)


def slice_dims(emb: Embedded, dims: slice) -> Embedded:
    """The embedding dimensions ``dims`` of ``emb`` (the same object for ``slice(None)``)."""
    if dims == slice(None):
        return emb
    return Embedded(rows=np.ascontiguousarray(emb.rows[:, dims]),
                    seq_mean={k: v[dims] for k, v in emb.seq_mean.items()})


#: model name -> {view name: embedding-space name} scored from the same trained model (--spaces)
SPACE_VIEWS: dict[str, dict[str, str]] = {"bams": {"bams-short": "short", "bams-long": "long"}}


def score_views(cfg: Any, model: Any) -> dict[str, slice]:
    """{result name: embedding-dim slice}: the model itself, plus its spaces with ``spaces``."""
    from .plots import embedding_spaces

    views = {cfg.model: slice(None)}
    if cfg.spaces:
        spaces = embedding_spaces(model)
        for view, space in SPACE_VIEWS.get(cfg.model, {}).items():
            if space in spaces:
                views[view] = spaces[space]
    return views
