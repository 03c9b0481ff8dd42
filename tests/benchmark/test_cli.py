"""run-benchmark: registry listings, generated model options, and end-to-end runs on a tiny
store written by the real dataset writer (synthetic trajectories, see synthetic_backend.py)."""

from __future__ import annotations

import json

import pytest

from behaviorbench.benchmark.cli import build_parser, main
from behaviorbench.benchmark.results import load_results
from behaviorbench.benchmark.tasks import TASKS
from behaviorbench.models import MODELS

from .synthetic_backend import BACKEND

TINY_BAMS = ["--epochs", "1", "--short-channels", "8", "8", "--long-channels", "8", "8",
             "--predictor-hidden", "16", "--batch-size", "4"]


def test_list_models_and_tasks(capsys):
    assert main(["--list-models"]) == 0
    out = capsys.readouterr().out
    for name in MODELS:
        assert name in out
    assert "builtin" in out and "behaviorbench.models.bams:BAMS" in out
    assert main(["--list-tasks"]) == 0
    out = capsys.readouterr().out
    for name in TASKS:
        assert name in out


def test_model_options_are_generated_from_config():
    p = build_parser("bams")
    args = p.parse_args(["--model", "bams", "--data", "x", "--epochs", "3",
                         "--short-channels", "8", "8", "--train", "false"])
    assert args.model__epochs == 3
    assert args.model__short_channels == [8, 8]
    assert args.model__train is False
    with pytest.raises(SystemExit):
        build_parser("pca").parse_args(["--model", "pca", "--epochs", "3"])
    with pytest.raises(SystemExit):
        main(["--model", "pca", "--data", "x", "--tasks", "no_such_task"])


def test_end_to_end_raw_features_recover_planted_labels(tiny_store, tmp_path):
    out = tmp_path / "raw"
    assert main(["--model", "raw", "--data", str(tiny_store), "--out", str(out),
                 "--seeds", "0", "--readout-steps", "300", "--device", "cpu"]) == 0
    (path,) = sorted(out.glob("*.json"))
    res = load_results(path)
    physics = {"foot_contact", "stride_phase", "stride_frequency"}  # no contacts in this store
    assert {t.name for t in res.tasks} == set(TASKS) - physics - {
        n for n, t in TASKS.items() if t.dataset != "terrain"}
    assert set(res.provenance["skipped_tasks"]) == physics
    # the synthetic store plants these labels linearly in the features (synthetic_backend.py)
    assert res.task("robot_type").mean > 0.9
    assert res.task("terrain_type").mean > 0.8
    assert res.task("terrain_slope").mean > 0.7
    for a in res.artifacts:
        assert (out / a).is_file() and a.endswith(".png")
    # tied to its data and protocol
    assert res.model.origin == "builtin"
    assert res.model.target == "behaviorbench.models.baselines:RawFeatures"
    assert res.dataset.schema_version == "1.2" and res.dataset.config_hash.startswith("sha256:")
    assert res.protocol.split == "paper" and res.protocol.frames["max_train_frames"] == 200_000
    assert res.protocol.readout["linear"]["steps"] == 300


def test_end_to_end_bams_seeds_checkpoints_and_reload(tiny_store, tmp_path):
    out = tmp_path / "bams"
    common = ["--data", str(tiny_store), "--device", "cpu", "--readout-steps", "100",
              "--max-train-frames", "400", "--max-test-frames", "800",
              "--tasks", "robot_type", "terrain_type", "terrain_slope"]
    assert main(["--model", "bams", *common, "--out", str(out), "--seeds", "0", "1", "--spaces",
                 *TINY_BAMS]) == 0
    (path,) = sorted(out.glob("bams_*.json"))
    res = load_results(path)
    raw = json.loads(path.read_text())
    assert res.seeds == [0, 1] and res.model.name == "bams"
    assert res.model.n_parameters > 0 and res.model.config["epochs"] == 1
    assert res.dataset.checksum.startswith("sha256:") and res.dataset.schema_version
    assert res.train_time_s > 0 and res.eval_time_s > 0 and res.peak_memory_bytes > 0
    assert res.hardware.device == "cpu" and res.package_versions["torch"]
    t = res.task("terrain_type")
    assert len(t.values) == 2 and t.std is not None
    assert t.extra["n_train_rows"] == 400 and t.extra["n_test_rows"] == 800
    assert len(t.extra["confusion_matrix"]) == 5
    assert raw["tasks"][0]["seeds"] == [0, 1]
    # provenance: precision, epochs and steps run, final loss per term, times per seed
    prov = res.provenance
    assert prov["precision"] == "fp32" and prov["sequence_length"] == 200
    assert [p["seed"] for p in prov["per_seed"]] == [0, 1]
    for p in prov["per_seed"]:
        assert p["epochs_run"] == 1 and p["optimizer_steps"] >= 1
        assert {"hoa", "short", "long", "loss"} <= set(p["final_loss"])
        assert p["train_s"] > 0 and p["embed_s"] > 0 and p["score_s"] > 0
    assert res.train_time_s == pytest.approx(sum(p["train_s"] for p in prov["per_seed"]))
    rf = prov["receptive_fields"]
    assert set(rf) == {"short", "long"} and rf["long"] > rf["short"]
    # scored test frames are spread evenly over t in [0, 200): the share inside each encoder's
    # warm-up is about (receptive field - 1) / 200
    for enc, share in prov["scored_frames_before_receptive_field"].items():
        assert share == pytest.approx(min(rf[enc] - 1, 200) / 200, abs=0.05)
    assert any("pca_short" in a for a in res.artifacts)
    assert any("pca_long" in a for a in res.artifacts)
    # --spaces: the short/long spaces of the same trained model, one results file each
    for view in ("bams-short", "bams-long"):
        (vpath,) = sorted(out.glob(f"{view}_*.json"))
        vres = load_results(vpath)
        assert vres.model.name == view and vres.seeds == [0, 1]
        assert {t.name for t in vres.tasks} == {t.name for t in res.tasks}
    ckpt = out / "checkpoints" / "bams_seed0.pt"
    assert ckpt.is_file() and (out / "checkpoints" / "bams_seed1.pt").is_file()

    # Loading the seed-0 checkpoint and reading out with seed 0 reproduces seed 0's scores.
    out2 = tmp_path / "reload"
    assert main(["--model", "bams", *common, "--out", str(out2), "--seeds", "0",
                 "--checkpoint", str(ckpt), "--no-plots"]) == 0
    (path2,) = sorted(out2.glob("*.json"))
    res2 = load_results(path2)
    assert res2.train_time_s is None
    for name in ("robot_type", "terrain_type", "terrain_slope"):
        assert res2.task(name).values[0] == pytest.approx(res.task(name).values[0], abs=1e-6)


