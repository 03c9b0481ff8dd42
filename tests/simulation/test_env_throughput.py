"""``benchmarks/sim_throughput.py``'s VectorEnv row on a tiny run: the env and the physics of
its own steps are both measured, in the same run, and their ratio printed."""

import importlib.util
import re
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "sim_throughput.py"


@pytest.fixture(scope="module")
def sim_throughput():
    spec = importlib.util.spec_from_file_location("sim_throughput_env", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module                # its dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_vector_env_row_against_its_own_physics(sim_throughput, capsys):
    sim_throughput.main(["--robots", "2", "--seconds", "0.4", "--repeats", "2",
                         "--skip-workers"])
    out = capsys.readouterr().out
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
