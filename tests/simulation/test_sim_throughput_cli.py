"""``benchmarks/sim_throughput.py`` end to end on a tiny run: every row it prints is measured,
the replay reproduces the loop, and ``--numpy-heights`` times the numpy sampler beside the
kernel."""

import importlib.util
import re
import sys
from pathlib import Path

import mujoco
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "sim_throughput.py"


@pytest.fixture(scope="module")
def sim_throughput():
    spec = importlib.util.spec_from_file_location("sim_throughput_cli", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module                # its dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_tiny_run_prints_measured_rows(sim_throughput, capsys):
    sim_throughput.main(["--robots", "2", "--seconds", "0.4", "--repeats", "2",
                         "--skip-workers", "--numpy-heights"])
    out = capsys.readouterr().out
    assert f"MuJoCo {mujoco.__version__}" in out
    assert "replay reproduces the loop's states bit for bit: yes" in out
    for row in ("raw physics, replay of the loop", "whole loop",
                "whole loop, numpy height sampling"):
        line = next(ln for ln in out.splitlines() if ln.startswith(row + " "))
        rates = [float(v) for v in line[40:].split()]
        assert len(rates) == 2 + 2 and min(rates) > 0      # median, per CPU s, 2 repeats
    ratio = re.search(r"numpy height sampling / raw physics, replay, paired = ([\d.]+)", out)
    assert ratio and 0 < float(ratio.group(1)) < 2