def test_bad_dataset_path_is_a_one_line_error(tmp_path, capsys):
    from behaviorbench.benchmark.cli import main

    code = main(["--model", "raw", "--data", str(tmp_path / "missing.zarr"),
                 "--out", str(tmp_path / "out"), "--seeds", "0"])
    assert code == 2
    err = capsys.readouterr().err
    assert "not a behaviorbench terrain dataset" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.json"))


def test_too_few_sequences_fail_before_training(tmp_path, capsys):
    """4 sequences cannot be split 20/80: one-line error, exit 2, no model trained or saved."""
    from behaviorbench.datasets import generate_dataset
    from behaviorbench.datasets.config import preset

    store = tmp_path / "four.zarr"
    generate_dataset(store, preset("tiny", backend=BACKEND, trajectories_per_run=2,
                                   command_vels=(0.5,), episode_s=4.0, shard_size=2),
                     executor="serial")
    out = tmp_path / "out"
    code = main(["--model", "bams", "--data", str(store), "--out", str(out), "--seeds", "0",
                 *TINY_BAMS])
    captured = capsys.readouterr()
    assert code == 2
    assert "needs at least 5 sequences; this dataset has 4" in captured.err
    assert "training" not in captured.out  # failed before fit
    assert not list(out.rglob("*.pt")) and not list(out.rglob("*.json"))


@pytest.mark.parametrize(("argv", "message"), [
    (["--model", "no-such-model"], "unknown model 'no-such-model'; choose from bams"),
    (["--model", "no_such_pkg.mod:Model"], "cannot import 'no_such_pkg.mod'"),
    (["--model", "behaviorbench.models.baselines:Nope"], "has no attribute 'Nope'"),
    (["--model", "behaviorbench.models.baselines:delay_embed"], "is a function, not a class"),
    (["--model", "pca", "--n-components", "0"], "n_components must be in [1, 4096], got 0"),
    (["--model", "bams", "--epochs", "-3"], "epochs must be an integer >= 1, got -3"),
    (["--model", "bams", "--dropout", "1.5"], "dropout must be in [0, 1), got 1.5"),
    (["--model", "behaviorbench.models.baselines:PCABaseline", "--history", "0"],
     "history must be >= 1, got 0"),
])
def test_bad_model_is_a_one_line_error_before_any_work(tiny_store, tmp_path, capsys, argv,
                                                       message):
    out = tmp_path / "out"
    code = main([*argv, "--data", str(tiny_store), "--out", str(out), "--seeds", "0"])
    captured = capsys.readouterr()
    assert code == 2
    assert len(captured.err.strip().splitlines()) == 1 and message in captured.err
    assert "loading" not in captured.out and not out.exists()


def test_import_path_model_gets_its_config_flags_and_origin(tiny_store, tmp_path):
    out = tmp_path / "pca"
    assert main(["--model", "behaviorbench.models.baselines:PCABaseline", "--n-components", "4",
                 "--data", str(tiny_store), "--out", str(out), "--seeds", "0", "--no-plots",
                 "--readout-steps", "50", "--tasks", "robot_type"]) == 0
    (path,) = out.glob("*.json")
    assert path.name.startswith("behaviorbench.models.baselines-PCABaseline_tiny_")
    res = load_results(path)
    assert res.model.name == "behaviorbench.models.baselines:PCABaseline"
    assert res.model.origin == "import-path" and res.model.config["n_components"] == 4
    assert (out / "checkpoints" / "behaviorbench.models.baselines-PCABaseline_seed0.pt").is_file()
