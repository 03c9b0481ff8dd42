"""``benchmarks/sim_throughput.py`` end to end on one tiny run: every row it prints is measured,
the replay reproduces the loop, ``--numpy-heights`` times the numpy sampler beside the kernel,
and the VectorEnv row is measured against the physics of its own steps in the same run."""

import contextlib
import importlib.util
import io
import re
import sys
from pathlib import Path

import mujoco
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "sim_throughput.py"


@pytest.fixture(scope="module")
def out() -> str:
    """What one tiny run of the benchmark prints."""
    spec = importlib.util.spec_from_file_location("sim_throughput_cli", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module                # its dataclasses look their module up
    buf = io.StringIO()
    try:
        spec.loader.exec_module(module)
        with contextlib.redirect_stdout(buf):
            module.main(["--robots", "2", "--seconds", "0.4", "--repeats", "2",
                         "--skip-workers", "--numpy-heights"])
    finally:
        del sys.modules[spec.name]
    return buf.getvalue()


def test_tiny_run_prints_measured_rows(out):
    assert f"MuJoCo {mujoco.__version__}" in out
    assert "replay reproduces the loop's states bit for bit: yes" in out
    for row in ("raw physics, replay of the loop", "whole loop",
                "whole loop, numpy height sampling"):
        line = next(ln for ln in out.splitlines() if ln.startswith(row + " "))
        rates = [float(v) for v in line[40:].split()]
        assert len(rates) == 2 + 2 and min(rates) > 0      # median, per CPU s, 2 repeats
    ratio = re.search(r"numpy height sampling / raw physics, replay, paired = ([\d.]+)", out)
    assert ratio and 0 < float(ratio.group(1)) < 2


def test_vector_env_row_against_its_own_physics(out):
    rates = {}
    for row in ("VectorEnv, random actions", "raw physics, VectorEnv's own steps"):
        line = next(ln for ln in out.splitlines() if ln.startswith(row + " "))
        rates[row] = [float(v) for v in line[40:].split()]
        assert min(rates[row]) > 0
    assert len(rates["VectorEnv, random actions"]) == 2 + 2    # median, per CPU s, 2 repeats
    # the physics is part of the env's step: the env is never faster than its own physics
    assert rates["VectorEnv, random actions"][0] < rates["raw physics, VectorEnv's own steps"][0]
    m = re.search(r"VectorEnv / raw physics, its own steps, paired by repeat = ([\d.]+) median"
                  r".*env overhead (\d+)%", out)
    assert m and 0 < float(m.group(1)) < 1
