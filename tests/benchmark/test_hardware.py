"""Provenance helpers return real values from this machine."""

from __future__ import annotations

import re

import numpy as np
import torch

from behaviorbench.benchmark import hardware


def test_provenance_fields():
    assert hardware.cpu_model()
    versions = hardware.package_versions()
    assert versions["numpy"] == np.__version__
    assert versions["torch"] == torch.__version__
    before = hardware.peak_rss_bytes()
    block = np.ones(64 * 2**20 // 8)  # 64 MiB touched
    assert hardware.peak_rss_bytes() >= max(before, block.nbytes)
    commit = hardware.git_commit()
    assert commit is None or re.fullmatch(r"[0-9a-f]{40}(-dirty)?", commit)
    info = hardware.hardware_info()
    assert info["cpu_count"] >= 1 and isinstance(info["gpus"], list)
