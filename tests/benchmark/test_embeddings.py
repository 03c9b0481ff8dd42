"""run-benchmark --embeddings: file checks (one-line errors, nothing written), .npy and Zarr
input, and the same scores as the model the embeddings came from."""

from __future__ import annotations

import numpy as np
import pytest

from behaviorbench.benchmark.cli import main
from behaviorbench.benchmark.embeddings import (
    MAX_EMBEDDING_DIM,
    EmbeddingsError,
    file_sha256,
    open_embeddings,
)
from behaviorbench.benchmark.results import load_results

N, T = 20, 200  # the tiny store's sequences and frames (conftest.write_tiny_store)
FAST = ["--seeds", "0", "--device", "cpu", "--readout-steps", "50", "--no-plots",
        "--tasks", "robot_type", "terrain_slope"]


@pytest.mark.parametrize(("make", "message"), [
    (lambda: np.zeros((N, T), np.float32), "expected (N, T, D)"),
    (lambda: np.zeros((N - 1, T, 4), np.float32), "does not match the store's 20 sequences x 200"),
    (lambda: np.zeros((N, T + 1, 4), np.float32), "does not match"),
    (lambda: np.zeros((N, T, MAX_EMBEDDING_DIM + 1), np.float16), "D = 4097"),
    (lambda: np.zeros((N, T, 4), np.int64), "dtype int64"),
])
def test_bad_arrays_are_refused(tmp_path, make, message):
    path = tmp_path / "e.npy"
    np.save(path, make())
    with pytest.raises(EmbeddingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        open_embeddings(path, N, T)


def test_non_finite_value_is_located(tmp_path):
    x = np.zeros((N, T, 3), np.float32)
    x[7, 11, 2] = np.inf
    np.save(tmp_path / "e.npy", x)
    with pytest.raises(EmbeddingsError, match="sequence 7, frame 11, dim 2"):
        open_embeddings(tmp_path / "e.npy", N, T)


def test_zarr_array_and_group(tmp_path):
    import zarr

    x = np.random.default_rng(0).normal(size=(N, T, 3)).astype(np.float32)
    zarr.save_array(str(tmp_path / "a.zarr"), x)
    group = zarr.open_group(str(tmp_path / "g.zarr"), mode="w")
    group.create_array("embeddings", data=x.astype(np.float64), chunks=(4, T, 3))
    for name in ("a.zarr", "g.zarr"):
        f = open_embeddings(tmp_path / name, N, T)
        np.testing.assert_array_equal(f.embed_sequences(np.array([2, 5, 19])), x[[2, 5, 19]])
        assert f.sha256 == file_sha256(tmp_path / name) and f.sha256.startswith("sha256:")
    zarr.open_group(str(tmp_path / "empty.zarr"), mode="w")
    with pytest.raises(EmbeddingsError, match="without an array named 'embeddings'"):
        open_embeddings(tmp_path / "empty.zarr", N, T)
    (tmp_path / "e.txt").write_text("1 2 3")
    with pytest.raises(EmbeddingsError, match=r"expected a \.npy file or a Zarr folder"):
        open_embeddings(tmp_path / "e.txt", N, T)


@pytest.mark.parametrize(("argv", "message"), [
    (["--embeddings", "{emb}", "--data", "{store}"], "needs --name"),
    (["--embeddings", "{emb}", "--name", "x"], "needs --data"),
    (["--embeddings", "{emb}", "--data", "{store}", "--name", "a b"], "--name 'a b'"),
    (["--embeddings", "{emb}", "--data", "{store}", "--name", "x", "--model", "raw"],
     "drop --model"),
    (["--embeddings", "{emb}", "--data", "{store}", "--name", "x", "--fit-on", "train"],
     "--fit-on"),
    (["--data", "{store}", "--model", "raw", "--name", "x"], "go with --embeddings"),
    (["--embeddings", "{tmp}/missing.npy", "--data", "{store}", "--name", "x"],
     "missing.npy does not exist"),
    (["--embeddings", "{bad}", "--data", "{store}", "--name", "x"], "does not match the store"),
])
def test_cli_errors_are_one_line_and_write_nothing(tiny_store, tmp_path, capsys, argv, message):
    emb, bad = tmp_path / "emb.npy", tmp_path / "bad.npy"
    np.save(emb, np.zeros((N, T, 2), np.float32))
    np.save(bad, np.zeros((N, T - 1, 2), np.float32))
    out = tmp_path / "out"
    argv = [a.format(emb=emb, bad=bad, store=tiny_store, tmp=tmp_path) for a in argv]
    with pytest.raises(SystemExit) as stop:
        code = main([*argv, "--out", str(out), "--seeds", "0"])
        raise SystemExit(code)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err
    assert not out.exists()


def test_scores_equal_the_model_that_made_them(tiny_store, tmp_path):
    """raw by registry name vs its own embeddings written to a file: identical scores."""
    from behaviorbench.datasets import load_terrain_dataset
    from behaviorbench.models import get_model

    features = load_terrain_dataset(tiny_store).features
    emb = tmp_path / "raw.npy"
    np.save(emb, get_model("raw").fit(features).embed(features))
    assert main(["--model", "raw", "--data", str(tiny_store), "--out", str(tmp_path / "m"),
                 *FAST]) == 0
    assert main(["--embeddings", str(emb), "--data", str(tiny_store), "--name", "raw-file",
                 "--n-parameters", "24", "--out", str(tmp_path / "e"), *FAST]) == 0
    (m,) = (tmp_path / "m").glob("*.json")
    (e,) = (tmp_path / "e").glob("*.json")
    model, file = load_results(m), load_results(e)
    assert file.model.name == "raw-file" and file.model.n_parameters == 24
    assert file.model.origin == "embeddings" and file.model.target == str(emb)
    assert file.model.embeddings_sha256 == file_sha256(emb)
    assert "precomputed embeddings" in file.notes
    assert file.dataset == model.dataset and file.protocol == model.protocol
    assert [t.values for t in file.tasks] == [t.values for t in model.tasks]
