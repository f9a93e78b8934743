"""Pictures of a finished run, as PNG: training curves from `metrics.jsonl` and, from the saved
test predictions, ROC and precision-recall curves and a confusion matrix (classification) or a
predicted-against-measured scatter (regression)."""

import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from pgx_jax.metrics.classification import roc_counts  # noqa: E402

MAX_CURVES = 10
"""Multi-label and multi-class runs draw the curves of their first MAX_CURVES tasks/classes."""


def _save(fig, path: str) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def training_curves(metrics: list[dict], path: str) -> str | None:
    """Losses (left) and the other validation metrics (right) against the step; None if empty."""
    series: dict[str, tuple[list, list]] = {}
    for line in metrics:
        for name, value in line.items():
            if name == "step" or not isinstance(value, (int, float)) or "/task" in name:
                continue
            if name.startswith("validation/") or name == "train/loss":
                steps, values = series.setdefault(name, ([], []))
                steps.append(line["step"])
                values.append(value)
    if not series:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, (steps, values) in sorted(series.items()):
        ax = left if name.endswith("/loss") else right
        ax.plot(steps, values, marker="." if len(steps) < 30 else None, label=name)
    for ax, title in ((left, "loss"), (right, "validation metrics")):
        ax.set_xlabel("step")
        ax.set_title(title)
        if ax.lines:
            ax.legend(fontsize=8)
    return _save(fig, path)


