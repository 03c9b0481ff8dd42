"""Results of the MABe 2022 evaluation (per task and overall, with the official CSV layout)
and the two metrics of the official protocol, as scikit-learn computes them."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np

CSV_COLUMNS_BASE = [
    "Task ID", "Private Score", "Public Score", "Metric", "No Ensemble Score", "Pooled Score",
    "Sequence Level Task",
]  # fmt: skip


@dataclasses.dataclass
class TaskResult:
    """Scores of one task. ``private_by_alpha`` / ``public_by_alpha``: {alpha: score}."""

    task_id: str
    metric: str  # "f1_score" | "mean_mse"
    sequence_level: bool
    private: float
    public: float
    no_ensemble: float
    pooled: float  # -1.0 for frame-level tasks (official)
    pooled_aligned: float  # correctly aligned pooling (not official); -1.0 for frame-level
    private_by_alpha: dict[float, float]
    public_by_alpha: dict[float, float]
    n_train_frames: list[int]  # per seed, after NaN dropping
    n_test_frames: int  # publicTest + privateTest frames with a label


@dataclasses.dataclass
class MabeResults:
    """All task results plus provenance. ``official_split`` False = our fallback split."""

    tasks: list[TaskResult]
    alphas: tuple[float, ...]
    seeds: list[int]
    official_split: bool
    seconds: float  # wall time of the evaluation

    def table_rows(self) -> list[dict]:
        """Rows with the official CSV columns (``Task ID``, ``Private Score``, ...)."""
        rows = []
        for t in self.tasks:
            row = {
                "Task ID": t.task_id, "Private Score": t.private, "Public Score": t.public,
                "Metric": t.metric, "No Ensemble Score": t.no_ensemble,
                "Pooled Score": t.pooled if t.sequence_level else -1.0,
                "Sequence Level Task": t.sequence_level,
            }  # fmt: skip
            for a in self.alphas:
                row[f"Score Alpha {float(a)}"] = t.private_by_alpha[a]
            rows.append(row)
        return rows

    def to_csv(self, path: str | Path) -> Path:
        """Write the official-layout CSV."""
        rows = self.table_rows()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as fp:
            w = csv.DictWriter(fp, fieldnames=list(rows[0]))
            w.writeheader()
            for r in rows:
                w.writerow({k: repr(v) if isinstance(v, float) else v for k, v in r.items()})
        return path

    def summary(self) -> dict[str, float]:
        """hBehaveMAE-style averages of private scores. **Not part of the official protocol.**

        mean_mse: regression tasks; mean_f1: classification tasks; frame_f1: frame-level
        classification; sequence_f1: sequence-level classification (NaN when none present).
        """

        def mean(sel):
            vals = [t.private for t in self.tasks if sel(t)]
            return float(np.mean(vals)) if vals else float("nan")

        return {
            "mean_mse": mean(lambda t: t.metric == "mean_mse"),
            "mean_f1": mean(lambda t: t.metric == "f1_score"),
            "frame_f1": mean(lambda t: t.metric == "f1_score" and not t.sequence_level),
            "sequence_f1": mean(lambda t: t.metric == "f1_score" and t.sequence_level),
        }

    def to_dict(self) -> dict:
        return {
            "official_split": self.official_split,
            "alphas": list(self.alphas),
            "seeds": list(self.seeds),
            "table": self.table_rows(),
            "summary_not_official": self.summary(),
            "tasks": [
                {**dataclasses.asdict(t),
                 "private_by_alpha": {str(k): v for k, v in t.private_by_alpha.items()},
                 "public_by_alpha": {str(k): v for k, v in t.public_by_alpha.items()}}
                for t in self.tasks
            ],  # fmt: skip
            "seconds": self.seconds,
        }


# ----------------------------------------------------------------------------- metrics
def f1_binary(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """``sklearn.metrics.f1_score(average='binary', pos_label=1)``: 2tp / (2tp + fp + fn), 0 if
    there is no positive in either (sklearn's zero_division default)."""
    t = np.asarray(y_true) == 1
    p = np.asarray(y_pred) == 1
    tp = np.count_nonzero(t & p)
    denom = 2 * tp + np.count_nonzero(p & ~t) + np.count_nonzero(t & ~p)
    return float(2 * tp / denom) if denom else 0.0


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """``sklearn.metrics.mean_squared_error``."""
    d = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
    return float(np.mean(d * d))
