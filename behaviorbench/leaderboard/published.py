"""Published reference rows: scores reported elsewhere, NOT measured by behaviorbench.

They are facts copied from the project's references and appear on every leaderboard marked
`published: true` with their `source`. Scores are fractions (F1 in [0, 1]); where a source
printed percent (e.g. the BAMS slides' "28.4") the value is divided by 100 and the note says so.

Datasets:
- `bams-simulated-quadrupeds`: the original Isaac Gym dataset of the BAMS paper (5182 ANYmal B/C
  trajectories), not the MuJoCo data this project generates, so the rows are not directly
  comparable with measured `quadruped` rows on other datasets.
- `mabe22-mouse-triplets`: the official MABe 2022 mouse-triplet test set, private split (privateTest
  + publicTest), ridge alpha 1.0, three-seed ensemble. Name a measured run on the official files
  the same to put it in the same table.
"""

from __future__ import annotations

from behaviorbench.benchmark.results import BenchmarkResults, DatasetInfo, ModelInfo, TaskScore

QUADRUPED_DATASET = DatasetInfo(name="bams-simulated-quadrupeds", kind="quadruped")
MABE_DATASET = DatasetInfo(name="mabe22-mouse-triplets", kind="mabe22")

BAMS_SLIDES = "BAMS talk slides (NeurIPS 2023), 'Simulated Legged Robots Experiment' table"
BAMS_SLIDES_MABE = "BAMS talk slides (NeurIPS 2023), MABe 2022 'Linear readouts across 13 subtasks'"
MABE_TOP = (
    "MABe 2022 official evaluator output mouse-round-1--179369.npy.csv "
    "(an unnamed top submission; Private Score, alpha 1.0)"
)
MABE_SAMPLE = (
    "MABe 2022 official evaluator output mouse-round-1--sample_submission.npy.csv "
    "(random-embedding sample submission; Private Score, alpha 1.0)"
)

# (task, level, metric, higher_is_better) of the 13 official MABe 2022 mouse-triplet tasks.
MABE_TASKS: dict[str, tuple[str, str, bool]] = {
    "experiment_day": ("sequence", "mean_mse", False),
    "time_of_day": ("frame", "mean_mse", False),
    "strain": ("sequence", "f1_binary", True),
    "approaches": ("frame", "f1_binary", True),
    "chases": ("frame", "f1_binary", True),
    "close": ("frame", "f1_binary", True),
    "contact": ("frame", "f1_binary", True),
    "huddles": ("frame", "f1_binary", True),
    "oral_ear_contact": ("frame", "f1_binary", True),
    "oral_genital_contact": ("frame", "f1_binary", True),
    "oral_oral_contact": ("frame", "f1_binary", True),
    "watching": ("frame", "f1_binary", True),
    "lights": ("sequence", "f1_binary", True),
}

# Top submission (mouse-round-1--179369): task -> (private, public, no-ensemble) scores, alpha 1.0.
_MABE_TOP_SCORES: dict[str, tuple[float, float, float]] = {
    "experiment_day": (0.0925289765000343, 0.0902774631977081, 0.0926472470164299),
    "time_of_day": (0.0925768762826919, 0.0946318060159683, 0.0927070975303649),
    "strain": (0.8162059944131733, 0.814090375661199, 0.8171106119417398),
    "approaches": (0.0197022019367839, 0.0199965266579006, 0.0207676102635496),
    "chases": (0.0100697471665213, 0.0137941604720668, 0.0126697869797836),
    "close": (0.7082727463679733, 0.7110824497045173, 0.7065467250070774),
    "contact": (0.5585326311426375, 0.5483823110879662, 0.5581491496313203),
    "huddles": (0.3107660787100994, 0.3001493456396027, 0.3225064413275041),
    "oral_ear_contact": (0.0055839827862184, 0.0042727250835107, 0.0059563782999262),
    "oral_genital_contact": (0.0147818497166125, 0.0169585665647181, 0.0156053575741148),
    "oral_oral_contact": (0.0125524227182207, 0.0118709252206606, 0.0132876952555743),
    "watching": (0.1820703331455103, 0.2149495917703644, 0.1925337494061272),
    "lights": (0.6896703598380296, 0.6810341811566316, 0.6882705456755464),
}

