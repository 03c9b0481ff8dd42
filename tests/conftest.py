"""Shared fixtures: paths to the repository and to the reference material CI places beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO_ROOT.parent / "shared" / "reference"
ARTIFACT_DIR = REPO_ROOT / "test-artifacts"


@pytest.fixture(scope="package")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="package")
def reference_dir() -> Path:
    """`../shared/reference` (CI clones the repo with `shared/` beside it)."""
    if not REFERENCE_DIR.is_dir():
        pytest.fail(f"reference material not found at {REFERENCE_DIR} (CI puts ../shared there)")
    return REFERENCE_DIR


@pytest.fixture(scope="package")
def artifact_dir() -> Path:
    ARTIFACT_DIR.mkdir(exist_ok=True)
    return ARTIFACT_DIR
