"""MABe 2022 submission files.

Layout: ``{'frame_number_map': {clip_id: (start, end)}, 'embeddings': (n, d)}``.

Rules (official ``validate_submission``): a dict; the frame map identical to the official one (every
clip, same (start, end)); ``embeddings`` a 2-D ``np.ndarray`` of float32 with at most 128 columns
(flies: 256), one row per frame (sum of clip lengths = 6,724,800 for the official mouse set), no
NaN/Inf. Each ``(start, end)`` must span the clip's length.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .files import load_pickled_dict, normalise_frame_map

MAX_DIMS_MOUSE = 128  # max embedding columns (mice)


class SubmissionError(ValueError):
    """A submission that the official evaluator would reject (the message says why)."""


def make_submission(frame_number_map: dict, embeddings: np.ndarray) -> dict:
    """Build a submission dict; ``embeddings`` (n_frames, d) is cast to float32 (C order)."""
    return {
        "frame_number_map": normalise_frame_map(frame_number_map),
        "embeddings": np.ascontiguousarray(embeddings, dtype=np.float32),
    }


def validate_submission(
    submission, frame_number_map: dict, clip_lengths: dict | None = None,
    max_dims: int = MAX_DIMS_MOUSE,
) -> None:  # fmt: skip
    """Raise :class:`SubmissionError` unless ``submission`` passes the official checks.

    ``frame_number_map``: the official map (or the labels file's); ``clip_lengths``:
    ``{clip_id: n_frames}`` (default: derived from the map).
    """
    if not isinstance(submission, dict):
        raise SubmissionError(f"submission must be a dict, got {type(submission).__name__}")
    if "frame_number_map" not in submission:
        raise SubmissionError("submission lacks 'frame_number_map'")
    if "embeddings" not in submission:
        raise SubmissionError("submission lacks 'embeddings'")
    sub_map = submission["frame_number_map"]
    ref = normalise_frame_map(frame_number_map)
    for cid, (s, e) in ref.items():
        if cid not in sub_map:
            raise SubmissionError(f"frame_number_map lacks clip {cid!r}")
        sv = sub_map[cid]
        if len(sv) != 2 or (int(sv[0]), int(sv[1])) != (s, e):
            raise SubmissionError(
                f"frame_number_map[{cid!r}] = {tuple(sv)} but the official map says {(s, e)}; "
                "it must be exactly the provided map"
            )
    emb = submission["embeddings"]
    if not isinstance(emb, np.ndarray):
        raise SubmissionError(f"embeddings must be a numpy array, got {type(emb).__name__}")
    if emb.ndim != 2:
        raise SubmissionError(f"embeddings must be 2-D (frames, dims), got shape {emb.shape}")
    if emb.shape[1] > max_dims:
        raise SubmissionError(f"embeddings have {emb.shape[1]} columns; at most {max_dims} allowed")
    if emb.dtype != np.float32:
        raise SubmissionError(f"embeddings must be float32, got {emb.dtype}")
    lengths = clip_lengths or {c: e - s for c, (s, e) in ref.items()}
    total = 0
    for cid, n in lengths.items():
        s, e = ref[cid] if cid in ref else sub_map[cid]
        if e - s != int(n):
            raise SubmissionError(f"clip {cid!r} spans {e - s} frames but its length is {n}")
        total += int(n)
    if emb.shape[0] != total:
        raise SubmissionError(
            f"embeddings have {emb.shape[0]} rows; the clips total {total} frames"
        )
    if not np.isfinite(emb).all():
        bad = int(np.count_nonzero(~np.isfinite(emb).all(axis=1)))
        raise SubmissionError(f"embeddings contain NaN or Inf ({bad} rows)")


def save_submission(path: str | Path, submission: dict) -> Path:
    """``np.save`` the dict (pickled, as the official format). Returns the path written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, submission, allow_pickle=True)
    return path if path.suffix == ".npy" else path.with_suffix(path.suffix + ".npy")


def load_submission(path: str | Path) -> dict:
    """Load a submission file (pickled dict inside ``.npy``; only load files you trust)."""
    return load_pickled_dict(path, error=SubmissionError)