def roc_points(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates at every distinct score threshold, from (0, 0) to (1, 1)."""
    tp, fp, _ = roc_counts(labels, scores)
    return np.r_[0.0, fp / max(fp[-1], 1)], np.r_[0.0, tp / max(tp[-1], 1)]


def pr_points(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Recall and precision at every distinct score threshold."""
    tp, fp, _ = roc_counts(labels, scores)
    return np.r_[0.0, tp / max(tp[-1], 1)], np.r_[1.0, tp / np.maximum(tp + fp, 1)]


def _columns(labels, predictions, weights, task):
    """(name, labels, scores) per binary problem: the task itself, each label or each class."""
    if task == "binary":
        keep = weights > 0
        return [("", labels[keep], predictions[keep])]
    if task == "multilabel":
        if weights.ndim == 1:  # one weight per record rather than per label
            weights = np.broadcast_to(weights[:, None], labels.shape)
        return [
            (f"task {t}", labels[weights[:, t] > 0, t], predictions[weights[:, t] > 0, t])
            for t in range(min(labels.shape[1], MAX_CURVES))
        ]
    keep = weights > 0
    return [
        (f"class {c}", (labels[keep] == c).astype(float), predictions[keep, c])
        for c in range(min(predictions.shape[1], MAX_CURVES))
    ]


def classification_curves(
    labels: np.ndarray, predictions: np.ndarray, weights: np.ndarray, task: str, workdir: str
) -> list[str]:
    """roc.png and pr.png in `workdir`, one curve per task or class (one-vs-rest)."""
    problems = [
        p for p in _columns(labels, predictions, weights, task) if 0 < p[1].sum() < len(p[1])
    ]
    if not problems:
        return []
    paths = []
    for kind, points, axes in (
        ("roc", roc_points, ("false positive rate", "true positive rate")),
        ("pr", pr_points, ("recall", "precision")),
    ):
        fig, ax = plt.subplots(figsize=(4.5, 4.2))
        for name, y, s in problems:
            x_values, y_values = points(y, s)
            area = np.trapezoid(y_values, x_values)
            ax.plot(x_values, y_values, label=f"{name} area {area:.3f}".strip())
        if kind == "roc":
            ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        ax.set_xlabel(axes[0])
        ax.set_ylabel(axes[1])
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_title("ROC curve" if kind == "roc" else "precision-recall curve")
        ax.legend(fontsize=8, loc="lower right" if kind == "roc" else "lower left")
        paths.append(_save(fig, os.path.join(workdir, f"{kind}.png")))
    return paths


def confusion_picture(
    counts: np.ndarray, path: str, class_names: list[str] | None = None, title: str = ""
) -> str:
    """Counts of measured (rows) against predicted (columns) class, shaded by row share."""
    counts = np.asarray(counts)
    classes = len(counts)
    names = class_names or [str(c) for c in range(classes)]
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(2.2 + 0.6 * classes, 1.6 + 0.55 * classes))
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (i, j), n in np.ndenumerate(counts):
        color = "white" if shares[i, j] > 0.5 else "black"
        ax.text(j, i, str(n), ha="center", va="center", color=color, fontsize=8)
    ax.set_xticks(range(classes), names, rotation=30 if class_names else 0)
    ax.set_yticks(range(classes), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("measured")
    ax.set_title(title or "confusion matrix", fontsize=10)
    return _save(fig, path)


def confusion_matrix(
    labels: np.ndarray, predictions: np.ndarray, weights: np.ndarray, task: str, path: str
) -> str | None:
    """The confusion picture of test predictions (threshold 0.5 for binary); None for tasks
    without classes."""
    keep = weights > 0
    if task == "binary":
        truth = (labels[keep] > 0.5).astype(int)
        guess = (predictions[keep] > 0.5).astype(int)
        classes = 2
    elif task == "multiclass":
        truth, guess = labels[keep].astype(int), predictions[keep].argmax(axis=1)
        classes = predictions.shape[1]
    else:
        return None
    counts = np.zeros((classes, classes), int)
    np.add.at(counts, (truth, guess), 1)
    return confusion_picture(counts, path)


def regression_scatter(
    labels: np.ndarray, predictions: np.ndarray, weights: np.ndarray, path: str
) -> str:
    """Predicted against measured values with the identity line and Pearson r."""
    keep = weights.reshape(len(weights), -1).max(axis=1) > 0
    y, p = labels[keep].reshape(-1), predictions[keep].reshape(-1)
    fig, ax = plt.subplots(figsize=(4.5, 4.2))
    ax.scatter(y, p, s=4, alpha=0.4)
    low, high = float(min(y.min(), p.min())), float(max(y.max(), p.max()))
    ax.plot([low, high], [low, high], color="grey", linestyle=":", linewidth=1)
    r = np.corrcoef(y, p)[0, 1] if len(y) > 1 and y.std() > 0 and p.std() > 0 else np.nan
    ax.set_xlabel("measured")
    ax.set_ylabel("predicted")
    ax.set_title(f"test set, Pearson r = {r:.3f}")
    return _save(fig, path)


def homology_scatter(
    similarity: np.ndarray, scores: np.ndarray, labels: np.ndarray, threshold: float, path: str
) -> str:
    """Each test item's predicted probability against its similarity to the nearest training
    item, by class, with the homology threshold: what a model answers from memory (right of
    the line) and what it must generalise to (left)."""
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for value, name, colour in ((1, "positive", "tab:red"), (0, "negative", "tab:blue")):
        keep = labels == value
        ax.scatter(
            similarity[keep],
            scores[keep],
            s=10,
            alpha=0.6,
            color=colour,
            label=f"{name} ({int(keep.sum())})",
        )
    ax.axvline(threshold, color="grey", linestyle=":", linewidth=1)
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("similarity to the nearest training item")
    ax.set_ylabel("predicted probability")
    homologous = int((similarity >= threshold).sum())
    ax.set_title(f"test set: {homologous} of {len(labels)} at or above {threshold}")
    ax.legend(fontsize=8)
    return _save(fig, path)


def prediction_pictures(predictions_file: str, workdir: str) -> list[str]:
    """The pictures of saved test predictions (an npz from the loop) written into `workdir`."""
    with np.load(predictions_file) as saved:
        task = str(saved["task"])
        labels, scores, weights = saved["labels"], saved["predictions"], saved["weights"]
    if task == "regression":
        return [regression_scatter(labels, scores, weights, os.path.join(workdir, "scatter.png"))]
    if task in ("counts", "profile"):  # log(1 + count) per window and track
        if task == "profile":
            labels, scores = labels.sum(axis=1), scores.sum(axis=1)
        path = os.path.join(workdir, "scatter.png")
        return [
            regression_scatter(np.log1p(labels), np.log1p(np.maximum(scores, 0)), weights, path)
        ]
    paths = classification_curves(labels, scores, weights, task, workdir)
    confusion = confusion_matrix(
        labels, scores, weights, task, os.path.join(workdir, "confusion.png")
    )
    return paths + ([confusion] if confusion else [])


def mutation_map(
    ism: np.ndarray, sequence: str, path: str, title: str = "", letters: str = "ACGT"
) -> str:
    """Heat map of an ISM map [L, K] (letters by positions, diverging colours around 0)."""
    values = np.asarray(ism).T
    limit = float(np.abs(values).max()) or 1.0
    fig, ax = plt.subplots(figsize=(min(24.0, 2.0 + 0.12 * values.shape[1]), 2.2))
    image = ax.imshow(
        values, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest"
    )
    ax.set_yticks(range(len(letters)), list(letters))
    if len(sequence) <= 120:
        ax.set_xticks(range(len(sequence)), list(sequence), fontsize=6)
    else:
        ax.set_xlabel("position")
    fig.colorbar(image, ax=ax, label="score change", pad=0.01)
    ax.set_title(title, fontsize=9)
    return _save(fig, path)
