"""embed_mabe / run_mabe_benchmark / evaluate-mabe with real registry models on synthetic files."""

import json

import numpy as np

from behaviorbench.benchmark.mabe.cli import main as cli_main
from behaviorbench.benchmark.mabe.files import load_keypoints, load_labels
from behaviorbench.benchmark.mabe.pipeline import embed_mabe, mouse_sequences, run_mabe_benchmark
from behaviorbench.benchmark.mabe.submission import save_submission, validate_submission
from behaviorbench.models import get_model


def test_embed_mabe_builds_a_valid_submission(synth_dir):
    d, paths = synth_dir
    test = load_keypoints(paths["test"])
    labels = load_labels(paths["labels"])
    model = get_model("raw").fit(mouse_sequences(test.sequences))
    sub = embed_mabe(model, test.sequences, frame_number_map=labels.frame_number_map)
    validate_submission(sub, labels.frame_number_map)
    assert sub["embeddings"].shape == (labels.n_frames, 96)  # 48 features x [mean, range]
    # rows follow the frame map: the clip at rows (s, e) is the one named in the map
    cid, (s, e) = next(iter(labels.frame_number_map.items()))
    one = embed_mabe(model, {c: test.sequences[c] for c in test.clip_ids},
                     frame_number_map={cid: (0, e - s)}, zscore_mode="frames")
    assert one["embeddings"].shape[0] == e - s
    assert not np.allclose(sub["embeddings"][s:e], sub["embeddings"][(s + 1800) % 36000:][:1800])


def test_run_mabe_benchmark_end_to_end(synth_dir, tmp_path, mabe_ref):
    d, paths = synth_dir
    model = get_model("pca", n_components=16)
    out = run_mabe_benchmark(model, d, split=paths["split"], tasks=mabe_ref / "jax_tasks.json",
                             out_dir=tmp_path)
    assert out["official_split"] is True
    assert [r["Task ID"] for r in out["table"]][:3] == ["experiment_day", "time_of_day", "strain"]
    assert all(np.isfinite(r["Private Score"]) for r in out["table"])
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["table"][0]["Task ID"] == "experiment_day"
    assert (tmp_path / "results.csv").read_text().startswith("Task ID,Private Score")


def test_cli_prints_table_and_flags_unofficial(synth_dir, tmp_path, capsys, synth):
    d, paths = synth_dir
    from behaviorbench.benchmark.mabe.synthetic import make_synthetic_submission

    sub = make_synthetic_submission(synth.labels, n_dims=8, seed=3, signal=0.5)
    sp = save_submission(tmp_path / "sub.npy", sub)
    rc = cli_main([str(sp), "--labels", str(paths["labels"]), "--out", str(tmp_path / "o.csv")])
    out = capsys.readouterr().out
    assert rc == 0 and "UNOFFICIAL" in out and "lights" in out and "Not official" in out
    rc = cli_main([str(sp), "--labels", str(paths["labels"]), "--split", str(paths["split"]),
                   "--tasks", str(paths["tasks"])])
    assert rc == 0 and "UNOFFICIAL" not in capsys.readouterr().out
    bad = dict(sub, embeddings=sub["embeddings"][:-1])
    sp2 = save_submission(tmp_path / "bad.npy", bad)
    assert cli_main([str(sp2), "--labels", str(paths["labels"])]) == 2
    assert "rows" in capsys.readouterr().err
