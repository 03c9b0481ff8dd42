"""The example third-party model package (examples/behaviorbench-gru), scored by each route.

The package is installed with ``pip install -e`` (offline: --no-deps --no-build-isolation, the
venv's setuptools) into a temporary prefix that the subprocesses add as a site folder, so the
test environment gains its entry point without the shared venv being changed. Then: the entry
point shows in ``--list-models``; the model is scored by entry-point name, by import path, and
from an embeddings file written by its seed-0 checkpoint (same scores); the results join one
leaderboard and render; a result scored on another store is refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from behaviorbench.benchmark.cli import main as run_benchmark
from behaviorbench.benchmark.results import load_results
from behaviorbench.leaderboard.cli import main as leaderboard

from ..conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "behaviorbench-gru"
TINY_GRU = ["--epochs", "2", "--hidden-size", "8", "--crop-frames", "64"]
COMMON = ["--seeds", "0", "--device", "cpu", "--readout-steps", "100", "--no-plots",
          "--tasks", "robot_type", "terrain_type", "terrain_slope"]


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory) -> Path:
    prefix = tmp_path_factory.mktemp("prefix")
    env = {**os.environ, "PIP_NO_INDEX": "1"}  # offline: no index may be asked
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "--no-build-isolation", "--prefix", str(prefix), "-e", str(EXAMPLE)],
                   check=True, env=env, capture_output=True)
    rel = Path(sysconfig.get_path("purelib")).relative_to(sysconfig.get_path("data"))
    site = prefix / rel
    assert (site / "behaviorbench_gru-0.1.0.dist-info" / "entry_points.txt").is_file()
    return site


_SCRIPT = """
import json, sys
import numpy as np
from behaviorbench.benchmark.cli import main
from behaviorbench.datasets import load_terrain_dataset
calls, embed = json.loads(sys.argv[1])
for argv in calls:
    print("=====", flush=True)
    try:
        code = main(argv)
    except SystemExit as e:  # --help
        code = e.code
    if code:
        sys.exit(f"run-benchmark {argv} exited with {code}")
from bb_gru.model import GRUEmbedder
model = GRUEmbedder.load(embed["checkpoint"])
np.save(embed["out"], model.embed(load_terrain_dataset(embed["store"]).features))
"""


def _run_with_package(site: Path, calls: list[list[str]], embed: dict) -> list[str]:
    """In one subprocess that sees the installed example package: ``run-benchmark`` for each
    argv of ``calls``, then write ``embed['out']``: the embeddings of ``embed['store']`` by the
    model saved in ``embed['checkpoint']``. Returns each call's stdout."""
    boot = f"import site; site.addsitedir({str(site)!r})\n" + _SCRIPT
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # one thread: fast and deterministic on CPU
    proc = subprocess.run([sys.executable, "-c", boot, json.dumps([calls, embed])],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.split("=====\n")[1:]


def _one(folder: Path):
    (path,) = sorted(folder.glob("*.json"))
    return path, load_results(path)


def test_example_package_three_routes_and_leaderboard(site_dir, tiny_store, other_store,
                                                       tmp_path, capsys):
    ep_out, ip_out = tmp_path / "entry-point", tmp_path / "import-path"
    ckpt = ip_out / "checkpoints" / "bb_gru.model-GRUEmbedder_seed0.pt"
    emb = tmp_path / "emb.npy"
    listing, help_text, _, _ = _run_with_package(site_dir, [
        ["--list-models"],
        ["--model", "gru-example", "--help"],
        # 1. by entry-point name, 2. by import path (same class, same seed)
        ["--model", "gru-example", "--data", str(tiny_store), "--out", str(ep_out),
         *COMMON, *TINY_GRU],
        ["--model", "bb_gru.model:GRUEmbedder", "--data", str(tiny_store), "--out", str(ip_out),
         *COMMON, *TINY_GRU],
    ], embed={"checkpoint": str(ckpt), "store": str(tiny_store), "out": str(emb)})
    assert "gru-example" in listing and "entry-point (behaviorbench-gru 0.1.0)" in listing
    assert "bb_gru.model:GRUEmbedder" in listing and "hidden_size" in listing
    assert "--hidden-size" in help_text and "--crop-frames" in help_text  # config -> flags
    ep_path, ep = _one(ep_out)
    ip_path, ip = _one(ip_out)
    assert (ep.model.name, ep.model.origin, ep.model.package) == (
        "gru-example", "entry-point", "behaviorbench-gru 0.1.0")
    assert (ip.model.name, ip.model.origin) == ("bb_gru.model:GRUEmbedder", "import-path")
    assert ep.model.target == ip.model.target == "bb_gru.model:GRUEmbedder"
    assert ep.model.config["hidden_size"] == 8 and ep.model.n_parameters > 0

    # 3. the embeddings file written by the import-path run's seed-0 model
    emb_out = tmp_path / "embeddings"
    assert run_benchmark(["--embeddings", str(emb), "--data", str(tiny_store),
                          "--name", "gru-example", "--out", str(emb_out), *COMMON]) == 0
    emb_path, from_file = _one(emb_out)
    assert from_file.model.origin == "embeddings" and from_file.model.external
    assert from_file.model.embeddings_sha256.startswith("sha256:")
    assert from_file.train_time_s is None and from_file.model.n_parameters is None
    for res in (ep, from_file):  # same model and seed: the same scores by every route
        assert res.dataset == ip.dataset and res.protocol == ip.protocol
        for t in ip.tasks:
            assert res.task(t.name).values == pytest.approx(t.values, abs=1e-9)

    # the leaderboard takes all three and renders one board, marked with its dataset
    lb, site = tmp_path / "lb", tmp_path / "site"
    capsys.readouterr()
    assert leaderboard(["add", "--dir", str(lb), str(ep_path), str(ip_path), str(emb_path)]) == 0
    assert leaderboard(["render", "--dir", str(lb), "--out", str(site), "--no-published"]) == 0
    page = (site / "index.html").read_text()
    assert page.count('<section class="dataset"') == 1
    assert "gru-example" in page and "bb_gru.model:GRUEmbedder" in page
    assert ip.dataset.checksum.split(":")[1][:12] in page  # the board names its data
    assert "external: embeddings" in page and "external: entry-point" in page
    assert len(json.loads((site / "rows.json").read_text())) == 3

    # a result scored on another store (same name "tiny", other data) is refused
    other_out = tmp_path / "other"
    assert run_benchmark(["--model", "raw", "--data", str(other_store), "--out", str(other_out),
                          *COMMON]) == 0
    other_path, other = _one(other_out)
    assert other.dataset.name == ip.dataset.name and other.dataset.checksum != ip.dataset.checksum
    capsys.readouterr()
    assert leaderboard(["add", "--dir", str(lb), str(other_path)]) == 1
    message = capsys.readouterr().err
    print(message)  # shown with pytest -s: the refusal a user sees
    assert "nothing added" in message
    assert (f"{other_path}: rejected: scored on another dataset or protocol than this store's "
            "quadruped board (tiny): dataset checksum") in " ".join(message.split())
    assert len(json.loads((lb / "index.json").read_text())["entries"]) == 3
