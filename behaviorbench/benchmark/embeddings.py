"""Precomputed embeddings: ``run-benchmark --embeddings FILE --data STORE --name NAME``.

The file holds per-frame embeddings ``(N, T, D)`` of every sequence of the store, in store
order: a ``.npy`` file (read memory-mapped) or a Zarr array (a Zarr group holding an array named
``embeddings`` also works). Checked before any scoring (``open_embeddings``): N and T equal the
store's, 1 <= D <= ``MAX_EMBEDDING_DIM``, a floating-point dtype (float16/32/64, read as
float32), every value finite. The results record the file's ``sha256``: of the file's bytes for
``.npy``; for a Zarr folder, of the lines ``<relative path> <sha256 of the file>`` of its files
(sorted by path, '/' separators).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# largest D scored (the ridge readout solves (D, D) normal equations in float64); defined
# with the models, whose configs are bounded by it
from behaviorbench.models.validation import MAX_EMBEDDING_DIM  # noqa: E402

ZARR_ARRAY_NAME = "embeddings"
"""Array read from a Zarr group."""

_SCAN_BYTES = 1 << 27  # bytes read per block when scanning for non-finite values


class EmbeddingsError(ValueError):
    """An embeddings file is unusable; the one-line message names the file and the problem."""


@dataclass
class EmbeddingsFile:
    """A validated embeddings file: ``array`` (N, T, D) indexable by sorted sequence indices."""

    path: Path
    array: Any  # np.memmap (.npy) or zarr.Array
    sha256: str  # "sha256:<hex>"

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.array.shape)

    def embed_sequences(self, idx: np.ndarray) -> np.ndarray:
        """Sorted sequence indices (b,) -> (b, T, D) float32."""
        idx = np.asarray(idx, dtype=np.int64)
        if isinstance(self.array, np.ndarray):
            block = self.array[idx]
        else:
            block = self.array.get_orthogonal_selection((idx, slice(None), slice(None)))
        return np.ascontiguousarray(block, dtype=np.float32)


def file_sha256(path: Path, chunk: int = 1 << 24) -> str:
    """'sha256:<hex>' of a file's bytes, or of a folder's files as the module docstring says."""
    def one(p: Path) -> str:
        h = hashlib.sha256()
        with open(p, "rb") as f:
            while block := f.read(chunk):
                h.update(block)
        return h.hexdigest()

    if path.is_file():
        return "sha256:" + one(path)
    lines = [f"{p.relative_to(path).as_posix()} {one(p)}"
             for p in sorted(path.rglob("*")) if p.is_file()]
    return "sha256:" + hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _open(path: Path) -> Any:
    if path.is_file() and path.suffix == ".npy":
        try:
            return np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as e:
            raise EmbeddingsError(f"embeddings file {path}: not a readable .npy array ({e})"
                                  ) from None
    if path.is_dir():
        import zarr

        try:
            node = zarr.open(str(path), mode="r")
        except Exception as e:  # noqa: BLE001 - any zarr failure means "not a Zarr store"
            raise EmbeddingsError(f"embeddings file {path}: not a Zarr array or group ({e})"
                                  ) from None
        if isinstance(node, zarr.Group):
            if ZARR_ARRAY_NAME not in node:
                raise EmbeddingsError(f"embeddings file {path}: Zarr group without an array "
                                      f"named {ZARR_ARRAY_NAME!r}")
            node = node[ZARR_ARRAY_NAME]
        return node
    raise EmbeddingsError(f"embeddings file {path}: expected a .npy file or a Zarr folder")


def _first_non_finite(arr: Any) -> tuple[int, int, int] | None:
    n, t, d = (int(s) for s in arr.shape)
    step = max(1, _SCAN_BYTES // max(1, t * d * arr.dtype.itemsize))
    for lo in range(0, n, step):
        block = np.asarray(arr[lo : lo + step])
        bad = ~np.isfinite(block)
        if bad.any():
            i, j, k = np.argwhere(bad)[0]
            return lo + int(i), int(j), int(k)
    return None


def open_embeddings(path: str | Path, n_sequences: int, n_frames: int) -> EmbeddingsFile:
    """Open and check the embeddings at ``path`` against a store of ``n_sequences`` x
    ``n_frames``; raise ``EmbeddingsError`` (one line) on the first problem."""
    path = Path(path)
    if not path.exists():
        raise EmbeddingsError(f"embeddings file {path} does not exist")
    arr = _open(path)
    shape = tuple(int(s) for s in arr.shape)
    if len(shape) != 3:
        raise EmbeddingsError(f"embeddings file {path}: shape {shape}; expected (N, T, D)")
    if shape[:2] != (n_sequences, n_frames):
        raise EmbeddingsError(
            f"embeddings file {path}: shape {shape} does not match the store's "
            f"{n_sequences} sequences x {n_frames} frames")
    if not 1 <= shape[2] <= MAX_EMBEDDING_DIM:
        raise EmbeddingsError(f"embeddings file {path}: D = {shape[2]}; expected 1 <= D <= "
                              f"{MAX_EMBEDDING_DIM}")
    if np.dtype(arr.dtype).kind != "f":
        raise EmbeddingsError(f"embeddings file {path}: dtype {arr.dtype}; expected float16, "
                              "float32 or float64")
    bad = _first_non_finite(arr)
    if bad is not None:
        raise EmbeddingsError(f"embeddings file {path}: non-finite value at sequence {bad[0]}, "
                              f"frame {bad[1]}, dim {bad[2]}")
    return EmbeddingsFile(path=path, array=arr, sha256=file_sha256(path))
