"""--executor ray on a local 2-CPU Ray cluster gives the same bytes as plain processes."""

from __future__ import annotations

import pytest

from behaviorbench.datasets.generate import generate
from tests.datasets.helpers import synth_config, tree_bytes

ray = pytest.importorskip("ray", reason="ray not installed (pip install ray)")


def test_ray_executor_matches_process_pool(tmp_path):
    cfg = synth_config()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        generate(tmp_path / "ray", cfg, workers=2, executor="ray")
    finally:
        ray.shutdown()
    generate(tmp_path / "proc", cfg, workers=1)
    a, b = tree_bytes(tmp_path / "ray"), tree_bytes(tmp_path / "proc")
    assert a.keys() == b.keys() and all(a[k] == b[k] for k in a)
