"""Readers for the official MABe 2022 mouse-triplet files (users bring them; nothing downloads).

Two naming schemes exist for the same content:

| kind | AIcrowd name | CaltechDATA name |
|---|---|---|
| train | ``user_train.npy`` | ``mouse_triplet_train.npy`` |
| test | ``submission_keypoints.npy`` | ``mouse_triplet_test.npy`` |
| labels | ``submission_labels.npy`` | ``mouse_triplets_test_labels.npy`` |
| frame map | ``frame_number_map.npy`` | ``mouse_triplet_frame_number_map.npy`` |

Layouts (pickled dicts inside ``.npy``; loading needs ``allow_pickle=True``, so only load files
you trust):

- train: ``{'vocabulary': [names], 'sequences': {clip_id: {'keypoints': (1800, 3, 12, 2),
  'annotations': (len(vocabulary), 1800)}}}``
- test: ``{'sequences': {clip_id: {'keypoints': (1800, 3, 12, 2)}}}``
- labels: ``{'vocabulary': 13 names, 'task_type': ['Continious' | 'Discrete'] x 13,
  'label_array': (13, n_frames) float, 'frame_number_map': {clip_id: (start, end)}}``

Keypoints are pixel coordinates (850 x 850 px arena, 30 Hz), order :data:`KEYPOINT_NAMES`; a
missing keypoint is stored as 0 in both coordinates. A missing label is NaN.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np

KEYPOINT_NAMES = (
    "nose", "left_ear", "right_ear", "neck", "left_forepaw", "right_forepaw", "center_back",
    "left_hindpaw", "right_hindpaw", "tail_base", "tail_middle", "tail_tip",
)  # fmt: skip
N_MICE = 3
N_KEYPOINTS = 12
FRAMES_PER_CLIP = 1800  # official clip length, frames (60 s at 30 Hz)
FPS = 30.0  # Hz
ARENA_PX = 850.0  # arena side, pixels

FILE_NAMES: dict[str, tuple[str, ...]] = {
    "train": ("user_train.npy", "mouse_triplet_train.npy"),
    "test": ("submission_keypoints.npy", "mouse_triplet_test.npy"),
    "labels": ("submission_labels.npy", "mouse_triplets_test_labels.npy"),
    "frame_map": ("frame_number_map.npy", "mouse_triplet_frame_number_map.npy"),
}
"""Accepted file names per kind: (AIcrowd, CaltechDATA)."""

MD5_PREFIXES: dict[str, str] = {"train": "76a48f3a", "test": "20dc1323", "labels": "5a54f2d2"}
"""Known md5 prefixes of the official files (only prefixes were recorded, from lisbet)."""


@dataclasses.dataclass
class MabeKeypoints:
    """Keypoints of one file. ``sequences[clip_id]`` is (T, 3, 12, 2) float32 pixels (0 = missing).

    ``annotations[clip_id]`` (len(vocabulary), T) float (train file only, else empty);
    ``clip_ids`` keeps the file's order.
    """

    clip_ids: list[str]
    sequences: dict[str, np.ndarray]
    vocabulary: list[str]
    annotations: dict[str, np.ndarray]

    def stacked(self, clip_ids: list[str] | None = None) -> np.ndarray:
        """(N, T, 3, 12, 2) float32 for ``clip_ids`` (default: all, file order)."""
        ids = self.clip_ids if clip_ids is None else clip_ids
        return np.stack([self.sequences[c] for c in ids]).astype(np.float32, copy=False)


@dataclasses.dataclass
class MabeLabels:
    """Test labels. ``label_array`` (n_tasks, n_frames) float (NaN = missing); rows follow
    ``vocabulary``; ``task_type[i]`` is ``'Continious'`` (regression) or ``'Discrete'``;
    ``frame_number_map[clip_id] = (start, end)`` rows of the submission's embeddings."""

    vocabulary: list[str]
    task_type: list[str]
    label_array: np.ndarray
    frame_number_map: dict[str, tuple[int, int]]

    @property
    def n_frames(self) -> int:
        return int(self.label_array.shape[1])

    def task_row(self, task_id: str) -> np.ndarray:
        """(n_frames,) labels of one task (a view)."""
        if task_id not in self.vocabulary:
            raise KeyError(f"task {task_id!r} not in labels vocabulary {self.vocabulary}")
        return self.label_array[self.vocabulary.index(task_id)]


