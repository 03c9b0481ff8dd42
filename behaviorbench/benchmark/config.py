"""``RunConfig``: one ``run-benchmark`` invocation, validated on construction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .load import DATASET_LOADERS, PIPELINES
from .readout import LinearReadoutConfig, RidgeReadoutConfig
from .tasks import TASKS


@dataclass
class RunConfig:
    """One ``run-benchmark`` invocation."""

    model: str  # MODELS key, entry-point name or package.module:ClassName; with embeddings: name
    data: str  # dataset path
    tasks: tuple[str, ...] | None = None  # None: DEFAULT_TASKS of the dataset kind
    dataset_kind: str = "terrain"  # key of DATASET_LOADERS when no task names one
    seeds: tuple[int, ...] = (0, 1, 2)  # one model training + readout per seed
    device: str = "auto"  # model training/embedding and readout device
    out: str = "results"  # output folder (results JSON, plots, checkpoints)
    checkpoint: str | None = None  # load this model file instead of training
    model_overrides: dict[str, Any] = field(default_factory=dict)  # model config fields
    fit_on: str = "all"  # "all" sequences (reference) | "train" split only
    max_train_frames: int = 200_000  # cap on scored train frames per split (frames)
    max_test_frames: int = 200_000  # cap on scored test frames per split (frames)
    skip_frames: int = 0  # first frames of each sequence never scored (frames)
    frame_seed: int = 0  # seed of the deterministic frame subsampling
    embed_batch: int = 32  # sequences per embed() call
    splits: int = 0  # extra seeded random 20/80 sequence splits scored besides the task's own
    split_strategy: str = "random"  # "random" | "stratified" (dominant terrain class and robot)
    include_failures: bool = False  # keep sequences whose traversal failed (success false)
    bootstrap: int = 1000  # resamples of test sequences for the 95 % interval (0: none)
    readout: LinearReadoutConfig = field(default_factory=LinearReadoutConfig)
    ridge: RidgeReadoutConfig = field(default_factory=RidgeReadoutConfig)
    plots: bool = True  # write PCA and confusion-matrix PNGs beside the results
    spaces: bool = False  # BAMS: also score the short/long spaces of the same trained model
    save_checkpoint: bool = True  # write out/checkpoints/<model>_seed<s>.pt
    mabe_split: str | None = None  # MABe: official jax_split.json (None: fallback, unofficial)
    mabe_tasks: str | None = None  # MABe: jax_tasks.json (None: the published 13 tasks, seeds)
    embeddings: str | None = None  # (N, T, D) .npy / Zarr file scored instead of a model
    n_parameters: int | None = None  # with embeddings: the producing model's size, if known
    force: bool = False  # run even when the estimated memory exceeds the machine's

    def __post_init__(self) -> None:
        """Raise ``preflight.BenchmarkConfigError`` (one line: field, value, valid range) on
        the first invalid field; task names and the dataset kind are checked against
        ``TASKS`` and the loaders."""
        from .preflight import BenchmarkConfigError, at_least, device_problem, raise_first

        seeds = tuple(self.seeds) if isinstance(self.seeds, (tuple, list)) else None
        raise_first(
            None if seeds else f"seeds must be a non-empty list of integers, got {self.seeds!r}",
            *(at_least("seed", s, 0) for s in seeds or ()),
            None if seeds is None or len(set(seeds)) == len(seeds)
            else f"seeds must be distinct, got {list(seeds)}",
            device_problem(self.device),
            None if self.fit_on in ("all", "train")
            else f"fit_on must be all or train, got {self.fit_on!r}",
            at_least("max_train_frames", self.max_train_frames, 1),
            at_least("max_test_frames", self.max_test_frames, 1),
            at_least("skip_frames", self.skip_frames, 0),
            at_least("frame_seed", self.frame_seed, 0),
            at_least("embed_batch", self.embed_batch, 1),
            at_least("splits", self.splits, 0),
            None if self.split_strategy in ("random", "stratified")
            else f"split_strategy must be random or stratified, got {self.split_strategy!r}",
            None if self.splits == 0 or self.fit_on == "all"
            else "splits needs fit_on all (with fit_on train the model would be retrained "
                 "for every split)",
            at_least("bootstrap", self.bootstrap, 0),
            None if self.n_parameters is None else at_least("n_parameters", self.n_parameters, 0),
            None if self.dataset_kind in {*DATASET_LOADERS, *PIPELINES}
            else f"dataset_kind must be one of {sorted({*DATASET_LOADERS, *PIPELINES})}, got "
                 f"{self.dataset_kind!r}",
            *(None if t in TASKS else f"unknown task {t!r} (known: {', '.join(sorted(TASKS))})"
              for t in self.tasks or ()),
        )
        if not isinstance(self.readout, LinearReadoutConfig):
            raise BenchmarkConfigError(f"readout must be a LinearReadoutConfig, got "
                                       f"{type(self.readout).__name__}")
        if not isinstance(self.ridge, RidgeReadoutConfig):
            raise BenchmarkConfigError(f"ridge must be a RidgeReadoutConfig, got "
                                       f"{type(self.ridge).__name__}")
        self.seeds = seeds
