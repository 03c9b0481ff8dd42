"""Zarr v3 store of a terrain dataset: layout, staging shards, atomic commit, finalisation.

On-disk layout of a store at ``PATH`` (a Zarr v3 group)::

    PATH/zarr.json           root attributes: schema/generator version, config, status, counts,
                             vocabularies, feature names and units, checksums
    PATH/<array>/            final arrays (see ``schema.ARRAYS``), written by ``finalize`` only
    PATH/_staging/           present while generating: a Zarr group with the same arrays over
                             all *attempted* trajectories (N_attempted rows, one chunk of
                             ``shard_size`` rows per shard), plus ``manifest.json``, the list of
                             committed shards, replaced atomically (write tmp, fsync, rename).

A shard's rows are written by whoever simulated it (a process or a Ray task; regions are
disjoint and chunk-aligned, and Zarr's local store writes every chunk file atomically), then
the driver commits the shard by rewriting the manifest. Readers only ever look at committed
shards (``read_committed``) or at a finalised store (``status == "complete"``), so a partial
trajectory is never visible. ``finalize`` copies the kept rows, in trajectory order, into the
final arrays, records checksums, flips ``status`` to complete and deletes ``_staging``: the
final bytes depend only on the config, never on the order in which shards finished.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import zarr
from zarr.codecs import BloscCodec, ZstdCodec

from behaviorbench import __version__ as GENERATOR_VERSION
from behaviorbench.datasets import schema

STAGING = "_staging"
MANIFEST = "manifest.json"
STATUS_GENERATING = "generating"
STATUS_COMPLETE = "complete"


@dataclass(frozen=True)
class Layout:
    """Chunking / compression of the final arrays (chosen with ``benchmarks/zarr_layout.py``).

    ``chunk_n`` sequences x ``chunk_t`` frames per chunk (0 = all frames); ``shard_n`` sequences
    per shard file when the Zarr sharding codec is used (0 = no sharding, one file per chunk);
    ``compressor`` one of ``none``, ``zstd``, ``blosc-lz4``, ``blosc-zstd``.
    """

    chunk_n: int = 1  # sequences per chunk; default one trajectory per chunk
    chunk_t: int = 0  # frames per chunk (0: whole trajectory, the default)
    shard_n: int = 0  # sequences per shard file (0, the default: no sharding codec)
    compressor: str = "blosc-lz4"  # byte-shuffled LZ4: ~0.85x size, cheap to decode
    clevel: int = 5  # compression level


DEFAULT_LAYOUT = Layout()
STAGING_COMPRESSOR = "zstd"  # staging chunks: fast, modest compression


def _compressors(name: str, clevel: int, itemsize: int):
    if name == "none":
        return None
    if name == "zstd":
        return ZstdCodec(level=clevel)
    if name in ("blosc-lz4", "blosc-zstd"):
        return BloscCodec(cname=name.split("-")[1], clevel=clevel, shuffle="shuffle",
                          typesize=itemsize, blocksize=0)
    raise ValueError(f"unknown compressor {name!r}")


def create_array(group: zarr.Group, spec: schema.ArraySpec, n: int, t: int, layout: Layout,
                 attributes: Mapping | None = None) -> zarr.Array:
    """Create (overwriting) array ``spec.name`` of shape ``spec.shape(n, t)`` in ``group``."""
    shape = spec.shape(n, t)
    ct = t if layout.chunk_t <= 0 else min(layout.chunk_t, max(t, 1))
    cn = max(1, min(layout.chunk_n, max(n, 1)))
    chunks = ((cn, ct) if spec.kind == "frame" else (cn,)) + spec.trailing
    shards = None
    if spec.kind == "sequence":  # tiny: one chunk of up to 4096 sequences, no sharding
        chunks = (max(1, min(4096, n)),)
    elif layout.shard_n > 0:
        sn = max(cn, min(layout.shard_n, max(n, 1)))
        sn = -(-sn // cn) * cn
        shards = (sn, -(-t // ct) * ct) + spec.trailing
    dims = ("sequence", "frame", "feature")[: len(shape)] if spec.kind == "frame" else (
        "sequence",)
    if spec.trailing and spec.name != "features":
        dims = ("sequence", "frame", "xyz")
    comp = _compressors(layout.compressor, layout.clevel, np.dtype(spec.dtype).itemsize)
    return group.create_array(
        spec.name, shape=shape, dtype=spec.dtype, chunks=chunks, shards=shards,
        compressors=comp, fill_value=False if spec.dtype == "bool" else 0,
        dimension_names=dims, attributes=dict(attributes or {}), overwrite=True,
    )


def array_attributes(name: str) -> dict:
    spec = schema.ARRAYS[name]
    attrs = {"unit": spec.unit, "description": spec.description}
    if name == "features":
        attrs["feature_names"] = list(schema.FEATURE_NAMES)
        attrs["feature_units"] = list(schema.FEATURE_UNITS)
    if name in schema.VOCABULARIES:
        attrs["vocabulary"] = list(schema.VOCABULARIES[name])
    return attrs


def atomic_write_json(path: Path, obj) -> None:
    """Write JSON to ``path`` so that readers see the old or the new file, never a torn one."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


