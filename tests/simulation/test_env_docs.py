"""docs/environment.md's example runs as written: train a (tiny) policy on the environment,
save it as TorchScript, generate a tiny dataset with it, and the store names the policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from behaviorbench.datasets import store
from behaviorbench.datasets.validate import validate_store

DOC = Path(__file__).resolve().parents[2] / "docs" / "environment.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.slow
def test_the_training_and_generation_example_runs(tmp_path, monkeypatch):
    blocks = python_blocks(DOC.read_text())
    example = next(b for b in blocks if "policy.pt" in b)
    monkeypatch.chdir(tmp_path)
    exec(compile(example, str(DOC), "exec"), {"__name__": "docs_example"})
    ident = store.read_root_attrs(tmp_path / "mine.zarr")["controller_identity"]
    assert ident["name"] == "policy.pt" and len(ident["sha256"]) == 64
    assert validate_store(tmp_path / "mine.zarr") == []


def test_the_first_example_makes_both_kinds_of_env():
    first = python_blocks(DOC.read_text())[0]
    first = first.replace("num_envs=64", "num_envs=2")
    scope: dict = {}
    exec(compile(first, str(DOC), "exec"), scope)
    assert scope["venv"].num_envs == 2 and scope["env"].observation_space.shape == (235,)
