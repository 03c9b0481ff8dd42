"""``run-benchmark --mabe-data DIR``: official MABe protocol through the benchmark CLI.

Small SYNTHETIC files in the official formats (``mabe.synthetic``), whose clip ids are a subset
of the official ``jax_split.json`` (as tests/benchmark/mabe/conftest.py does). Scores come from
the real evaluator; on synthetic data they say nothing about real performance.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from behaviorbench.benchmark.cli import main
from behaviorbench.benchmark.mabe.protocol import MABE_TASKS, load_split
from behaviorbench.benchmark.mabe.synthetic import SyntheticConfig, write_synthetic_mabe
from behaviorbench.benchmark.results import load_results
from behaviorbench.benchmark.tasks import DEFAULT_TASKS, TASKS
from behaviorbench.leaderboard.cli import main as leaderboard_main

CFG = SyntheticConfig(frames_per_clip=400, n_user_train=2)


@pytest.fixture(scope="module")
def mabe_files(tmp_path_factory, reference_dir):
    ref = reference_dir / "mabe22"
    d = tmp_path_factory.mktemp("mabe_cli")
    # split.json written beside the files = the official split restricted to the synthetic clips
    paths = write_synthetic_mabe(d, CFG, load_split(ref / "jax_split.json"), naming="aicrowd")
    return d, paths, ref


def _results(out):
    files = sorted(out.glob("*_mabe22-mouse-triplets_*.json"))
    assert len(files) == 1, files
    return files[0], load_results(files[0])


def test_mabe_tasks_registered():
    assert DEFAULT_TASKS["mabe"] == tuple(MABE_TASKS)
    for name, t in MABE_TASKS.items():
        spec = TASKS[name]
        assert (spec.dataset, spec.level, spec.kind) == ("mabe", t.level, t.kind)
        assert spec.metric == ("mean_mse" if t.kind == "regression" else "f1_binary")
        assert spec.higher_is_better is (t.kind == "classification")
    assert all(TASKS[n].dataset == "terrain" for n in DEFAULT_TASKS["terrain"])


def test_run_benchmark_mabe_official(mabe_files, tmp_path, capsys):
    d, paths, ref = mabe_files
    out = tmp_path / "out"
    rc = main(["--model", "raw", "--mabe-data", str(d), "--mabe-split", str(paths["split"]),
               "--mabe-tasks", str(ref / "jax_tasks.json"), "--seeds", "0", "--out", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "experiment_day" in printed and "UNOFFICIAL" not in printed
    path, res = _results(out)
    assert (res.dataset.name, res.dataset.kind) == ("mabe22-mouse-triplets", "mabe22")
    assert res.dataset.checksum.startswith("sha256:")
    assert res.seeds == [0] and res.model.n_parameters is not None
    assert res.hardware is not None and res.train_time_s is not None
    assert [t.name for t in res.tasks] == list(MABE_TASKS)
    for t in res.tasks:
        assert t.higher_is_better is (MABE_TASKS[t.name].kind == "classification")
        assert t.extra["official_split"] is True and t.extra["alpha"] == 1.0
        assert set(t.extra["private_by_alpha"]) == {"0.1", "0.5", "1.0", "2.0", "5.0"}
        assert ("pooled" in t.extra) is (MABE_TASKS[t.name].level == "sequence")
    # task values are the evaluator's Private Score at alpha 1.0 of the written official output
    seed_dir = out / "mabe_seed0"
    assert (seed_dir / "submission.npy").is_file()
    assert (seed_dir / "results.csv").read_text().startswith("Task ID,Private Score")
    table = json.loads((seed_dir / "results.json").read_text())["table"]
    for row in table:
        t = res.task(row["Task ID"])
        assert t.values == [row["Private Score"]] == [row["Score Alpha 1.0"]]
        assert t.extra["public"] == row["Public Score"]
    # the leaderboard accepts it
    assert leaderboard_main(["add", "--dir", str(tmp_path / "lb"), str(path)]) == 0


def test_run_benchmark_mabe_unofficial_and_task_subset(mabe_files, tmp_path, capsys):
    d, _, _ = mabe_files
    out = tmp_path / "out"
    rc = main(["--model", "raw", "--mabe-data", str(d), "--tasks", "lights", "time_of_day",
               "--seeds", "0", "1", "--out", str(out), "--no-save-checkpoint"])
    assert rc == 0
    assert "UNOFFICIAL" in capsys.readouterr().out
    _, res = _results(out)
    assert [t.name for t in res.tasks] == ["lights", "time_of_day"]
    assert "UNOFFICIAL" in res.notes and "unofficial" in res.model.label
    assert res.dataset.name == "mabe22-mouse-triplets-unofficial-split"  # own table
    for t in res.tasks:
        assert t.extra["official_split"] is False
        assert t.seeds == [0, 1] and len(t.values) == 2
        assert t.mean == pytest.approx(np.mean(t.values))
    assert res.task("time_of_day").higher_is_better is False
    assert not (out / "checkpoints").exists()


def test_run_benchmark_mabe_rejects_bad_options(mabe_files, tmp_path):
    d, _, ref = mabe_files
    with pytest.raises(SystemExit):
        main(["--model", "raw", "--mabe-data", str(d), "--tasks", "terrain_type"])
    with pytest.raises(SystemExit):
        main(["--model", "raw", "--data", "x.zarr", "--mabe-split", str(ref / "jax_split.json")])
    with pytest.raises(SystemExit):
        main(["--model", "raw", "--data", "x.zarr", "--mabe-data", str(d)])


def test_run_benchmark_mabe_bams_tiny(mabe_files, tmp_path):
    d, paths, _ = mabe_files
    out = tmp_path / "out"
    rc = main(["--model", "bams", "--mabe-data", str(d), "--mabe-split", str(paths["split"]),
               "--seeds", "0", "--out", str(out), "--device", "cpu", "--epochs", "1",
               "--short-channels", "8", "8", "--long-channels", "8", "8",
               "--predictor-hidden", "16", "--progress", "false",
               "--hoa-skip-frames", "20", "--long-skip-frames", "20", "--short-skip-frames", "10"])
    assert rc == 0
    _, res = _results(out)
    assert res.model.name == "bams" and res.model.n_parameters > 0
    assert len(res.tasks) == 13 and all(np.isfinite(t.mean) for t in res.tasks)
    assert (out / "checkpoints" / "bams_seed0.pt").is_file()
