"""run-benchmark and evaluate-mabe on bad input: exit 2, one line on stderr, nothing written;
a failure during training: exit 1, one line, the output folder it created removed again."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from behaviorbench.benchmark.cli import main as benchmark_main
from behaviorbench.benchmark.mabe.cli import main as mabe_main
from behaviorbench.models import get_model
from behaviorbench.models.baselines import PCABaseline
from tests.bad_input import assert_refused, snapshot


class FailingModel(PCABaseline):
    """A model whose training fails (stands for any error once the work has started)."""

    def _fit(self, x, valid):
        raise RuntimeError("training diverged")


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """cwd with a PCA checkpoint, a text file, an empty folder and a previous results folder."""
    rng = np.random.default_rng(0)
    get_model("pca", n_components=4).fit(rng.normal(size=(4, 50, 24)).astype(np.float32)).save(
        tmp_path / "pca.pt")
    (tmp_path / "notes.txt").write_text("not a checkpoint")
    (tmp_path / "empty").mkdir()
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "old.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    return tmp_path


NO_CUDA_DEVICE = "cuda:99" if torch.cuda.is_available() else "cuda"

BENCHMARK_CASES = [
    (["--model", "pca", "--seeds", "-1"], "seed must be an integer >= 0, got -1"),
    (["--model", "pca", "--seeds", "0", "0"], "seeds must be distinct"),
    (["--model", "pca", "--max-train-frames", "0"], "max_train_frames must be an integer >= 1"),
    (["--model", "pca", "--max-test-frames", "-5"], "max_test_frames"),
    (["--model", "pca", "--skip-frames", "-1"], "skip_frames"),
    (["--model", "pca", "--device", NO_CUDA_DEVICE], "is not available"),
    (["--model", "pca", "--device", "banana"], "got 'banana'"),
    (["--model", "pca", "--checkpoint", "notes.txt"], "notes.txt is not a pca checkpoint"),
    (["--model", "raw", "--checkpoint", "pca.pt"], "holds a 'pca' model, not 'raw'"),
    (["--model", "pca", "--checkpoint", "empty"], "is a directory"),
    (["--model", "pca", "--checkpoint", "missing.pt"], "no such file"),
    (["--model", "bams", "--epochs", "0"], "epochs must be an integer >= 1, got 0"),
    (["--model", "bams", "--epochs", "-3"], "epochs must be an integer >= 1, got -3"),
    (["--model", "pca", "--n-components", "-5"], "n_components must be in [1, 4096], got -5"),
    (["--model", "pca", "--n-components", "100000"], "got 100000"),
    (["--model", "pca", "--readout-steps", "-1"], "readout steps must be an integer >= 1"),
    (["--model", "pca", "--ridge-alphas", "0"], "ridge alphas"),
    (["--model", "tcn-autoencoder", "--window", "0"], "window must be >= 1"),
    (["--model", "no-such-model"], "unknown model 'no-such-model'"),
    (["--model", "pca", "--tasks", "nope"], "invalid choice"),
    (["--model", "pca", "--bogus"], "unrecognized arguments"),
    (["--model", "pca", "--out", "notes.txt"], "not a directory"),
    (["--model", "pca", "--out", "notes.txt/sub"], "cannot write"),
    (["--embeddings", "emb.npy"], "--embeddings needs --name"),
]


@pytest.mark.parametrize(("argv", "message"), BENCHMARK_CASES,
                         ids=[" ".join(a) for a, _ in BENCHMARK_CASES])
def test_run_benchmark_bad_input(workdir, tiny_store, capsys, argv, message):
    data = [] if "--data" in argv else ["--data", str(tiny_store)]
    out = [] if "--out" in argv else ["--out", "results/new"]
    assert_refused(benchmark_main, [*argv, *data, *out, "--no-plots"], workdir, capsys, message)


def test_run_benchmark_missing_dataset(workdir, capsys):
    assert_refused(benchmark_main, ["--model", "raw", "--data", "missing.zarr", "--out", "o"],
                   workdir, capsys, "not a behaviorbench terrain dataset")


@pytest.mark.parametrize("out", ["results", "new/deeper"])
def test_a_failure_during_training_writes_nothing(workdir, tiny_store, capsys, out):
    before = snapshot(workdir)
    code = benchmark_main(["--model", "tests.benchmark.test_bad_input:FailingModel",
                           "--data", str(tiny_store), "--out", out, "--seeds", "0"])
    err = capsys.readouterr().err
    assert code == 1 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "RuntimeError: training diverged" in err
    assert snapshot(workdir) == before  # no empty folder, no checkpoint left


def test_debug_shows_the_traceback(workdir, tiny_store, capsys, monkeypatch):
    monkeypatch.setenv("BEHAVIORBENCH_DEBUG", "1")
    assert benchmark_main(["--model", "pca", "--data", str(tiny_store), "--checkpoint",
                           "notes.txt"]) == 2
    assert "Traceback" in capsys.readouterr().err


MABE_CASES = [
    (["notes.txt", "--labels", "notes.txt"], "not a .npy file holding a pickled dict"),
    (["empty", "--labels", "notes.txt"], "is a directory"),
    (["missing.npy", "--labels", "notes.txt"], "no such file"),
    (["notes.txt"], "--labels"),
    (["notes.txt", "--labels", "notes.txt", "--chunk-rows", "0"], "--chunk-rows must be >= 1"),
    (["notes.txt", "--labels", "notes.txt", "--out", "nowhere/scores.csv"], "cannot write"),
    (["notes.txt", "--labels", "notes.txt", "--frob"], "unrecognized arguments"),
]


@pytest.mark.parametrize(("argv", "message"), MABE_CASES,
                         ids=[" ".join(a) for a, _ in MABE_CASES])
def test_evaluate_mabe_bad_input(workdir, capsys, argv, message):
    assert_refused(mabe_main, argv, workdir, capsys, message)