# ----------------------------------------------------------------------------- root


def root_attributes(config: Mapping, status: str) -> dict:
    return {
        "schema_version": schema.SCHEMA_VERSION,
        "generator": "behaviorbench",
        "generator_version": GENERATOR_VERSION,
        "status": status,
        "config": dict(config),
        "frame_rate_hz": schema.FRAME_RATE_HZ,
        "feature_names": list(schema.FEATURE_NAMES),
        "feature_units": list(schema.FEATURE_UNITS),
        "units": schema.units_table(),
        "vocabularies": {k: list(v) for k, v in schema.VOCABULARIES.items()},
        "frame_labels": list(schema.FRAME_LABELS),
        "sequence_labels": list(schema.SEQUENCE_LABELS),
    }


def create_root(path: Path, config: Mapping, extra_attrs: Mapping | None = None) -> zarr.Group:
    """Create a new store at ``path`` in status ``generating`` (root attributes plus
    ``extra_attrs``)."""
    attrs = {**root_attributes(config, STATUS_GENERATING), **dict(extra_attrs or {})}
    return zarr.open_group(str(path), mode="w", zarr_format=3, attributes=attrs)


def open_root(path: Path, mode: str = "r") -> zarr.Group:
    return zarr.open_group(str(path), mode=mode, zarr_format=3)


def read_root_attrs(path: Path) -> dict | None:
    """Root attributes of the store at ``path``, or None if there is no Zarr group there."""
    meta = Path(path) / "zarr.json"
    if not meta.is_file():
        return None
    with open(meta) as f:
        return json.load(f).get("attributes", {})


# ----------------------------------------------------------------------------- staging


def staging_path(path: Path) -> Path:
    return Path(path) / STAGING


def create_staging(path: Path, n_slots: int, n_frames: int, shard_size: int) -> None:
    """Create the staging arrays over ``n_slots`` attempted trajectories and an empty manifest."""
    sp = staging_path(path)
    group = zarr.open_group(str(sp), mode="w", zarr_format=3)
    layout = Layout(chunk_n=shard_size, chunk_t=0, shard_n=0, compressor=STAGING_COMPRESSOR,
                    clevel=1)
    for spec in _staged_specs():
        if spec.kind == "sequence":
            # sequence arrays: one chunk per shard as well, so shard writes stay disjoint
            chunks = (shard_size,)
            group.create_array(spec.name, shape=spec.shape(n_slots, n_frames), dtype=spec.dtype,
                               chunks=chunks, fill_value=0 if spec.dtype != "bool" else False,
                               compressors=ZstdCodec(level=1), overwrite=True)
        else:
            create_array(group, spec, n_slots, n_frames, layout)
    atomic_write_json(sp / MANIFEST, {"n_slots": n_slots, "n_frames": n_frames,
                                      "shard_size": shard_size, "committed": {}})


def _staged_specs() -> Iterable[schema.ArraySpec]:
    return schema.ARRAYS.values()


def read_manifest(path: Path) -> dict:
    with open(staging_path(path) / MANIFEST) as f:
        return json.load(f)


def commit_shards(path: Path, stats: Mapping[int, Mapping]) -> dict:
    """Mark shards committed (``{shard_id: {"n_success": ..., ...}}``); atomic. Returns manifest."""
    manifest = read_manifest(path)
    for sid, st in stats.items():
        manifest["committed"][str(int(sid))] = dict(st)
    atomic_write_json(staging_path(path) / MANIFEST, manifest)
    return manifest


def committed_ids(manifest: Mapping) -> list[int]:
    return sorted(int(k) for k in manifest["committed"])


def clean_partial_files(path: Path) -> int:
    """Delete temp files a killed writer may have left (zarr ``*.partial``, our ``.tmp-``)."""
    n = 0
    for p in Path(path).rglob("*"):
        if p.is_file() and (p.name.endswith(".partial") or ".tmp-" in p.name):
            p.unlink(missing_ok=True)
            n += 1
    return n


def write_shard_rows(path: Path, start: int, arrays: Mapping[str, np.ndarray]) -> None:
    """Write one shard's rows ``[start, start + n)`` of every staged array (chunk-aligned)."""
    group = zarr.open_group(str(staging_path(path)), mode="r+", zarr_format=3)
    for name in schema.ARRAYS:
        a = arrays[name]
        group[name][start:start + a.shape[0]] = a


