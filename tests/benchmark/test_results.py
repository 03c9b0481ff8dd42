"""Results schema: round trip, consistency checks and rejection of bad files."""

from __future__ import annotations

import json
import math
import statistics

import pytest

from behaviorbench.benchmark.results import (
    SCHEMA_VERSION,
    BenchmarkResults,
    DatasetInfo,
    Hardware,
    ModelInfo,
    ProtocolInfo,
    ResultsValidationError,
    TaskScore,
    load_results,
    parse_results,
    save_results,
    utc_now,
)


def _results(**overrides) -> BenchmarkResults:
    tasks = [
        TaskScore.from_values(
            "terrain_type", "f1_weighted", True, "frame", [0.61, 0.64, 0.66], [0, 1, 2],
            extra={"confusion_matrix": [[0.9, 0.1], [0.2, 0.8]]},
            note="frames subsampled to 1000 per split",
        ),
        TaskScore.from_values("body_mass", "mse", False, "sequence", [2.5, 2.0, 2.25], [0, 1, 2]),
    ]
    kw = dict(
        model=ModelInfo(name="bams", config={"epochs": 2, "channels": [64, 32]}, n_parameters=1234,
                        origin="builtin", target="behaviorbench.models.bams:BAMS"),
        dataset=DatasetInfo(
            name="terrain-tiny", kind="quadruped", path="data/tiny.zarr", schema_version="1",
            checksum="sha256:" + "ab" * 32, config_hash="sha256:" + "cd" * 32,
        ),
        protocol=ProtocolInfo.build("quadruped-frozen-readout", "1", "paper",
                                    readout={"linear": {"solver": "adamw", "steps": 1000}},
                                    frames={"max_train_frames": 200_000}),
        tasks=tasks,
        seeds=[0, 1, 2],
        train_time_s=12.5,
        eval_time_s=1.25,
        peak_memory_bytes=123_456_789,
        hardware=Hardware(cpu_model="Test CPU", gpu_model=None, device="cpu", cpu_count=2),
        package_versions={"torch": "2.13.0", "numpy": "2.0"},
        git_commit="0" * 40,
        date=utc_now(),
    )
    kw.update(overrides)
    return BenchmarkResults(**kw)


def test_from_values_computes_mean_and_sample_std():
    t = TaskScore.from_values("x", "f1_weighted", True, "frame", [0.1, 0.2, 0.6])
    assert math.isclose(t.mean, statistics.fmean([0.1, 0.2, 0.6]))
    assert math.isclose(t.std, statistics.stdev([0.1, 0.2, 0.6]))
    single = TaskScore.from_values("x", "mse", False, "sequence", [0.3])
    assert single.std is None and single.mean == 0.3


def test_round_trip_is_exact(tmp_path):
    res = _results()
    path = save_results(res, tmp_path / "sub" / "r.json")
    loaded = load_results(path)
    assert loaded == res
    assert loaded.schema_version == SCHEMA_VERSION
    assert loaded.task("terrain_type").extra["confusion_matrix"][1] == [0.2, 0.8]
    assert loaded.date.tzinfo is not None
    raw = json.loads(path.read_text())
    assert raw["date"].endswith("Z") or raw["date"].endswith("+00:00")  # ISO 8601 with zone
    # no temp files left behind by the atomic write
    assert [p.name for p in path.parent.iterdir()] == ["r.json"]


def test_published_row_needs_source_but_no_run_metadata():
    t = TaskScore.from_values("terrain_type", "f1_weighted", True, "frame", [0.73])
    row = BenchmarkResults(
        model=ModelInfo(name="bams"), dataset=DatasetInfo(name="orig", kind="quadruped"),
        tasks=[t], published=True, source="BAMS slides",
    )
    assert row.hardware is None
    with pytest.raises(ValueError, match="source"):
        BenchmarkResults(
            model=ModelInfo(name="bams"), dataset=DatasetInfo(name="orig", kind="quadruped"),
            tasks=[t], published=True,
        )


