"""SYNTHETIC test data in the exact MABe 2022 mouse-triplet file formats. **Not real data.**

Used by the tests and benchmarks because the official files cannot be downloaded here. The files
have the official layouts, dtypes and shapes (see :mod:`.files`), but with few clips (configurable)
and, optionally, fewer frames per clip than the official 1800.

What is generated (every random draw flows from ``SyntheticConfig.seed``):

- Three mice per clip move in the 850 x 850 px arena: each mouse's centre follows a damped random
  walk pulled towards a target that switches every ~3 s; with a probability (0.05 + 0.3 day)
  that grows with the
  clip's ``experiment_day`` the target is another mouse (social episodes). Speed is scaled by
  strain (strain 1 x1.6), lights (on x0.6) and time of day (1 + 0.4 sin(2 pi tod)). The 12
  keypoints are a rigid body template (px) rotated to the heading, plus 1 px noise.
- 1% of keypoints are missing (stored as 0, both coordinates), as in the official files.
- Labels are deterministic functions of the keypoints / clip attributes (distances in px between
  keypoints of two different mice, speeds in px/frame):
  close: min centre distance < 120; contact: < 70; huddles: all three pairs < 150;
  oral_oral_contact: nose-nose < 40; oral_ear_contact: nose-ear < 40; oral_genital_contact:
  nose-tail base < 40; approaches: a pair's centre distance fell by > 10 px over 5 frames while
  < 250; chases: approaches with both mice faster than 4 px/frame; watching: a mouse slower than
  2 px/frame whose heading points within 15 deg of another mouse 100-400 px away;
  strain, lights: clip attributes (0/1); experiment_day: clip attribute in {0, .25, .5, .75, 1};
  time_of_day: clip start in [0, 1) + elapsed fraction of a day.
- NaN labels: per task, 10% of clips are entirely NaN (lights: 20%), as unannotated clips.
- The frame number map lists the test clips in a permuted order (as the official map does, whose
  order differs from the split lists' order).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from .files import ARENA_PX, FILE_NAMES, N_MICE
from .protocol import MABE_TASKS, SPLIT_KEYS, TasksInfo

# body template in the mouse frame (x forward, y left), px; order = files.KEYPOINT_NAMES
_TEMPLATE = np.array(
    [[30, 0], [20, 8], [20, -8], [15, 0], [10, 10], [10, -10],
     [0, 0], [-12, 10], [-12, -10], [-25, 0], [-45, 0], [-65, 0]],
    dtype=np.float64,
)  # fmt: skip
_NOSE, _LEAR, _REAR, _CENTER, _TAILBASE = 0, 1, 2, 6, 9


@dataclasses.dataclass
class SyntheticConfig:
    """Sizes of the synthetic data set (default = a few clips per split, official clip length)."""

    n_submission_train: int = 12  # clips in SubmissionTrain
    n_public: int = 4  # clips in publicTest
    n_private: int = 4  # clips in privateTest
    n_user_train: int = 2  # clips in the (unlabelled-for-eval) train file
    frames_per_clip: int = 1800  # frames; official value 1800 (30 Hz, 60 s)
    missing_keypoint_rate: float = 0.01  # fraction of keypoints stored as 0
    nan_clip_rate: float = 0.1  # fraction of clips whose labels are NaN, per task
    seed: int = 0  # seeds every random draw


@dataclasses.dataclass
class SyntheticMabe:
    """In-memory synthetic data set (same content as the written files)."""

    split: dict[str, list[str]]
    train: dict  # train-file dict (official layout)
    test: dict  # test-file dict
    labels: dict  # labels-file dict
    frame_number_map: dict[str, tuple[int, int]]
    tasks: TasksInfo


def subset_split(split: dict[str, list[str]], cfg: SyntheticConfig) -> dict[str, list[str]]:
    """The first n clip ids of each split list (list order kept); UserTrain likewise."""
    n = {
        "SubmissionTrain": cfg.n_submission_train, "publicTest": cfg.n_public,
        "privateTest": cfg.n_private, "UserTrain": cfg.n_user_train,
    }  # fmt: skip
    out = {k: list(split[k][: n[k]]) for k in SPLIT_KEYS}
    out["UserTrain"] = list(split.get("UserTrain", [])[: cfg.n_user_train])
    if len(out["UserTrain"]) < cfg.n_user_train:
        extra = cfg.n_user_train - len(out["UserTrain"])
        out["UserTrain"] += [f"SYNUSER{i:06d}" for i in range(extra)]
    return out


def _synthetic_ids(cfg: SyntheticConfig) -> dict[str, list[str]]:
    counter = iter(range(10**6))
    ids = {}
    for key, n in (("SubmissionTrain", cfg.n_submission_train), ("publicTest", cfg.n_public),
                   ("privateTest", cfg.n_private), ("UserTrain", cfg.n_user_train)):  # fmt: skip
        ids[key] = [f"SYN{next(counter):017d}" for _ in range(n)]
    return ids


def simulate_clips(n_clips: int, cfg: SyntheticConfig, rng: np.random.Generator):
    """Simulate ``n_clips`` clips.

    Returns (keypoints (n, T, 3, 12, 2) float32 px with missing = 0, labels dict task ->
    (n, T) float64 without NaN, attributes dict).
    """
    T = cfg.frames_per_clip
    strain = rng.integers(0, 2, n_clips).astype(np.float64)
    lights = rng.integers(0, 2, n_clips).astype(np.float64)
    day = rng.integers(0, 5, n_clips) / 4.0
    tod0 = rng.random(n_clips)
    tod = (tod0[:, None] + np.arange(T)[None] / (30.0 * 86400.0)) % 1.0  # (n, T)
    speed_scale = (1.0 + 0.6 * strain) * (1.0 - 0.4 * lights)  # (n,)
    social_p = 0.05 + 0.3 * day  # probability a new target is another mouse

    pos = rng.uniform(150, ARENA_PX - 150, (n_clips, N_MICE, 2))
    vel = np.zeros_like(pos)
    target = rng.uniform(100, ARENA_PX - 100, (n_clips, N_MICE, 2))
    target_mouse = np.full((n_clips, N_MICE), -1)
    heading = rng.uniform(-np.pi, np.pi, (n_clips, N_MICE))
    P = np.empty((n_clips, T, N_MICE, 2))
    H = np.empty((n_clips, T, N_MICE))
    ci = np.arange(n_clips)[:, None]
    for t in range(T):
        switch = rng.random((n_clips, N_MICE)) < 1.0 / 90.0
        if switch.any():
            new_social = rng.random((n_clips, N_MICE)) < social_p[:, None]
            other = (np.arange(N_MICE)[None] + rng.integers(1, N_MICE, (n_clips, N_MICE))) % N_MICE
            target_mouse = np.where(switch, np.where(new_social, other, -1), target_mouse)
            fresh = rng.uniform(100, ARENA_PX - 100, (n_clips, N_MICE, 2))
            target = np.where(switch[..., None], fresh, target)
        social_target = pos[ci, np.maximum(target_mouse, 0)]
        goal = np.where((target_mouse >= 0)[..., None], social_target, target)
        act = speed_scale[:, None] * (1.0 + 0.4 * np.sin(2 * np.pi * tod[:, t]))[:, None]
        pull = goal - pos
        dist = np.linalg.norm(pull, axis=-1, keepdims=True) + 1e-9
        vel = 0.85 * vel + 0.15 * (6.0 * act[..., None] * pull / dist * np.minimum(dist / 60, 1.0))
        vel += rng.normal(0, 0.8, vel.shape) * act[..., None]
        pos = np.clip(pos + vel, 40, ARENA_PX - 40)
        sp = np.linalg.norm(vel, axis=-1)
        new_h = np.arctan2(vel[..., 1], vel[..., 0])
        heading = np.where(sp > 0.5, new_h, heading)
        P[:, t], H[:, t] = pos, heading
    c, s = np.cos(H), np.sin(H)
    rot = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)  # (n, T, 3, 2, 2)
    kp = P[..., None, :] + np.einsum("ntmij,kj->ntmki", rot, _TEMPLATE)
    kp += rng.normal(0, 1.0, kp.shape)
    kp = np.clip(kp, 1.0, ARENA_PX - 1.0)
    labels = _labels_from_keypoints(kp, H)
    labels["strain"] = np.repeat(strain[:, None], T, 1)
    labels["lights"] = np.repeat(lights[:, None], T, 1)
    labels["experiment_day"] = np.repeat(day[:, None], T, 1)
    labels["time_of_day"] = tod
    missing = rng.random(kp.shape[:-1]) < cfg.missing_keypoint_rate
    kp[missing] = 0.0
    attrs = {"strain": strain, "lights": lights, "experiment_day": day, "tod0": tod0}
    return kp.astype(np.float32), labels, attrs


def _labels_from_keypoints(kp: np.ndarray, heading: np.ndarray) -> dict[str, np.ndarray]:
    """Frame-level labels (n, T) float64 in {0, 1} from clean keypoints (n, T, 3, 12, 2) px."""
    pairs = [(i, j) for i in range(N_MICE) for j in range(N_MICE) if i != j]
    center = kp[..., _CENTER, :]

    def dist(a, b):
        return np.linalg.norm(a - b, axis=-1)

    cd = {(i, j): dist(center[:, :, i], center[:, :, j]) for i, j in pairs}
    min_cd = np.min([cd[p] for p in pairs], axis=0)
    speed = np.zeros(center.shape[:-1])
    speed[:, 1:] = np.linalg.norm(np.diff(center, axis=1), axis=-1)
    out = {
        "close": min_cd < 120, "contact": min_cd < 70,
        "huddles": np.max([cd[p] for p in pairs], axis=0) < 150,
    }  # fmt: skip
    nose = kp[..., _NOSE, :]
    oo = np.min([dist(nose[:, :, i], nose[:, :, j]) for i, j in pairs], 0)
    out["oral_oral_contact"] = oo < 40
    ear = np.min(
        [np.minimum(dist(nose[:, :, i], kp[:, :, j, _LEAR]),
                    dist(nose[:, :, i], kp[:, :, j, _REAR]))
         for i, j in pairs], 0)  # fmt: skip
    out["oral_ear_contact"] = ear < 40
    gen = np.min([dist(nose[:, :, i], kp[:, :, j, _TAILBASE]) for i, j in pairs], 0)
    out["oral_genital_contact"] = gen < 40
    appr = np.zeros_like(min_cd, dtype=bool)
    chase = np.zeros_like(appr)
    watch = np.zeros_like(appr)
    for i, j in pairs:
        d = cd[(i, j)]
        dd = np.zeros_like(d)
        dd[:, 5:] = d[:, 5:] - d[:, :-5]
        a = (dd < -10) & (d < 250)
        appr |= a
        chase |= a & (speed[:, :, i] > 4) & (speed[:, :, j] > 4)
        to_j = center[:, :, j] - center[:, :, i]
        ang = np.arctan2(to_j[..., 1], to_j[..., 0]) - heading[:, :, i]
        ang = np.abs((ang + np.pi) % (2 * np.pi) - np.pi)
        watch |= (speed[:, :, i] < 2) & (ang < np.deg2rad(15)) & (d > 100) & (d < 400)
    out["approaches"], out["chases"], out["watching"] = appr, chase, watch
    return {k: v.astype(np.float64) for k, v in out.items()}


def make_synthetic_mabe(cfg: SyntheticConfig | None = None, split=None) -> SyntheticMabe:
    """Build the synthetic data set in memory.

    ``split``: an official-style split dict; its first n clip ids per key are used (see
    :func:`subset_split`); None -> made-up ids ``SYN...``.
    """
    cfg = cfg or SyntheticConfig()
    rng = np.random.default_rng(cfg.seed)
    split = subset_split(split, cfg) if split is not None else _synthetic_ids(cfg)
    tasks = TasksInfo.default()
    test_ids = split["SubmissionTrain"] + split["publicTest"] + split["privateTest"]
    map_order = [test_ids[i] for i in rng.permutation(len(test_ids))]
    T = cfg.frames_per_clip
    fmap = {cid: (k * T, (k + 1) * T) for k, cid in enumerate(map_order)}

    kp, lab, _ = simulate_clips(len(map_order), cfg, rng)
    label_array = np.stack([lab[t].reshape(-1) for t in tasks.task_ids])  # (13, n*T)
    for ti, task in enumerate(tasks.task_ids):
        rate = 2 * cfg.nan_clip_rate if task == "lights" else cfg.nan_clip_rate
        for k in np.flatnonzero(rng.random(len(map_order)) < rate):
            label_array[ti, k * T : (k + 1) * T] = np.nan
    labels = {
        "vocabulary": list(tasks.task_ids),
        "task_type": [MABE_TASKS[t].label_task_type for t in tasks.task_ids],
        "label_array": label_array,
        "frame_number_map": dict(fmap),
    }
    test = {"sequences": {cid: {"keypoints": kp[k]} for k, cid in enumerate(map_order)}}
    # the test file lists clips in its own order (official: a different order from the map)
    test["sequences"] = {cid: test["sequences"][cid] for cid in sorted(test["sequences"])}

    ukp, ulab, _ = simulate_clips(len(split["UserTrain"]), cfg, rng)
    vocab = ["chases", "lights"]
    train = {
        "vocabulary": vocab,
        "sequences": {
            cid: {"keypoints": ukp[k], "annotations": np.stack([ulab[v][k] for v in vocab])}
            for k, cid in enumerate(split["UserTrain"])
        },
    }
    return SyntheticMabe(split=split, train=train, test=test, labels=labels,
                         frame_number_map=fmap, tasks=tasks)  # fmt: skip


def write_synthetic_mabe(
    out_dir: str | Path, cfg: SyntheticConfig | None = None, split=None, naming: str = "caltech"
) -> dict[str, Path]:
    """Write the synthetic set as official-format files in ``out_dir``.

    ``naming``: "caltech" (``mouse_triplet_*.npy``) or "aicrowd" (``user_train.npy``, ...).
    Also writes ``split.json``, ``tasks.json`` and ``clip_lengths.json`` (official layouts).
    Returns ``{kind: path}`` for train, test, labels, frame_map, split, tasks, clip_lengths.
    """
    if naming not in ("caltech", "aicrowd"):
        raise ValueError("naming must be 'caltech' or 'aicrowd'")
    col = 1 if naming == "caltech" else 0
    data = make_synthetic_mabe(cfg, split)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {kind: out_dir / names[col] for kind, names in FILE_NAMES.items()}
    np.save(paths["train"], data.train, allow_pickle=True)
    np.save(paths["test"], data.test, allow_pickle=True)
    np.save(paths["labels"], data.labels, allow_pickle=True)
    np.save(paths["frame_map"], data.frame_number_map, allow_pickle=True)
    for kind, obj in (
        ("split", data.split),
        ("tasks", {"seeds": data.tasks.seeds, "task_id_list": data.tasks.task_ids,
                   "sequence_level_tasks": data.tasks.sequence_level_tasks}),
        ("clip_lengths", {c: e - s for c, (s, e) in data.frame_number_map.items()}),
    ):  # fmt: skip
        paths[kind] = out_dir / f"{kind}.json"
        paths[kind].write_text(json.dumps(obj))
    return paths


def make_synthetic_submission(
    labels: dict, n_dims: int = 32, seed: int = 0, signal: float = 1.0
) -> dict:
    """A SYNTHETIC submission whose embeddings carry label information (for evaluator tests).

    ``embeddings`` (n_frames, n_dims) float32 = N(0, 1) noise + ``signal`` x a random linear map
    of the labels (NaN -> 0). ``frame_number_map`` is the labels' map.
    """
    rng = np.random.default_rng(seed)
    y = np.nan_to_num(np.asarray(labels["label_array"], dtype=np.float64)).T  # (n, tasks)
    mix = rng.normal(0, 1, (y.shape[1], n_dims))
    emb = rng.normal(0, 1, (y.shape[0], n_dims)) + signal * y @ mix
    fmap = dict(labels["frame_number_map"])
    return {"frame_number_map": fmap, "embeddings": emb.astype(np.float32)}