def batch_to_arrays(batch) -> dict[str, np.ndarray]:
    """A ``TrajectoryBatch`` (or any object / mapping with its fields) -> staged arrays.

    A backend that returns no ``failure_reason`` / ``progress`` gets them derived here, by the
    same rules as the built-in simulators (:mod:`behaviorbench.simulation.progress`): an
    unsuccessful trajectory ``fell``, a successful one that stalled fails as ``stalled``."""
    from behaviorbench.simulation import progress as prog

    out = {"features": schema.features_from(np.asarray(batch_field(batch, "dof_pos")),
                                            np.asarray(batch_field(batch, "dof_vel")))}
    for name in schema.BATCH_FIELDS:
        value = batch_field(batch, name)
        if value is not None:
            out[name] = np.asarray(value).astype(schema.ARRAYS[name].dtype, copy=False)
    x = out["base_pos"][..., 0]
    dt = 1.0 / schema.FRAME_RATE_HZ
    if "failure_reason" not in out:
        out["failure_reason"] = prog.failure_reasons(out["success"], x, out["command_vel"], dt)
        out["success"] = out["failure_reason"] == prog.NONE
    if "progress" not in out:
        out["progress"] = prog.progress_ratio(x, out["command_vel"], dt)
    n, t = out["features"].shape[:2]
    for name in schema.PHYSICS:
        if name not in out:  # not recorded by this backend (missing_physics)
            spec = schema.ARRAYS[name]
            out[name] = np.full(spec.shape(n, t), schema.PHYSICS_FILL[name], spec.dtype)
    return out


def missing_physics(batch) -> tuple[str, ...]:
    """The per-frame physics arrays (:data:`schema.PHYSICS`) that ``batch`` lacks (None or
    absent): a backend that does not record them; they are stored filled with
    ``schema.PHYSICS_FILL`` and named in the root attribute ``missing_fields``."""
    return tuple(k for k in schema.PHYSICS if batch_field(batch, k) is None)


def batch_field(batch, name: str):
    """Field ``name`` of a batch given as a mapping or an object; None where it lacks it."""
    return batch.get(name) if isinstance(batch, Mapping) else getattr(batch, name, None)


def failure_reason_counts(robot_type: np.ndarray, reason: np.ndarray) -> dict:
    """{robot name: {reason name: count}} of the failed trajectories among ``robot_type`` /
    ``reason`` ((n,) int8 each); robots without failures are left out."""
    out: dict[str, dict[str, int]] = {}
    for r, code in zip(robot_type.tolist(), reason.tolist(), strict=True):
        if code:
            per = out.setdefault(schema.ROBOT_TYPES[r], {})
            name = schema.FAILURE_REASONS[code]
            per[name] = per.get(name, 0) + 1
    return out


def read_committed(path: Path, *, keep_failures: bool = False) -> dict[str, np.ndarray]:
    """All committed rows of a store still generating, in trajectory order (numpy, in memory).

    Rows of uncommitted shards are never returned. Failures are dropped unless
    ``keep_failures``.
    """
    manifest = read_manifest(path)
    group = zarr.open_group(str(staging_path(path)), mode="r", zarr_format=3)
    size, n_slots = manifest["shard_size"], manifest["n_slots"]
    parts: dict[str, list[np.ndarray]] = {name: [] for name in schema.ARRAYS}
    for sid in committed_ids(manifest):
        lo, hi = sid * size, min((sid + 1) * size, n_slots)
        ok = group["success"][lo:hi] if not keep_failures else np.ones(hi - lo, bool)
        for name in schema.ARRAYS:
            parts[name].append(group[name][lo:hi][ok])
    t = manifest["n_frames"]
    return {name: (np.concatenate(v) if v else np.zeros(schema.ARRAYS[name].shape(0, t),
                                                        schema.ARRAYS[name].dtype))
            for name, v in parts.items()}


# ----------------------------------------------------------------------------- finalize


def checksum(arr: zarr.Array, block: int = 64) -> str:
    """sha256 of the array's decoded C-order bytes, streamed in blocks of ``block`` rows."""
    h = hashlib.sha256()
    for lo in range(0, arr.shape[0], block):
        h.update(np.ascontiguousarray(arr[lo:lo + block]).tobytes())
    return "sha256:" + h.hexdigest()


