"""Terminal tables of ``run-benchmark``: quadruped results (with chance levels, interval and
spreads) and MABe results (official Private Score)."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def _f(v: Any, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def score_cells(ts: Any) -> dict[str, str]:
    """Text cells of one quadruped task: score with std and interval, macro F1, balanced
    accuracy, chance levels, the split spreads and the class-coverage flag."""
    x = ts.extra
    m = x.get("metrics", {})
    iv = x.get("interval")
    chance = x.get("chance", {})
    metric = ts.metric
    if "majority" in chance:
        ch = (f"{_f(chance['majority'].get(metric))} / "
              f"{_f(chance['prior_random'].get(metric))}")
        if "always_contact" in chance:
            ch += f" / {_f(chance['always_contact'].get(metric))}"
    elif "train_mean" in chance:
        ch = _f(chance["train_mean"].get(metric))
    else:
        ch = "-"
    reps = x.get("repetitions")
    spread = "-"
    if reps:
        spread = (f"{reps['mean']:.3f} ({len(reps['splits'])} splits; sd "
                  f"{_f(reps['std_over_splits'])} / {_f(reps['std_over_seeds'])})")
    return {
        "score": f"{ts.mean:.3f}" + ("" if ts.std is None else f" ± {ts.std:.3f}"),
        "95% CI": "-" if not iv else f"[{iv['low']:.3f}, {iv['high']:.3f}]",
        "macro F1": _f((m.get("f1_macro") or {}).get("mean")),
        "bal. acc.": _f((m.get("balanced_accuracy") or {}).get("mean")),
        "chance": ch,
        "over splits": spread,
        "coverage": ("train lacks " + ", ".join(x["missing_in_train"])
                     if x.get("missing_in_train") else "ok" if "class_counts" in x else "-"),
    }


def results_table(res: Any) -> Table:
    """Quadruped results: the metric (mean ± std over seeds) with its 95 % bootstrap interval,
    macro F1, balanced accuracy, chance levels, spreads over splits and class coverage."""
    t = Table(title=f"{res.model.name} on {res.dataset.name} (seeds {res.seeds})",
              caption="score: mean ± std over seeds on the task's own split; 95% CI: bootstrap "
                      "over its test sequences; chance: majority class / class-prior random "
                      "(/ always contact for foot_contact; train mean for regressions) on the "
                      "same test rows; over splits: mean over the own + --splits splits, sd "
                      "over splits / over seeds")
    t.add_column("task", no_wrap=True)
    cols = ("metric", "score", "95% CI", "macro F1", "bal. acc.", "chance", "over splits",
            "coverage", "train/test rows")
    for col in cols:
        t.add_column(col, overflow="fold", no_wrap=col in ("score", "95% CI", "metric"))
    for ts in res.tasks:
        rows = f"{ts.extra.get('n_train_rows', '?')}/{ts.extra.get('n_test_rows', '?')}"
        cells = score_cells(ts)
        t.add_row(ts.name, ts.metric, *(cells[c] for c in cols[1:-1]), rows)
    return t


def mabe_results_table(res: Any) -> Table:
    """MABe results: official Private Score (alpha 1.0) per task and training seed."""
    t = Table(title=f"{res.model.label} on {res.dataset.name} (seeds {res.seeds}; official "
                    "Private Score at alpha 1.0)")
    t.add_column("task", no_wrap=True)
    for col in ("level", "metric", "private mean", "std", "per seed", "public", "no ensemble",
                "pooled"):
        t.add_column(col, justify="left" if col in ("level", "metric", "per seed") else "right",
                     overflow="fold")
    for ts in res.tasks:
        std = "-" if ts.std is None else f"{ts.std:.4f}"
        pooled = ts.extra.get("pooled")
        t.add_row(ts.name, ts.level, f"{ts.metric} ({'↑' if ts.higher_is_better else '↓'})",
                  f"{ts.mean:.4f}", std, " ".join(f"{v:.4f}" for v in ts.values),
                  f"{ts.extra.get('public', float('nan')):.4f}",
                  f"{ts.extra.get('no_ensemble', float('nan')):.4f}",
                  "-" if pooled is None else f"{pooled:.4f}")
    return t
