"""``generate-terrain-data --controller``: a policy file walks the robots and the store names it
(name, sha256); ``--resume`` refuses another controller; the built-in controller through the
protocol writes the store a loop calling it directly writes."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest
import torch

from behaviorbench.datasets import store
from behaviorbench.datasets.cli import main as generate_main
from behaviorbench.datasets.config import ConfigError, GenerationConfig, preset
from behaviorbench.datasets.generate import generate
from behaviorbench.datasets.validate_cli import main as validate_main
from behaviorbench.simulation.policy import file_sha256
from tests.datasets.helpers import tree_bytes


def zero_policy(path) -> str:
    """A TorchScript policy of zeros (a linear layer with zero weights): 235 -> 12."""
    lin = torch.nn.Linear(235, 12)
    with torch.no_grad():
        lin.weight.zero_()
        lin.bias.zero_()
    torch.jit.script(lin).save(str(path))
    return str(path)


@pytest.mark.slow
def test_tiny_preset_with_a_zero_policy_writes_a_valid_store_naming_it(tmp_path, monkeypatch,
                                                                       capsys):
    monkeypatch.chdir(tmp_path)
    zero_policy(tmp_path / "zero_policy.pt")
    argv = ["--preset", "tiny", "--controller", "zero_policy.pt", "--out", "s.zarr",
            "--no-progress", "--workers", "1"]
    assert generate_main(argv) == 0
    attrs = store.read_root_attrs(tmp_path / "s.zarr")
    ident = attrs["controller_identity"]
    assert ident["name"] == "zero_policy.pt"
    assert ident["sha256"] == file_sha256(tmp_path / "zero_policy.pt")
    assert ident["source"] == str(tmp_path / "zero_policy.pt")
    assert ident["config"]["actuation"] == {"action_scale": 0.5, "kp": 80.0, "kd": 2.0,
                                            "clip_actions": 100.0}
    assert attrs["config"]["controller"] == "zero_policy.pt"
    assert attrs["controller"] == ident["config"]
    assert attrs["simulator"]["torch"] == torch.__version__
    assert GenerationConfig.from_dict(attrs["config"]).controller == "zero_policy.pt"
    capsys.readouterr()
    assert validate_main(["s.zarr"]) == 0
    assert "OK" in capsys.readouterr().out
    # standing robots (4 s of the tiny preset) neither fall nor stall
    c = attrs["counts"]
    assert c["n_sequences"] == c["n_attempted"] == 4

    # resuming with a changed policy file of the same name is refused: another sha256
    torch.jit.script(torch.nn.Linear(235, 12)).save("zero_policy.pt")
    before = tree_bytes(tmp_path / "s.zarr")
    assert generate_main(argv + ["--resume"]) == 2
    err = capsys.readouterr().err
    assert "another controller" in err and len(err.splitlines()) == 1
    assert tree_bytes(tmp_path / "s.zarr") == before


def test_resume_refuses_a_policy_on_a_trot_store(tmp_path):
    """A store begun by the built-in controller (no identity recorded, as before the option)
    is not resumed with a policy, nor one begun by a policy with the built-in controller."""
    pol = zero_policy(tmp_path / "p.pt")
    cfg = preset("tiny", episode_s=1.0, trajectories_per_run=1, robots=("anymal_c",))
    out = tmp_path / "s"
    store.create_root(out, cfg.to_dict(), {})
    store.create_staging(out, cfg.n_attempted, cfg.n_frames, cfg.shard_size)
    with pytest.raises(ConfigError, match="another config"):
        generate(out, replace(cfg, controller=pol), resume=True)
    # same config, identity of another controller recorded: refused by the identity
    shutil.rmtree(out)
    store.create_root(out, cfg.to_dict(), {"controller_identity": {
        "name": "p.pt", "source": pol, "config": {}, "sha256": "0" * 64}})
    store.create_staging(out, cfg.n_attempted, cfg.n_frames, cfg.shard_size)
    with pytest.raises(ConfigError, match=r"another controller \(p.pt .*not trot\)"):
        generate(out, cfg, resume=True)


def test_trot_config_reads_as_before_the_option():
    """The built-in controller leaves the config dict (and so its hash) as it was."""
    cfg = preset("tiny")
    assert "controller" not in cfg.to_dict()
    assert GenerationConfig.from_dict(cfg.to_dict()) == cfg
    assert replace(cfg, controller="x.pt").to_dict()["controller"] == "x.pt"


def direct_backend(plan, indices):
    """A backend running the recording loop that calls TrotController directly (the loop
    before the protocol: tests/simulation/test_controller_protocol.direct_loop)."""
    from behaviorbench.datasets.backends import to_run_spec
    from tests.simulation.test_controller_protocol import direct_loop

    return direct_loop(to_run_spec(plan), list(indices))


@pytest.mark.slow
def test_the_builtin_controller_store_is_bit_identical_to_the_direct_loops(tmp_path):
    cfg = preset("tiny", episode_s=2.0, terrain_kinds=("flat_noise", "stairs_up"),
                 terrain_proportions=(1.0, 1.0), keep_failures=True)
    generate(tmp_path / "protocol", cfg, workers=1)
    generate(tmp_path / "direct", replace(cfg, backend=f"{__name__}:direct_backend"), workers=1)
    a = store.open_root(tmp_path / "protocol", "r")
    b = store.open_root(tmp_path / "direct", "r")
    names = sorted(k for k, _ in a.arrays())
    assert names == sorted(k for k, _ in b.arrays()) and "features" in names
    for name in names:
        x, y = np.asarray(a[name][...]), np.asarray(b[name][...])
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), name
    ident = store.read_root_attrs(tmp_path / "protocol")["controller_identity"]
    assert ident["name"] == "trot" and ident["sha256"] is None
