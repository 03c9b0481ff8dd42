"""Convert between our Zarr store and the original ``robot_dataset.npy`` (BAMS, NeurIPS 2023).

The original file is a pickled dict (``np.load(path, allow_pickle=True).item()``) written by
``combine_files_and_prepare_data.py`` of nerdslab/bams_simulated_quadrupeds. Its recorder stacks
per-step arrays on the last axis, so vector time series are **(N, F, T)** (consumers do
``np.swapaxes(data['dof_pos'], 1, 2)``); frame labels are (N, T); sequence labels (N,).

Exported keys (dtype, shape):

* ``dof_pos`` float32 (N, 12, T) rad ("state" in the original README),
  ``dof_vel`` float32 (N, 12, T) rad/s ("action")
* ``base_pos``, ``base_lin_vel``, ``base_ang_vel`` float32 (N, 3, T)
* ``body_mass`` float32 (N,) kg; ``robot_type`` float64 (N,) (0 anymal_b, 1 anymal_c);
  ``command_vel`` float64 (N,) m/s
* ``terrain_type``, ``terrain_type_2`` uint8 (N, T); ``terrain_difficulty``,
  ``terrain_slope`` float64 (N, T); ``terrain_rough`` bool (N, T)
* ``names``: dict with ``dof_names`` (12 joint names), ``robot_names``, ``terrain_names``,
  ``terrain_names_2``
* extensions (not in the original; ignored by its consumers): ``added_mass`` float32 (N,) kg,
  ``seed`` uint64 (N,)

Not exported: the original's ``reward`` (N, T) (our controller has no RL reward).
On import, keys the file lacks (``added_mass``, ``seed``) become NaN / 0 and are listed in the
root attribute ``missing_fields``.

CLI: ``python -m behaviorbench.datasets.interop export STORE OUT.npy`` and
``python -m behaviorbench.datasets.interop import IN.npy STORE``.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

from behaviorbench.datasets import schema, store
from behaviorbench.datasets.loader import load_terrain_dataset
from behaviorbench.simulation.progress import progress_ratio

ORIGINAL_KEYS: tuple[str, ...] = (
    "dof_pos", "dof_vel", "base_pos", "base_lin_vel", "base_ang_vel", "body_mass", "robot_type",
    "command_vel", "terrain_type", "terrain_type_2", "terrain_difficulty", "terrain_slope",
    "terrain_rough", "names",
)
EXTENSION_KEYS: tuple[str, ...] = ("added_mass", "seed")


def to_original_dict(path: str | Path) -> dict:
    """The store at ``path`` as the original's dict (see module docstring for the keys)."""
    d = load_terrain_dataset(path)
    ft = np.swapaxes(d.features, 1, 2)  # (N, 24, T)
    out = {
        "dof_pos": np.ascontiguousarray(ft[:, :12]),
        "dof_vel": np.ascontiguousarray(ft[:, 12:]),
        **{k: np.ascontiguousarray(np.swapaxes(d.kinematics[k], 1, 2))
           for k in schema.KINEMATICS},
        "body_mass": d.sequence_labels["body_mass"].astype(np.float32),
        "robot_type": d.sequence_labels["robot_type"].astype(np.float64),
        "command_vel": d.sequence_labels["command_vel"].astype(np.float64),
        "terrain_type": d.frame_labels["terrain_type"].astype(np.uint8),
        "terrain_type_2": d.frame_labels["terrain_type_2"].astype(np.uint8),
        "terrain_difficulty": d.frame_labels["terrain_difficulty"].astype(np.float64),
        "terrain_slope": d.frame_labels["terrain_slope"].astype(np.float64),
        "terrain_rough": d.frame_labels["terrain_rough"].astype(bool),
        "added_mass": d.sequence_labels["added_mass"].astype(np.float32),
        "seed": d.seed.astype(np.uint64),
        "names": {
            "dof_names": list(schema.JOINT_NAMES),
            "robot_names": list(schema.ROBOT_TYPES),
            "terrain_names": list(schema.TERRAIN_TYPES),
            "terrain_names_2": list(schema.TERRAIN_TYPES_2),
        },
    }
    return out


