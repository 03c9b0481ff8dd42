"""Glue: any registry model -> MABe 2022 submission -> official scores.

A model follows the models interface (``fit(data) -> self`` with ``data`` an (N, T, F) float32
array or an object with ``.features`` (and ``.valid_mask``), ``embed(x) -> (N, T, D)``). Each mouse
is one sequence of :func:`.features.mouse_features`; per-mouse embeddings are combined per clip
([mean, max - min] over mice), z-scored and, if wider than 128, projected to 128 columns.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from .evaluator import EvaluatorConfig, evaluate_submission
from .features import combine_mice, mouse_features, reduce_dims, zscore
from .files import find_mabe_files, load_keypoints, load_labels
from .protocol import TasksInfo, load_split, load_tasks
from .submission import MAX_DIMS_MOUSE, make_submission, save_submission


@dataclasses.dataclass
class MouseSequences:
    """Per-mouse model input: ``features`` (N*3, T, 48) float32, ``valid_mask`` (N*3, T) bool."""

    features: np.ndarray
    valid_mask: np.ndarray


def mouse_sequences(keypoints_dict: dict[str, np.ndarray], clip_ids=None) -> MouseSequences:
    """Stack clips ``{clip_id: (T, 3, 12, 2)}`` (order ``clip_ids``) into per-mouse sequences."""
    ids = list(keypoints_dict) if clip_ids is None else list(clip_ids)
    feats, ignore = mouse_features(np.stack([keypoints_dict[c] for c in ids]))
    return MouseSequences(features=feats, valid_mask=~ignore)


def embed_mabe(
    model, keypoints_dict: dict[str, np.ndarray], *, frame_number_map: dict | None = None,
    batch_clips: int = 32, zscore_mode: str = "clips", max_dims: int = MAX_DIMS_MOUSE,
) -> dict:  # fmt: skip
    """Embed clips with a fitted ``model``; return a submission dict.

    keypoints_dict: ``{clip_id: (T, 3, 12, 2)}`` px (missing = 0). frame_number_map: rows of each
    clip in the submission (default: clips in dict order, contiguous). Returns
    ``{'frame_number_map', 'embeddings': (n_frames, <= max_dims) float32}``.
    """
    if frame_number_map is None:
        frame_number_map, start = {}, 0
        for cid, kp in keypoints_dict.items():
            frame_number_map[cid] = (start, start + kp.shape[0])
            start += kp.shape[0]
    order = sorted(frame_number_map, key=lambda c: frame_number_map[c][0])
    missing = [c for c in order if c not in keypoints_dict]
    if missing:
        raise KeyError(
            f"{len(missing)} clips of the frame map have no keypoints, e.g. {missing[0]}"
        )
    clip_emb = []
    for lo in range(0, len(order), batch_clips):
        ids = order[lo : lo + batch_clips]
        seqs = mouse_sequences(keypoints_dict, ids)
        z = np.asarray(model.embed(seqs.features), dtype=np.float32)
        if z.ndim != 3 or z.shape[:2] != seqs.features.shape[:2]:
            raise ValueError(f"model.embed returned {z.shape}, want (N, T, D) = "
                             f"{seqs.features.shape[:2]} + (D,)")  # fmt: skip
        clip_emb.append(combine_mice(z))
    emb = reduce_dims(zscore(np.concatenate(clip_emb), zscore_mode), max_dims)
    n_frames = max(e for _, e in frame_number_map.values())
    out = np.zeros((n_frames, emb.shape[-1]), dtype=np.float32)
    for k, cid in enumerate(order):
        s, e = frame_number_map[cid]
        out[s:e] = emb[k, : e - s]
    return make_submission(frame_number_map, out)


def _as_split(split):
    return load_split(split) if isinstance(split, (str, Path)) else split


def _as_tasks(tasks):
    if tasks is None or isinstance(tasks, TasksInfo):
        return tasks
    return load_tasks(tasks)


def run_mabe_benchmark(
    model, data_dir, *, split=None, tasks=None, out_dir, fit: bool = True,
    config: EvaluatorConfig | None = None,
) -> dict:  # fmt: skip
    """Fit ``model`` on the per-mouse keypoint sequences, embed the test clips, evaluate.

    data_dir: folder with the official files (either naming scheme; test keypoints and labels
    required, the train file is used for fitting when present, like BAMS). split / tasks: paths
    or loaded objects (None -> our fallback split, marked unofficial / the published tasks).
    fit: False to use an already fitted model. Writes ``submission.npy``, ``results.csv`` and
    ``results.json`` to out_dir; returns the results dict plus ``paths`` and ``timings_s``
    (fit / embed / evaluate wall seconds).
    """
    files = find_mabe_files(data_dir)
    for kind in ("test", "labels"):
        if kind not in files:
            raise FileNotFoundError(f"no {kind} file in {data_dir} (see behaviorbench.benchmark."
                                    "mabe.files.FILE_NAMES)")  # fmt: skip
    test = load_keypoints(files["test"])
    labels = load_labels(files["labels"])
    t0 = time.perf_counter()
    if fit:
        seqs = [mouse_sequences(test.sequences)]
        if "train" in files:
            seqs.insert(0, mouse_sequences(load_keypoints(files["train"]).sequences))
        model.fit(MouseSequences(
            features=np.concatenate([s.features for s in seqs]),
            valid_mask=np.concatenate([s.valid_mask for s in seqs]),
        ))  # fmt: skip
    t1 = time.perf_counter()
    sub = embed_mabe(model, test.sequences, frame_number_map=labels.frame_number_map)
    t2 = time.perf_counter()
    res = evaluate_submission(sub, labels, _as_split(split), _as_tasks(tasks), config)
    t3 = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "submission": str(save_submission(out_dir / "submission.npy", sub)),
        "csv": str(res.to_csv(out_dir / "results.csv")),
        "json": str(out_dir / "results.json"),
    }
    out = res.to_dict()
    out["paths"] = paths
    out["timings_s"] = {"fit": t1 - t0 if fit else 0.0, "embed": t2 - t1, "evaluate": t3 - t2}
    Path(paths["json"]).write_text(json.dumps(out, indent=2, default=float))
    return out
