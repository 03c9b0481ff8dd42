import numpy as np
import pytest

from behaviorbench.benchmark.mabe.submission import (
    SubmissionError,
    load_submission,
    make_submission,
    save_submission,
    validate_submission,
)


@pytest.fixture()
def fmap():
    return {"a": (0, 10), "b": (10, 20)}


def test_valid_roundtrip(tmp_path, fmap):
    sub = make_submission(fmap, np.zeros((20, 128)))
    validate_submission(sub, fmap)
    path = save_submission(tmp_path / "s.npy", sub)
    back = load_submission(path)
    validate_submission(back, fmap)
    assert back["embeddings"].dtype == np.float32


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda s: s.pop("embeddings"), "lacks 'embeddings'"),
        (lambda s: s.pop("frame_number_map"), "lacks 'frame_number_map'"),
        (lambda s: s["frame_number_map"].update(b=(10, 21)), "exactly the provided map"),
        (lambda s: s["frame_number_map"].pop("a"), "lacks clip"),
        (lambda s: s.update(embeddings=np.zeros((20, 129), np.float32)), "at most 128"),
        (lambda s: s.update(embeddings=np.zeros((20, 4))), "float32"),
        (lambda s: s.update(embeddings=np.zeros(20, np.float32)), "2-D"),
        (lambda s: s.update(embeddings=np.zeros((19, 4), np.float32)), "19 rows"),
        (lambda s: s["embeddings"].__setitem__((3, 1), np.nan), "NaN or Inf"),
        (lambda s: s.update(embeddings=[[0.0]]), "numpy array"),
    ],
)
def test_invalid_submissions_are_rejected(fmap, mutate, message):
    sub = make_submission(fmap, np.zeros((20, 4)))
    mutate(sub)
    with pytest.raises(SubmissionError, match=message):
        validate_submission(sub, fmap)


def test_not_a_dict():
    with pytest.raises(SubmissionError, match="dict"):
        validate_submission([1], {})