def export_npy(store_path: str | Path, out: str | Path) -> Path:
    """Write ``out`` (``np.save`` of the dict, load with ``allow_pickle=True``)."""
    out = Path(out)
    np.save(out, to_original_dict(store_path), allow_pickle=True)
    return out if out.suffix == ".npy" else out.with_name(out.name + ".npy")


def _series(a: np.ndarray, f: int) -> np.ndarray:
    """(N, F, T) original layout -> (N, T, F); (N, T, F) accepted too when unambiguous."""
    a = np.asarray(a)
    if a.ndim != 3:
        raise ValueError(f"expected a 3-D array, got shape {a.shape}")
    if a.shape[1] == f and a.shape[2] != f:
        return np.swapaxes(a, 1, 2)
    if a.shape[2] == f:
        return a
    raise ValueError(f"cannot find a feature axis of size {f} in shape {a.shape}")


def from_original_dict(data: dict) -> tuple[dict[str, np.ndarray], list[str]]:
    """Original dict -> (our arrays, names of fields the file lacked)."""
    missing = [k for k in ORIGINAL_KEYS if k not in data]
    if missing:
        raise ValueError(f"not a robot_dataset dict: missing keys {missing}")
    names = data["names"]
    if list(names.get("terrain_names", schema.TERRAIN_TYPES)) != list(schema.TERRAIN_TYPES):
        raise ValueError("terrain_names vocabulary differs from ours")
    dof_pos, dof_vel = _series(data["dof_pos"], 12), _series(data["dof_vel"], 12)
    n, t = dof_pos.shape[:2]
    arrays = {"features": schema.features_from(dof_pos, dof_vel)}
    for k in schema.KINEMATICS:
        arrays[k] = _series(data[k], 3).astype(np.float32)
    for k in schema.FRAME_LABELS + ("robot_type", "command_vel", "body_mass"):
        arrays[k] = np.asarray(data[k]).astype(schema.ARRAYS[k].dtype)
    lacking = []
    for k, fill in (("added_mass", np.nan), ("seed", 0)):
        if k in data:
            arrays[k] = np.asarray(data[k]).astype(schema.ARRAYS[k].dtype)
        else:
            arrays[k] = np.full(n, fill, schema.ARRAYS[k].dtype)
            lacking.append(k)
    for k in schema.PHYSICS:  # the original recorded no contacts, torques or orientation
        spec = schema.ARRAYS[k]
        arrays[k] = np.full(spec.shape(n, t), schema.PHYSICS_FILL[k], spec.dtype)
        lacking.append(k)
    arrays["success"] = np.ones(n, bool)
    arrays["failure_reason"] = np.zeros(n, np.int8)  # the original kept no failures
    arrays["progress"] = progress_ratio(arrays["base_pos"][..., 0], arrays["command_vel"],
                                        1.0 / schema.FRAME_RATE_HZ)
    for k, a in arrays.items():
        want = schema.ARRAYS[k].shape(n, t)
        if a.shape != want:
            raise ValueError(f"key {k!r} has shape {a.shape}, expected {want}")
    return arrays, lacking


def import_npy(npy: str | Path, out: str | Path) -> dict:
    """Import an original ``robot_dataset.npy`` into a new store at ``out``."""
    npy, out = Path(npy), Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not empty")
    data = np.load(npy, allow_pickle=True).item()
    arrays, lacking = from_original_dict(data)
    h = hashlib.sha256()
    with open(npy, "rb") as f:
        for block in iter(lambda: f.read(1 << 24), b""):
            h.update(block)
    config = {"imported_from": npy.name, "source_sha256": h.hexdigest()}
    return store.write_complete_store(out, arrays, config,
                                      extra_attrs={"missing_fields": lacking})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m behaviorbench.datasets.interop",
                                 description="export/import the original robot_dataset.npy")
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export", help="store -> robot_dataset.npy")
    e.add_argument("store")
    e.add_argument("out")
    i = sub.add_parser("import", help="robot_dataset.npy -> new store")
    i.add_argument("npy")
    i.add_argument("store")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "export":
            print(f"wrote {export_npy(args.store, args.out)}")
        else:
            attrs = import_npy(args.npy, args.store)
            print(f"wrote {args.store}: {attrs['counts']['n_sequences']} sequences")
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
