"""Runner pieces: deterministic frame subsampling and selective embedding."""

from __future__ import annotations

import numpy as np

from behaviorbench.benchmark.runner import embed_selection, select_frames


class _Cumsum:
    """A causal toy 'model': running sum over time (enough to check indexing)."""

    def embed(self, x):
        return np.cumsum(x, axis=1).astype(np.float32)


def test_select_frames_caps_and_is_deterministic():
    seqs = np.array([5, 1, 3])
    a = select_frames(seqs, n_frames=100, cap=50, skip=10, seed=0)
    b = select_frames(seqs, n_frames=100, cap=50, skip=10, seed=0)
    np.testing.assert_array_equal(a.seq, b.seq)
    np.testing.assert_array_equal(a.t, b.t)
    assert len(a.seq) == 50 and a.n_available == 3 * 90
    assert set(a.seq) <= {1, 3, 5} and a.t.min() >= 10 and a.t.max() < 100
    assert len({(s, t) for s, t in zip(a.seq, a.t, strict=True)}) == 50  # no repeats
    full = select_frames(seqs, n_frames=100, cap=10**6, skip=10, seed=0)
    assert len(full.seq) == 270


def test_embed_selection_picks_the_selected_frames():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 40, 3)).astype(np.float32)
    sel = select_frames(np.array([0, 2, 3, 6]), n_frames=40, cap=60, skip=5, seed=1)
    emb = embed_selection(lambda idx: _Cumsum().embed(x[idx]), sel, skip=5, batch=3)
    z = np.cumsum(x, axis=1)
    np.testing.assert_allclose(emb.rows, z[sel.seq, sel.t], rtol=1e-5)
    np.testing.assert_allclose(emb.seq_mean[6], z[6, 5:].mean(0), rtol=1e-5)
    assert set(emb.seq_mean) == {0, 2, 3, 6}


# --- what a reviewer relies on: non-finite refused, failures out, coverage, spreads -----------

from behaviorbench.benchmark import load as load_module  # noqa: E402
from behaviorbench.benchmark.cli import main  # noqa: E402
from behaviorbench.benchmark.results import load_results  # noqa: E402
from behaviorbench.models import BAMS, RawFeatures  # noqa: E402

QUICK = ["--seeds", "0", "--device", "cpu", "--readout-steps", "50", "--no-plots"]


class NaNEmbeddings(RawFeatures):
    """Raw features, but every embedding is NaN (a diverged model)."""

    def _embed(self, x):
        return np.full(x.shape, np.nan, dtype=np.float32)


class NaNLossBAMS(BAMS):
    """BAMS whose second optimiser step sees a NaN loss."""

    def make_trainer(self, data):
        trainer = super().make_trainer(data)
        inner, calls = trainer.loss_fn, [0]

        def loss_fn(m, b, c):
            calls[0] += 1
            loss, terms = inner(m, b, c)
            return (loss * float("nan") if calls[0] == 2 else loss), terms

        trainer.loss_fn = loss_fn
        return trainer


def test_nan_embeddings_fail_with_exit_2_and_write_nothing(tiny_store, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["--model", f"{__name__}:NaNEmbeddings", "--data", str(tiny_store),
                 "--out", str(out), *QUICK])
    err = capsys.readouterr().err
    assert code == 2 and "non-finite" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_nan_training_loss_fails_with_exit_2_naming_epoch_and_step(tiny_store, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["--model", f"{__name__}:NaNLossBAMS", "--data", str(tiny_store),
                 "--out", str(out), "--epochs", "2", "--short-channels", "4",
                 "--long-channels", "4", "--predictor-hidden", "8", "--batch-size", "4", *QUICK])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "non-finite at epoch 1, optimiser step 2" in err
    assert not out.exists()


