"""The fast evaluator against a direct scikit-learn transcription of the official loop."""

import csv
import warnings

import numpy as np
import pytest
from sklearn.metrics import f1_score

from behaviorbench.benchmark.mabe.evaluator import (
    EvaluatorConfig,
    evaluate_submission,
    f1_binary,
)
from behaviorbench.benchmark.mabe.reference import reference_scores
from behaviorbench.benchmark.mabe.synthetic import make_synthetic_submission


@pytest.fixture(scope="module")
def submission(synth):
    return make_synthetic_submission(synth.labels, n_dims=24, seed=1, signal=0.3)


@pytest.fixture(scope="module")
def ours(submission, synth_labels, synth):
    return evaluate_submission(submission, synth_labels, synth.split, synth.tasks)


def test_scores_match_sklearn_exactly(ours, submission, synth_labels, synth):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = reference_scores(submission, synth_labels, synth.split, synth.tasks)
    worst = 0.0
    for t in ours.tasks:
        r = ref[t.task_id]
        pooled = t.pooled if t.sequence_level else -1.0
        pairs = [(t.private, r["private"]), (t.public, r["public"]),
                 (t.no_ensemble, r["no_ensemble"]), (pooled, r["pooled"])]
        pairs += [(t.private_by_alpha[a], r["private_by_alpha"][a]) for a in ours.alphas]
        for a, b in pairs:
            worst = max(worst, abs(a - b))
    assert worst < 1e-6, worst
    assert len(ours.tasks) == 13 and ours.official_split


def test_informative_embeddings_beat_noise(synth, synth_labels):
    strong = make_synthetic_submission(synth.labels, n_dims=24, seed=1, signal=1.0)
    noise = make_synthetic_submission(synth.labels, n_dims=24, seed=1, signal=0.0)
    ours = evaluate_submission(strong, synth_labels, synth.split, synth.tasks)
    res = evaluate_submission(noise, synth_labels, synth.split, synth.tasks)
    by = {t.task_id: t for t in res.tasks}
    for t in ours.tasks:
        if t.metric == "mean_mse":
            assert t.private < by[t.task_id].private
    f1 = [t.private - by[t.task_id].private for t in ours.tasks if t.metric == "f1_score"]
    assert np.mean(f1) > 0.05


def test_csv_has_the_official_columns(ours, mabe_ref, tmp_path):
    with open(mabe_ref / "mouse-round-1--179369.npy.csv") as fp:
        ref_header = next(csv.reader(fp))
    with open(ours.to_csv(tmp_path / "r.csv")) as fp:
        rows = list(csv.reader(fp))
    assert rows[0] == ref_header
    assert [r[0] for r in rows[1:]] == [t.task_id for t in ours.tasks]
    assert all(float(r[5]) == -1.0 for r in rows[1:] if r[6] == "False")
    summary = ours.summary()
    assert set(summary) == {"mean_mse", "mean_f1", "frame_f1", "sequence_f1"}
    assert "summary_not_official" in ours.to_dict()


def test_pooled_quirk_vanishes_when_split_lists_follow_frame_order(submission, synth_labels,
                                                                  synth):
    fmap = synth_labels.frame_number_map
    ordered = {k: sorted(v, key=lambda c: fmap[c][0]) if k != "UserTrain" else v
               for k, v in synth.split.items()}
    res = evaluate_submission(submission, synth_labels, ordered, synth.tasks)
    for t in res.tasks:
        if t.sequence_level:
            assert t.pooled == pytest.approx(t.pooled_aligned, abs=1e-12)


def test_fallback_split_is_marked_unofficial(submission, synth_labels):
    res = evaluate_submission(submission, synth_labels, None,
                              config=EvaluatorConfig(alphas=(1.0,), chunk_rows=5000))
    assert not res.official_split
    assert list(res.tasks[0].private_by_alpha) == [1.0]


def test_f1_binary_matches_sklearn():
    rng = np.random.default_rng(0)
    for p in (0.0, 0.01, 0.5):
        y = (rng.random(500) < p).astype(float)
        q = (rng.random(500) < 0.3).astype(np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert f1_binary(y, q) == pytest.approx(f1_score(y, q, average="binary"))
            assert f1_binary(y, 0 * q) == pytest.approx(f1_score(y, 0 * q, average="binary"))


def test_non_binary_classification_labels_are_rejected(submission, synth, synth_labels):
    bad = synth_labels.label_array.copy()
    bad[synth_labels.vocabulary.index("chases"), :10] = 2.0
    labels = type(synth_labels)(synth_labels.vocabulary, synth_labels.task_type, bad,
                                synth_labels.frame_number_map)
    with pytest.raises(ValueError, match="0/1"):
        evaluate_submission(submission, labels, synth.split)
