"""Benchmark figures (matplotlib Agg, PNG): embedding PCA projections and confusion matrices.

- ``embedding_projections``: 2-D PCA of the scored test-frame embeddings, one panel per label
  (robot type, terrain type) and one figure per embedding space (BAMS: ``short`` and ``long``
  term spaces separately, plus the full concatenation).
- ``confusion_matrix_png``: a row-normalised confusion matrix with class names.
- ``timescale_profile_png``: each view's score along the tasks ordered by the timescale of their
  label (``timescale.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

#: labels the projections are coloured by: (name, level)
PROJECTION_LABELS = (("robot_type", "sequence"), ("terrain_type", "frame"))
MAX_POINTS = 5000  # points drawn per projection (deterministic subsample)


def embedding_spaces(model: Any) -> dict[str, slice]:
    """Named slices of the embedding dims: ``{"all": ...}`` plus BAMS' short/long spaces."""
    spaces = {"all": slice(None)}
    net = getattr(model, "network", None)
    encoders = getattr(net, "encoders", None)
    if getattr(model, "space", None) == "both" and encoders is not None and "short" in encoders:
        d_short = int(encoders["short"].out_dim)
        spaces["short"] = slice(0, d_short)
        spaces["long"] = slice(d_short, None)
    return spaces


def pca_2d(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project (n, D) rows on their first two principal components -> ((n, 2), explained (2,))."""
    x = np.asarray(x, dtype=np.float64)
    xc = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    var = s**2
    ratio = var[:2] / var.sum() if var.sum() > 0 else np.zeros(2)
    k = min(2, vt.shape[0])
    proj = xc @ vt[:k].T
    if k < 2:
        proj = np.pad(proj, ((0, 0), (0, 2 - k)))
        ratio = np.pad(ratio, (0, 2 - len(ratio)))
    return proj, ratio


def embedding_projections(
    rows: np.ndarray,
    sel: Any,
    data: Any,
    vocabularies: dict[str, tuple[str, ...]],
    spaces: dict[str, slice],
    out: Path,
    stem: str,
    seed: int = 0,
) -> list[Path]:
    """One PNG per space: PCA of ``rows`` (n, D) coloured by each available label.

    ``sel`` gives each row's sequence (``sel.seq``) and frame (``sel.t``) for the labels.
    """
    if len(rows) == 0:
        return []
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(rows), size=min(MAX_POINTS, len(rows)), replace=False))
    labels = {}
    for name, level in PROJECTION_LABELS:
        src = data.sequence_labels if level == "sequence" else data.frame_labels
        if name in src:
            lab = np.asarray(src[name])
            labels[name] = lab[sel.seq[pick]] if level == "sequence" else lab[sel.seq[pick],
                                                                                sel.t[pick]]
    if not labels:
        return []
    files = []
    for space, sl in spaces.items():
        proj, ratio = pca_2d(rows[pick][:, sl])
        fig, axes = plt.subplots(1, len(labels), figsize=(5.2 * len(labels), 4.6), squeeze=False)
        for ax, (name, lab) in zip(axes[0], labels.items(), strict=True):
            names = vocabularies.get(name, ())
            for c in np.unique(lab):
                m = lab == c
                text = names[int(c)] if 0 <= int(c) < len(names) else str(c)
                ax.scatter(proj[m, 0], proj[m, 1], s=3, alpha=0.5, label=text, rasterized=True)
            ax.set_title(f"{name}")
            ax.set_xlabel(f"PC1 ({100 * ratio[0]:.0f} %)")
            ax.set_ylabel(f"PC2 ({100 * ratio[1]:.0f} %)")
            ax.legend(markerscale=4, fontsize=7, loc="best")
        fig.suptitle(f"{stem}: PCA of test-frame embeddings ({space} space)")
        fig.tight_layout()
        path = Path(out) / f"{stem}_pca_{space}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        files.append(path)
    return files


def confusion_matrix_png(
    cm: np.ndarray, class_names: list[str], path: Path, title: str = ""
) -> Path:
    """Save a row-normalised (C, C) confusion matrix (rows = true class) as PNG."""
    cm = np.asarray(cm, dtype=np.float64)
    c = cm.shape[0]
    names = list(class_names) if len(class_names) == c else [str(i) for i in range(c)]
    fig, ax = plt.subplots(figsize=(1.1 * c + 3, 1.0 * c + 2))
    im = ax.imshow(cm, vmin=0, vmax=1, cmap="Blues")
    for i in range(c):
        for j in range(c):
            ax.text(j, i, f"{cm[i, j]:.2f}", ha="center", va="center",
                    color="white" if cm[i, j] > 0.5 else "black", fontsize=8)
    ax.set_xticks(range(c), names, rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(c), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def timescale_profile_png(points: dict[str, list[Any]], path: Path, title: str = "") -> Path:
    """Save the timescale profile: x = tasks ordered by the timescale of their label (shortest
    left, bands per scale), y = score (each task's own metric: F1 or R^2), one line per
    embedding view (``points``: {view: [timescale.ProfilePoint, ...]}, same tasks in each),
    error bars = std over seeds, grey ticks = the better trivial predictor."""
    views = list(points)
    tasks = [p.task for p in points[views[0]]] if views else []
    x = np.arange(len(tasks))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(tasks) + 2.5), 4.4))
    scales = [p.scale for p in points[views[0]]] if views else []
    start = 0
    for i in range(1, len(scales) + 1):
        if i == len(scales) or scales[i] != scales[start]:
            if len(set(scales[:start])) % 2 == 0:
                ax.axvspan(start - 0.5, i - 0.5, color="0.93", zorder=0)
            ax.text((start + i - 1) / 2, 1.02, scales[start], ha="center", va="bottom",
                    transform=ax.get_xaxis_transform(), fontsize=8)
            start = i
    for k, view in enumerate(views):
        pts = points[view]
        off = (k - (len(views) - 1) / 2) * 0.08
        ax.errorbar(x + off, [p.mean for p in pts], yerr=[p.std or 0.0 for p in pts],
                    marker="o", ms=5, capsize=2, lw=1.2, label=view)
    first = points[views[0]] if views else []
    for i, p in enumerate(first):
        if p.chance is not None:
            ax.hlines(p.chance, i - 0.3, i + 0.3, colors="0.45", linestyles="--", lw=1,
                      label="trivial predictor" if i == 0 or all(
                          q.chance is None for q in first[:i]) else None)
    ax.set_xticks(x, [f"{p.task}\n({p.metric})" for p in first], rotation=35, ha="right",
                  fontsize=7)
    ax.set_ylabel("score (F1 or R², higher is better)")
    ax.set_xlim(-0.5, max(len(tasks) - 0.5, 0.5))
    ax.axhline(0, color="0.7", lw=0.6)
    ax.legend(fontsize=7, loc="best")
    ax.set_title(title or "timescale profile", fontsize=9, pad=16)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