# Sample submission (random embeddings): task -> (private, public, no-ensemble), alpha 1.0.
_MABE_SAMPLE_SCORES: dict[str, tuple[float, float, float]] = {
    "time_of_day": (0.0946013182401657, 0.0971194431185722, 0.0946050286293029),
    "strain": (0.4784074603535116, 0.4805554401407138, 0.458235970886059),
}

_AGGREGATE_NOTE = (
    "aggregate as printed on the BAMS slides (F1 in percent there, /100 here); the slides do not "
    "define it and it is not an official MABe score"
)


def _score(name: str, metric: str, hib: bool, level: str, value: float, **kw) -> TaskScore:
    return TaskScore.from_values(name, metric, hib, level, [value], **kw)


def _mabe_rows(scores: dict[str, tuple[float, float, float]]) -> list[TaskScore]:
    out = []
    for task, (private, public, no_ens) in scores.items():
        level, metric, hib = MABE_TASKS[task]
        out.append(
            _score(
                task, metric, hib, level, private,
                extra={"score": "private", "public": public, "no_ensemble": no_ens, "alpha": 1.0},
            )
        )
    return out


def _quadruped(display: str, config: dict, terrain: float, robot: float) -> BenchmarkResults:
    return BenchmarkResults(
        model=ModelInfo(name="bams", display_name=display, config=config),
        dataset=QUADRUPED_DATASET,
        tasks=[
            _score("terrain_type", "f1_weighted", True, "frame", terrain),
            _score("robot_type", "f1_weighted", True, "sequence", robot),
        ],
        published=True,
        source=BAMS_SLIDES,
        notes="linear readout on frozen embeddings, weighted F1 (BAMS reference readout)",
    )


def _mabe_aggregate(name: str, display: str, f1_percent: float, mse: float) -> BenchmarkResults:
    return BenchmarkResults(
        model=ModelInfo(name=name, display_name=display),
        dataset=MABE_DATASET,
        tasks=[
            _score("mean_f1", "f1_binary_mean", True, "aggregate", f1_percent / 100.0,
                   note=_AGGREGATE_NOTE),
            _score("mean_mse", "mse_mean", False, "aggregate", mse, note=_AGGREGATE_NOTE),
        ],
        published=True,
        source=BAMS_SLIDES_MABE,
    )


def published_results() -> list[BenchmarkResults]:
    """All published reference rows (fresh objects each call), in a stable order."""
    return [
        _quadruped("BAMS short-term + long-term", {"encoders": "short+long"},
                   0.73, 0.98),
        _quadruped("BAMS short-term only", {"encoders": "short"}, 0.50, 0.86),
        _quadruped("BAMS long-term only", {"encoders": "long"}, 0.62, 0.99),
        BenchmarkResults(
            model=ModelInfo(name="mabe22_top_submission",
                            display_name="MABe 2022 top submission #179369"),
            dataset=MABE_DATASET,
            tasks=_mabe_rows(_MABE_TOP_SCORES),
            published=True,
            source=MABE_TOP,
        ),
        BenchmarkResults(
            model=ModelInfo(name="random", display_name="Random embeddings (sample submission)"),
            dataset=MABE_DATASET,
            tasks=_mabe_rows(_MABE_SAMPLE_SCORES),
            published=True,
            source=MABE_SAMPLE,
            notes="the official sample-submission CSV scores only time_of_day and strain",
        ),
        _mabe_aggregate("bams", "BAMS (slides)", 28.4, 0.09298),
        _mabe_aggregate("pca", "PCA baseline (slides)", 7.99, 0.09430),
    ]