def load_pickled_dict(path: str | Path, error: type[Exception] = ValueError) -> dict:
    """The dict pickled inside an official-format ``.npy`` file; raises ``error`` otherwise.

    Unpickling runs code from the file: only load files you trust.
    """
    import pickle

    p = Path(path)
    if not p.is_file():
        raise error(f"{path}: {'is a directory' if p.is_dir() else 'no such file'}, expected a "
                    f".npy file")
    try:
        obj = np.load(p, allow_pickle=True)
    except (pickle.UnpicklingError, ValueError, EOFError, OSError, AttributeError,
            ImportError) as e:
        raise error(f"{path}: not a .npy file holding a pickled dict "
                    f"({type(e).__name__})") from None
    if isinstance(obj, np.ndarray) and obj.dtype == object and obj.shape == ():
        obj = obj.item()
    if not isinstance(obj, dict):
        raise error(f"{path}: expected a pickled dict in the .npy file, got {type(obj).__name__}")
    return obj


def missing_mask(keypoints: np.ndarray) -> np.ndarray:
    """(..., 12, 2) -> (..., 12) bool: True where a keypoint is missing (both coordinates 0)."""
    return np.all(keypoints == 0, axis=-1)


def load_keypoints(path: str | Path) -> MabeKeypoints:
    """Read a train or test keypoint file (either naming scheme; layout in the module doc)."""
    raw = load_pickled_dict(path)
    if "sequences" not in raw:
        raise ValueError(f"{path}: no 'sequences' key; is this a labels or submission file?")
    seqs, ann = {}, {}
    for cid, entry in raw["sequences"].items():
        kp = np.asarray(entry["keypoints"], dtype=np.float32)
        if kp.ndim != 4 or kp.shape[1:] != (N_MICE, N_KEYPOINTS, 2):
            raise ValueError(f"{path}: clip {cid} keypoints shape {kp.shape}, want (T, 3, 12, 2)")
        kp = np.nan_to_num(kp, nan=0.0)  # missing stays 0 as in the official files
        seqs[str(cid)] = kp
        if "annotations" in entry:
            ann[str(cid)] = np.asarray(entry["annotations"], dtype=np.float64)
    return MabeKeypoints(
        clip_ids=list(seqs), sequences=seqs,
        vocabulary=[str(v) for v in raw.get("vocabulary", [])], annotations=ann,
    )  # fmt: skip


def load_labels(path: str | Path) -> MabeLabels:
    """Read ``mouse_triplets_test_labels.npy`` / ``submission_labels.npy``."""
    raw = load_pickled_dict(path)
    missing = {"vocabulary", "task_type", "label_array", "frame_number_map"} - set(raw)
    if missing:
        raise ValueError(f"{path}: labels file lacks keys {sorted(missing)}")
    arr = np.asarray(raw["label_array"])
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    vocab = [str(v) for v in raw["vocabulary"]]
    if arr.ndim != 2 or arr.shape[0] != len(vocab):
        raise ValueError(f"{path}: label_array shape {arr.shape} vs {len(vocab)} tasks")
    fmap = normalise_frame_map(raw["frame_number_map"])
    return MabeLabels(
        vocabulary=vocab, task_type=[str(t) for t in raw["task_type"]], label_array=arr,
        frame_number_map=fmap,
    )  # fmt: skip


def normalise_frame_map(fmap) -> dict[str, tuple[int, int]]:
    """``{clip_id: (start, end)}`` with str keys and int bounds (order kept)."""
    if isinstance(fmap, np.ndarray) and fmap.dtype == object and fmap.shape == ():
        fmap = fmap.item()
    return {str(k): (int(v[0]), int(v[1])) for k, v in dict(fmap).items()}


def load_frame_number_map(path: str | Path) -> dict[str, tuple[int, int]]:
    """Read a ``mouse_frame_number_map.npy``-style file."""
    return normalise_frame_map(np.load(path, allow_pickle=True))


def find_mabe_files(data_dir: str | Path) -> dict[str, Path]:
    """Locate the official files in ``data_dir`` under either naming scheme.

    Returns ``{kind: path}`` for the kinds found (train, test, labels, frame_map); raises if two
    files of the same kind (both schemes) are present, since they could disagree.
    """
    data_dir = Path(data_dir)
    found: dict[str, Path] = {}
    for kind, names in FILE_NAMES.items():
        hits = [data_dir / n for n in names if (data_dir / n).is_file()]
        if len(hits) > 1:
            raise ValueError(f"both {hits[0].name} and {hits[1].name} in {data_dir}; keep one")
        if hits:
            found[kind] = hits[0]
    return found


def md5_of(path: str | Path, chunk_bytes: int = 1 << 24) -> str:
    """Hex md5 of a file (streamed, ``chunk_bytes`` bytes at a time)."""
    h = hashlib.md5()
    with open(path, "rb") as fp:
        while block := fp.read(chunk_bytes):
            h.update(block)
    return h.hexdigest()


def check_md5(path: str | Path, kind: str) -> bool | None:
    """True/False if ``kind``'s md5 prefix is known and matches / differs; None if unknown."""
    prefix = MD5_PREFIXES.get(kind)
    if prefix is None:
        return None
    return md5_of(path).startswith(prefix)
