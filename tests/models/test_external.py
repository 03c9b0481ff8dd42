"""Models from outside the package: import paths, entry points and the protocol checks."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from behaviorbench.models import (
    ModelResolutionError,
    PCABaseline,
    get_model,
    load_model,
    resolve_model,
)
from behaviorbench.models.external import available_models, protocol_problems


@dataclasses.dataclass
class _Conf:
    width: int = 2  # embedding dims


class Doubler:
    """A minimal protocol implementation: the first ``width`` features, doubled."""

    config_class = _Conf
    n_parameters = 0

    def __init__(self, config=None):
        self.config = config or _Conf()

    def fit(self, x):
        return self

    def embed(self, x):
        return 2 * np.asarray(x, np.float32)[..., : self.config.width]

    def save(self, path):
        Path(path).write_text(str(self.config.width))

    @classmethod
    def load(cls, path):
        return cls(_Conf(int(Path(path).read_text())))


class _NoEmbed:
    config_class = _Conf
    n_parameters = 0

    def fit(self, x):
        return self


@dataclasses.dataclass
class _NeedsArg:
    width: int  # no default


class _BadConfig(Doubler):
    config_class = _NeedsArg


def _fake_distribution(root: Path, entries: dict[str, str]) -> Path:
    """A dist-info folder declaring ``entries`` in the behaviorbench.models group."""
    info = root / "fake_models-1.2.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-models\nVersion: 1.2\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entries.items())
    (info / "entry_points.txt").write_text(f"[behaviorbench.models]\n{lines}\n")
    return root


def test_import_path_resolves_builds_and_loads(tmp_path):
    src = resolve_model("tests.models.test_external:Doubler")
    assert (src.origin, src.cls, src.external) == ("import-path", Doubler, True)
    model = get_model("tests.models.test_external:Doubler", width=1)
    x = np.ones((2, 5, 3), np.float32)
    assert model.fit(x).embed(x).shape == (2, 5, 1)
    model.save(tmp_path / "m.txt")
    again = load_model(tmp_path / "m.txt", name="tests.models.test_external:Doubler")
    assert isinstance(again, Doubler) and again.config.width == 1
    with pytest.raises(TypeError, match="unknown config field"):
        get_model("tests.models.test_external:Doubler", depth=3)
    assert resolve_model("pca").origin == "builtin" and resolve_model("pca").cls is PCABaseline


def test_protocol_problems_name_what_is_missing():
    assert protocol_problems(Doubler) == []
    assert protocol_problems(_NoEmbed) == ["no embed() method", "no save() method",
                                           "no load(path) classmethod"]
    assert "every field needs a default" in protocol_problems(_BadConfig)[0]
    with pytest.raises(ModelResolutionError, match="does not implement the model protocol: "
                                                   "no embed"):
        resolve_model("tests.models.test_external:_NoEmbed")
    with pytest.raises(ModelResolutionError, match="not a known name nor an import path"):
        resolve_model("bad path:X")


def test_entry_points_are_listed_beside_builtins(tmp_path, monkeypatch):
    root = _fake_distribution(tmp_path, {
        "doubler": "tests.models.test_external:Doubler",
        "broken": "tests.models.test_external:_NoEmbed",
        "pca": "tests.models.test_external:Doubler",  # a built-in name: ignored
    })
    monkeypatch.syspath_prepend(str(root))
    src = resolve_model("doubler")
    assert (src.name, src.origin, src.package) == ("doubler", "entry-point", "fake-models 1.2")
    assert src.target == "tests.models.test_external:Doubler"
    assert resolve_model("pca").cls is PCABaseline  # built-ins win a name clash
    listed = dict(available_models())
    assert listed["doubler"].cls is Doubler and listed["bams"].origin == "builtin"
    assert "no embed() method" in str(listed["broken"])
    assert "ignored: 'pca' is a built-in model" in str(
        next(v for k, v in available_models() if k == "pca" and isinstance(v, Exception)))
    with pytest.raises(ModelResolutionError, match="entry point 'broken' of fake-models 1.2"):
        resolve_model("broken")
    with pytest.raises(ModelResolutionError, match="choose from .*doubler"):
        resolve_model("nope")
