import hashlib

import numpy as np
import pytest

from behaviorbench.benchmark.mabe.files import (
    FILE_NAMES,
    check_md5,
    find_mabe_files,
    load_frame_number_map,
    load_keypoints,
    load_labels,
    md5_of,
    missing_mask,
)
from behaviorbench.benchmark.mabe.synthetic import SyntheticConfig, write_synthetic_mabe


def test_official_frame_map_is_contiguous(mabe_ref):
    fmap = load_frame_number_map(mabe_ref / "mouse_frame_number_map.npy")
    spans = sorted(fmap.values())
    assert len(fmap) == 3736
    assert spans[0][0] == 0 and spans[-1][1] == 6_724_800
    assert all(e - s == 1800 for s, e in spans)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))


@pytest.mark.parametrize("naming", ["caltech", "aicrowd"])
def test_both_naming_schemes_load(tmp_path, naming, official_split):
    cfg = SyntheticConfig(n_submission_train=3, n_public=1, n_private=1, n_user_train=1,
                          frames_per_clip=60)
    paths = write_synthetic_mabe(tmp_path, cfg, official_split, naming=naming)
    found = find_mabe_files(tmp_path)
    col = 1 if naming == "caltech" else 0
    assert {k: p.name for k, p in found.items()} == {k: n[col] for k, n in FILE_NAMES.items()}
    test = load_keypoints(found["test"])
    assert len(test.clip_ids) == 5 and test.stacked().shape == (5, 60, 3, 12, 2)
    assert set(test.clip_ids) <= set(official_split["SubmissionTrain"][:3]
                                     + official_split["publicTest"][:1]
                                     + official_split["privateTest"][:1])
    train = load_keypoints(found["train"])
    assert train.vocabulary == ["chases", "lights"]
    assert train.annotations[train.clip_ids[0]].shape == (2, 60)
    labels = load_labels(found["labels"])
    assert labels.label_array.shape == (13, 300) and len(labels.task_type) == 13
    assert load_frame_number_map(paths["frame_map"]) == labels.frame_number_map
    # missing keypoints are zeros in the file, and labels of unannotated clips are NaN
    assert missing_mask(test.stacked()).any()
    assert np.isnan(labels.label_array).any()


def test_find_rejects_both_schemes(tmp_path):
    for name in FILE_NAMES["test"]:
        np.save(tmp_path / name, {"sequences": {}}, allow_pickle=True)
    with pytest.raises(ValueError, match="keep one"):
        find_mabe_files(tmp_path)


def test_md5_helpers(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(b"abc" * 1000)
    assert md5_of(p, chunk_bytes=7) == hashlib.md5(b"abc" * 1000).hexdigest()
    assert check_md5(p, "labels") is False  # synthetic bytes are not the official file
    assert check_md5(p, "frame_map") is None


def test_bad_keypoint_shape_is_rejected(tmp_path):
    np.save(tmp_path / "t.npy", {"sequences": {"a": {"keypoints": np.zeros((5, 3, 11, 2))}}},
            allow_pickle=True)
    with pytest.raises(ValueError, match="12, 2"):
        load_keypoints(tmp_path / "t.npy")
