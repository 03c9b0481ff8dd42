"""Check a terrain store: schema, shapes, dtypes, NaN/Inf, label ranges, counts, checksums.

``validate_store(path) -> list[str]``: one human-readable problem per line, empty when valid.
Each problem names the array or attribute at fault.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from behaviorbench.datasets import schema, store

BLOCK = 64  # sequences read at a time


def validate_store(path: str | Path, *, checksums: bool = True) -> list[str]:
    path = Path(path)
    attrs = store.read_root_attrs(path)
    if attrs is None:
        return [f"{path}: no Zarr v3 group here (zarr.json missing)"]
    problems: list[str] = []
    if attrs.get("generator") != "behaviorbench":
        return [f"{path}: root attribute 'generator' is {attrs.get('generator')!r}, "
                f"expected 'behaviorbench'"]
    if str(attrs.get("schema_version", "")).split(".")[0] != schema.SCHEMA_VERSION.split(".")[0]:
        problems.append(f"schema_version {attrs.get('schema_version')!r} unsupported "
                        f"(expected {schema.SCHEMA_VERSION})")
    if attrs.get("status") != store.STATUS_COMPLETE:
        return problems + [f"status is {attrs.get('status')!r}, not 'complete' (generation "
                           f"unfinished: resume it)"]
    if list(attrs.get("feature_names", [])) != list(schema.FEATURE_NAMES):
        problems.append("attribute feature_names does not match the schema")
    optional = schema.optional_in(attrs.get("schema_version"))
    vocab = {k: list(v) for k, v in schema.VOCABULARIES.items() if k not in optional}
    if attrs.get("vocabularies") != vocab:
        problems.append("attribute vocabularies does not match the schema")
    counts = attrs.get("counts", {})
    n, t = counts.get("n_sequences"), counts.get("n_frames")
    if not isinstance(n, int) or not isinstance(t, int):
        return problems + ["attribute counts.n_sequences / counts.n_frames missing"]
    missing_ok = set(attrs.get("missing_fields", []))  # imported data may lack some fields
    try:
        root = store.open_root(path)
    except Exception as e:  # noqa: BLE001 - report any open failure as a problem
        return problems + [f"cannot open store: {e}"]
    sums = attrs.get("checksums", {})
    for name, spec in schema.ARRAYS.items():
        if name in optional and name not in root:
            continue
        problems += _check_array(root, name, spec, n, t, missing_ok, sums.get(name), checksums)
    if not problems:
        problems += _check_counts(root, counts)
    return problems


def _check_array(root, name, spec, n, t, missing_ok, want_sum, do_sum) -> list[str]:
    if name not in root:
        return [f"array {name!r} missing"]
    try:
        arr = root[name]
    except Exception as e:  # noqa: BLE001
        return [f"array {name!r} unreadable metadata: {e}"]
    out = []
    if str(arr.dtype) != spec.dtype:
        out.append(f"array {name!r} has dtype {arr.dtype}, expected {spec.dtype}")
    want = spec.shape(n, t)
    if tuple(arr.shape) != want:
        return out + [f"array {name!r} has shape {tuple(arr.shape)}, expected {want}"]
    h = hashlib.sha256()
    n_nonfinite, lo_seen, hi_seen = 0, np.inf, -np.inf
    try:
        for lo in range(0, n, BLOCK):
            block = np.asarray(arr[lo:lo + BLOCK])
            if do_sum:
                h.update(np.ascontiguousarray(block).tobytes())
            if block.dtype.kind == "f":
                bad = ~np.isfinite(block)
                n_nonfinite += int(bad.sum())
                block = block[~bad]
            if block.size and spec.value_range is not None:
                lo_seen = min(lo_seen, float(block.min()))
                hi_seen = max(hi_seen, float(block.max()))
    except Exception as e:  # noqa: BLE001 - corrupted chunk
        return out + [f"array {name!r}: cannot decode data ({type(e).__name__}: {e})"]
    if n_nonfinite and name not in missing_ok:
        out.append(f"array {name!r} contains {n_nonfinite} NaN/Inf values")
    if spec.value_range is not None and lo_seen <= hi_seen:
        a, b = spec.value_range
        if lo_seen < a or hi_seen > b:
            out.append(f"array {name!r} values in [{lo_seen:g}, {hi_seen:g}] outside allowed "
                       f"range [{a:g}, {b:g}] ({spec.unit})")
    if do_sum:
        got = "sha256:" + h.hexdigest()
        if want_sum is None:
            out.append(f"array {name!r} has no checksum in the root attributes")
        elif got != want_sum:
            out.append(f"array {name!r} checksum mismatch (data changed or corrupted)")
    return out


def _check_counts(root, counts: dict) -> list[str]:
    out = []
    success = root["success"][:]
    if not counts.get("failures_stored", False) and not success.all():
        out.append(f"array 'success' has {int((~success).sum())} False values but failures "
                   f"are not meant to be stored")
    if "failure_reason" in root:
        mismatch = int(((root["failure_reason"][:] == 0) != success).sum())
        if mismatch:
            out.append(f"arrays 'failure_reason' and 'success' disagree on {mismatch} "
                       f"sequences (reason 0 'none' must mean success)")
    rt = root["robot_type"][:]
    per = {name: int((rt == i).sum()) for i, name in enumerate(schema.ROBOT_TYPES)}
    if counts.get("per_robot", per) != per:
        out.append(f"counts.per_robot {counts.get('per_robot')} != data {per}")
    return out