def _bad(mutate, tmp_path):
    data = json.loads(_results().to_json())
    mutate(data)
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(data))
    return p


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("schema_version"), "schema_version"),
        (lambda d: d.update(schema_version="9.0"), "unsupported schema_version"),
        (lambda d: d["tasks"][0].update(mean=0.99), "mean"),
        (lambda d: d["tasks"][0].update(std=0.5), "std"),
        (lambda d: d["tasks"][0].update(seeds=[0, 1]), "seeds"),
        (lambda d: d["tasks"][0].update(level="clip"), "tasks.0.level"),
        (lambda d: d["tasks"][0].update(values=[]), "tasks.0.values"),
        (lambda d: d["dataset"].update(kind="mice"), "dataset.kind"),
        (lambda d: d["dataset"].update(checksum="deadbeef"), "algo:hexdigest"),
        (lambda d: d.pop("hardware"), "hardware"),
        (lambda d: d.update(date="yesterday"), "date"),
        (lambda d: d.update(unknown_field=1), "unknown_field"),
        (lambda d: d["model"].update(n_parameters=-1), "model.n_parameters"),
        (lambda d: d["tasks"].append(dict(d["tasks"][0])), "duplicate task"),
        (lambda d: d.pop("protocol"), "must have ['protocol']"),
        (lambda d: d["model"].pop("origin"), "must have ['model.origin']"),
        (lambda d: d["protocol"]["readout"]["linear"].update(steps=10), "protocol.hash"),
        (lambda d: d["dataset"].update(config_hash="cafe"), "algo:hexdigest"),
        (lambda d: d["model"].update(origin="embeddings"), "needs model.embeddings_sha256"),
        (lambda d: d["model"].update(origin="plugin"), "model.origin"),
    ],
)
def test_rejects_bad_files_with_clear_message(tmp_path, mutate, message):
    p = _bad(mutate, tmp_path)
    with pytest.raises(ResultsValidationError) as err:
        load_results(p)
    assert str(p) in str(err.value)
    assert message in str(err.value)


def test_rejects_non_json_non_object_and_missing(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{not json")
    with pytest.raises(ResultsValidationError, match="not valid JSON"):
        load_results(p)
    p.write_text("[1, 2]")
    with pytest.raises(ResultsValidationError, match="JSON object"):
        load_results(p)
    with pytest.raises(ResultsValidationError, match="cannot read"):
        load_results(tmp_path / "missing.json")


def test_nan_scores_are_rejected():
    data = json.loads(_results().to_json())
    data["tasks"][0]["values"] = [float("nan"), 0.5, 0.6]
    with pytest.raises(ResultsValidationError):
        parse_results(data)


def test_save_overwrites_atomically(tmp_path):
    p = tmp_path / "r.json"
    save_results(_results(notes="first"), p)
    save_results(_results(notes="second"), p)
    assert load_results(p).notes == "second"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["r.json"]


def test_schema_1_0_files_still_load(tmp_path):
    """Files written before protocol and origin were recorded: version 1.0, fields null."""
    data = json.loads(_results().to_json())
    data["schema_version"] = "1.0"
    del data["protocol"], data["dataset"]["config_hash"]
    for key in ("origin", "target", "package", "embeddings_sha256"):
        del data["model"][key]
    p = tmp_path / "old.json"
    p.write_text(json.dumps(data))
    res = load_results(p)
    assert res.schema_version == "1.0" and res.protocol is None and res.model.origin is None
    assert not res.model.external and res.dataset.config_hash is None


def test_protocol_hash_covers_every_setting():
    a = ProtocolInfo.build("p", "1", "paper", {"linear": {"steps": 1000}}, {"cap": 5})
    assert a.hash == ProtocolInfo.build("p", "1", "paper", {"linear": {"steps": 1000}},
                                        {"cap": 5}).hash
    for other in (ProtocolInfo.build("p", "2", "paper", {"linear": {"steps": 1000}}, {"cap": 5}),
                  ProtocolInfo.build("p", "1", "random", {"linear": {"steps": 1000}}, {"cap": 5}),
                  ProtocolInfo.build("p", "1", "paper", {"linear": {"steps": 999}}, {"cap": 5}),
                  ProtocolInfo.build("p", "1", "paper", {"linear": {"steps": 1000}}, {"cap": 6})):
        assert other.hash != a.hash


def test_embeddings_origin_records_the_file_hash():
    info = ModelInfo(name="mine", origin="embeddings", target="emb.npy",
                     embeddings_sha256="sha256:" + "0" * 64)
    assert info.external and info.n_parameters is None
    with pytest.raises(ValueError, match="only for model.origin 'embeddings'"):
        ModelInfo(name="x", origin="builtin", embeddings_sha256="sha256:" + "0" * 64)