def finalize(path: Path, config: Mapping, *, keep_failures: bool = False,
             layout: Layout = DEFAULT_LAYOUT, extra_attrs: Mapping | None = None) -> dict:
    """Copy the kept rows of all committed shards into the final arrays and mark complete.

    Every shard must be committed. Idempotent: a finalize killed half-way is simply redone.
    Returns the root attributes written.
    """
    manifest = read_manifest(path)
    size, n_slots, t = manifest["shard_size"], manifest["n_slots"], manifest["n_frames"]
    n_shards = -(-n_slots // size)
    missing = sorted(set(range(n_shards)) - set(committed_ids(manifest)))
    if missing:
        raise RuntimeError(f"cannot finalize: shards {missing[:10]} not committed")
    staging = zarr.open_group(str(staging_path(path)), mode="r", zarr_format=3)
    success = staging["success"][:]
    keep = np.arange(n_slots) if keep_failures else np.flatnonzero(success)
    n = int(keep.size)
    root = open_root(path, "r+")
    for name in schema.ARRAYS:  # drop half-written final arrays from an interrupted finalize
        if name in root:
            del root[name]
    checksums = {}
    block = max(layout.shard_n, layout.chunk_n, 1) if layout.shard_n else 64
    for name, spec in schema.ARRAYS.items():
        dst = create_array(root, spec, n, t, layout, array_attributes(name))
        src = staging[name]
        h = hashlib.sha256()
        for lo in range(0, n, block):
            rows = keep[lo:lo + block]
            data = src.get_orthogonal_selection((rows,)) if rows.size else None
            if data is None:
                continue
            dst[lo:lo + rows.size] = data
            h.update(np.ascontiguousarray(data).tobytes())
        checksums[name] = "sha256:" + h.hexdigest()
    per_shard = manifest["committed"]
    n_fail = int(n_slots - int(success.sum()))
    attrs = root_attributes(config, STATUS_COMPLETE)
    attrs.update({
        "counts": {
            "n_sequences": n, "n_frames": t, "n_attempted": n_slots,
            "n_success": int(success.sum()), "n_failures": n_fail,
            "failures_stored": bool(keep_failures),
            "per_robot": _per_robot_counts(root, n),
            "attempted_per_robot": _robot_counts(staging["robot_type"][:]),
            "failure_reasons": _sum_reasons(per_shard.values()),
            "failure_reasons_per_robot": failure_reason_counts(
                staging["robot_type"][:], staging["failure_reason"][:]),
        },
        "checksums": checksums,
        "layout": {"chunk_n": layout.chunk_n, "chunk_t": layout.chunk_t,
                   "shard_n": layout.shard_n, "compressor": layout.compressor,
                   "clevel": layout.clevel},
    })
    lacking = sorted({k for st in per_shard.values() for k in st.get("missing_fields", [])})
    if lacking:  # physics arrays some backend did not record (filled, see batch_to_arrays)
        attrs["missing_fields"] = lacking
    attrs.update(dict(extra_attrs or {}))
    _write_root_attrs(path, attrs)
    shutil.rmtree(staging_path(path), ignore_errors=True)
    return attrs


def _per_robot_counts(root: zarr.Group, n: int) -> dict[str, int]:
    return _robot_counts(root["robot_type"][:] if n else np.zeros(0, np.int8))


def _robot_counts(robot_type: np.ndarray) -> dict[str, int]:
    return {name: int((robot_type == i).sum()) for i, name in enumerate(schema.ROBOT_TYPES)}


def _sum_reasons(stats: Iterable[Mapping]) -> dict[str, int]:
    out: dict[str, int] = {}
    for st in stats:
        for k, v in st.get("failure_reasons", {}).items():
            out[k] = out.get(k, 0) + int(v)
    return dict(sorted(out.items()))


def _write_root_attrs(path: Path, attrs: Mapping) -> None:
    """Replace the root group's attributes in one atomic write of ``zarr.json``."""
    meta_path = Path(path) / "zarr.json"
    with open(meta_path) as f:
        meta = json.load(f)
    meta["attributes"] = json.loads(json.dumps(attrs))
    atomic_write_json(meta_path, meta)


def write_complete_store(path: Path, arrays: Mapping[str, np.ndarray], config: Mapping, *,
                         layout: Layout = DEFAULT_LAYOUT, extra_attrs: Mapping | None = None,
                         ) -> dict:
    """Write in-memory arrays (all of ``schema.ARRAYS``) as a complete store (import path).

    Goes through staging + finalize so there is one code path for final layout and checksums.
    """
    path = Path(path)
    n, t = arrays["features"].shape[:2]
    create_root(path, config)
    shard = max(1, min(64, n))
    create_staging(path, n, t, shard)
    for lo in range(0, n, shard):
        write_shard_rows(path, lo, {k: np.asarray(arrays[k])[lo:lo + shard]
                                    for k in schema.ARRAYS})
    n_shards = -(-n // shard)
    commit_shards(path, {i: {"n_success": -1} for i in range(n_shards)})
    return finalize(path, config, keep_failures=True, layout=layout, extra_attrs=extra_attrs)
