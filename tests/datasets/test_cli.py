"""generate-terrain-data argument handling: bad input -> one line, exit 2, nothing written."""

from __future__ import annotations

import pytest

from behaviorbench.datasets import store
from behaviorbench.datasets.cli import build_parser, config_from_args, main
from behaviorbench.datasets.config import PRESETS, TERRAIN_KINDS
from tests.datasets.helpers import tree_bytes


@pytest.mark.parametrize("args, msg", [
    (["--robots", "spot"], "unknown robot 'spot'"),
    (["--terrains", "lava"], "unknown terrain 'lava'"),
    (["--trajectories-per-run", "-3"], "positive integer"),
    (["--trajectories-per-run", "0"], "positive integer"),
    (["--episode-s", "-1"], "episode length"),
    (["--command-vels", "0.5,-1"], "command velocity"),
    (["--added-mass", "5", "-5"], "added mass range"),
    (["--difficulties", "2"], "difficulties"),
    (["--seed", "-1"], "seed"),
    (["--workers", "0"], "--workers"),
    (["--backend", "isaacgym"], "not available"),
    # --backend mujoco-warp without mujoco_warp: tests/simulation/test_warp_backend.py
    (["--backend", "bullet"], "invalid choice"),
    (["--trajectories-per-run", "x"], "invalid int"),
])
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, capsys, args, msg):
    out = tmp_path / "new" / "store"
    with pytest.raises(SystemExit) as e:
        raise SystemExit(main(["--out", str(out), *args]))
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and msg in err, err
    assert not (tmp_path / "new").exists()


def test_unwritable_path(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    assert main(["--out", str(blocker / "store")]) == 2
    assert main(["--out", "/proc/behaviorbench-store"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all("cannot write" in line for line in err)
    assert blocker.read_text() == "x"


def test_existing_store_with_other_config(tmp_path, capsys):
    out = tmp_path / "s"
    cfg = config_from_args(build_parser().parse_args(["--out", str(out), "--seed", "1"]))
    store.create_root(out, cfg.to_dict())
    store.create_staging(out, cfg.n_attempted, cfg.n_frames, cfg.shard_size)
    before = tree_bytes(out)
    assert main(["--out", str(out), "--seed", "2", "--resume"]) == 2
    assert "another config" in capsys.readouterr().err
    assert main(["--out", str(out), "--seed", "1"]) == 2  # exists, neither resume nor overwrite
    assert "--resume" in capsys.readouterr().err
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a").write_text("a")
    assert main(["--out", str(tmp_path / "junk"), "--overwrite"]) == 2
    assert "not a behaviorbench store" in capsys.readouterr().err
    assert tree_bytes(out) == before and (tmp_path / "junk" / "a").read_text() == "a"


def test_options_map_onto_config(tmp_path):
    args = build_parser().parse_args([
        "--out", str(tmp_path), "--robots", "anymal_c", "--trajectories-per-run", "3",
        "--command-vels", "0.4,0.8", "--episode-s", "6", "--terrains", "flat,stairs_up",
        "--difficulties", "0.5", "--added-mass", "-2", "3", "--seed", "7", "--keep-failures"])
    cfg = config_from_args(args)
    assert cfg.robots == ("anymal_c",) and cfg.trajectories_per_run == 3
    assert cfg.command_vels == (0.4, 0.8) and cfg.n_frames == 300 and cfg.seed == 7
    assert cfg.added_mass_range == (-2.0, 3.0) and cfg.keep_failures
    mix = cfg.terrain_mix()
    assert mix["flat"] == pytest.approx(0.4) and mix["stairs_up"] == pytest.approx(0.6)
    assert sum(mix.values()) == pytest.approx(1.0)
    default = config_from_args(build_parser().parse_args(["--out", str(tmp_path)]))
    assert default == PRESETS["default"] and set(default.terrain_kinds) == set(TERRAIN_KINDS)
    assert default.robots == ("anymal_b", "anymal_c")
    paper = config_from_args(build_parser().parse_args(["--out", "x", "--preset", "paper"]))
    assert paper.episode_s == 180 and paper.trajectories_per_run == 200
    assert paper.terrain_proportions == (0.15, 0.15, 0.15, 0.15, 0.2, 0.0, 0.1, 0.1)
    assert paper.difficulties == (0.5, 0.75, 0.9) and paper.added_mass_range == (-5.0, 5.0)


def test_vertical_walls_option_reaches_the_simulator(tmp_path):
    from behaviorbench.datasets.backends import to_run_spec
    from behaviorbench.datasets.config import GenerationConfig
    from behaviorbench.datasets.generate import plan_runs

    default = config_from_args(build_parser().parse_args(["--out", str(tmp_path)]))
    ramps = config_from_args(build_parser().parse_args(["--out", str(tmp_path),
                                                        "--height-field-ramps"]))
    assert default.vertical_walls and not ramps.vertical_walls
    for cfg in (default, ramps):
        spec = to_run_spec(plan_runs(cfg)[0])
        assert spec.terrain.vertical_walls == cfg.vertical_walls
        assert GenerationConfig.from_dict(cfg.to_dict()) == cfg  # stored and read back
    # stores written before the option existed were simulated with height-field ramps
    legacy = {k: v for k, v in default.to_dict().items() if k != "vertical_walls"}
    assert GenerationConfig.from_dict(legacy).vertical_walls is False