def _with_failed(monkeypatch, failed: int) -> None:
    """Mark sequence ``failed`` of every loaded terrain store as a failed traversal."""
    real = load_module.DATASET_LOADERS["terrain"]

    def loader(path):
        handle = real(path)
        handle.data.success = handle.data.success.copy()
        handle.data.success[failed] = False
        return handle

    monkeypatch.setitem(load_module.DATASET_LOADERS, "terrain", loader)


def test_a_failed_sequence_is_neither_trained_nor_scored(tiny_store, tmp_path, monkeypatch):
    from behaviorbench.datasets import load_terrain_dataset

    data = load_terrain_dataset(tiny_store)
    failed = int(data.paper_split()[1][0])  # a test sequence of the paper split
    _with_failed(monkeypatch, failed)
    fitted: list[int] = []
    real_fit = RawFeatures.fit
    monkeypatch.setattr(RawFeatures, "fit", lambda self, x: fitted.append(len(x)) or
                        real_fit(self, x))
    tasks = ["--tasks", "robot_type", "terrain_type"]
    for extra, name in (([], "out"), (["--include-failures"], "all")):
        assert main(["--model", "raw", "--data", str(tiny_store), "--out",
                     str(tmp_path / name), *QUICK, *tasks, *extra]) == 0
    (kept,) = (tmp_path / "out").glob("*.json")
    (every,) = (tmp_path / "all").glob("*.json")
    kept, every = load_results(kept), load_results(every)
    assert fitted == [19, 20]
    assert kept.provenance["failed_sequences_excluded"] == 1
    assert every.provenance["failed_sequences_excluded"] == 0
    assert kept.protocol.hash != every.protocol.hash  # they do not rank together
    for name in ("robot_type", "terrain_type"):
        a, b = kept.task(name).extra, every.task(name).extra
        assert a["n_test_rows"] == b["n_test_rows"] - 200  # one sequence of 200 frames
        assert sum(a["class_counts"]["test"]["frames"].values()) == a["n_test_rows"]
        seqs = a["class_counts"]["test"]["sequences"]
        if name == "robot_type":
            assert sum(seqs.values()) == 15
            assert sum(b["class_counts"]["test"]["sequences"].values()) == 16


def test_splits_report_chance_coverage_interval_and_both_spreads(tiny_store, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["--model", "pca", "--data", str(tiny_store), "--out", str(out),
                 "--seeds", "0", "1", "--splits", "3", "--split-strategy", "stratified",
                 "--tasks", "robot_type", "terrain_type", "terrain_slope", "--device", "cpu",
                 "--readout-steps", "50", "--no-plots", "--bootstrap", "200"]) == 0
    printed = capsys.readouterr().out
    assert "95% CI" in printed and "chance" in printed and "macro F1" in printed
    (path,) = out.glob("*.json")
    res = load_results(path)
    assert res.provenance["splits"] == {"random": 3, "strategy": "stratified"}
    t = res.task("terrain_type")
    x = t.extra
    reps = x["repetitions"]
    assert reps["splits"] == ["paper", "random-0", "random-1", "random-2"]
    assert np.shape(reps["values"]) == (4, 2)
    assert reps["values"][0] == t.values  # the own split's row is the headline values
    assert reps["std_over_splits"] >= 0 and reps["std_over_seeds"] >= 0
    assert "split" in reps["varied"] and "seed" in reps["varied"]
    assert x["interval"]["low"] <= t.mean <= x["interval"]["high"]
    assert {"majority", "prior_random"} <= set(x["chance"])
    assert 0 <= x["metrics"]["f1_macro"]["mean"] <= 1
    assert 0 <= x["metrics"]["balanced_accuracy"]["mean"] <= 1
    counts = x["class_counts"]
    assert sum(counts["train"]["frames"].values()) == x["n_train_rows"]
    assert isinstance(x["missing_in_train"], list)
    assert "train_mean" in res.task("terrain_slope").extra["chance"]
    assert "class_counts" not in res.task("terrain_slope").extra
