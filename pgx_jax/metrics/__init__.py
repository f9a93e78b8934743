"""Metric registry: config-selectable metrics computed on gathered host-side predictions."""

import functools
from collections.abc import Callable, Sequence

import numpy as np

from pgx_jax.errors import PgxError
from pgx_jax.metrics.classification import (
    accuracy,
    auprc,
    auroc,
    f1,
    mcc,
    micro_f1,
    micro_f1_score,
    micro_precision,
    micro_recall,
    precision,
    sensitivity,
    sensitivity_at_specificity,
    significant_sign_auroc,
    specificity,
    specificity_at_sensitivity,
    threshold_for_balance,
    threshold_for_mcc,
)
from pgx_jax.metrics.profiles import count_pearson, log_pearson, profile_jsd, profile_pearson
from pgx_jax.metrics.regression import (
    concordance_index,
    mse,
    pearson,
    r2,
    rm2,
    rmse,
    spearman,
)

MetricFn = Callable[[np.ndarray, np.ndarray], float]

METRICS: dict[str, MetricFn] = {
    "accuracy": accuracy,
    "auroc": auroc,
    "auprc": auprc,
    "mcc": mcc,
    "sensitivity": sensitivity,
    "specificity": specificity,
    "precision": precision,
    "f1": f1,
    "micro_precision": micro_precision,
    "micro_recall": micro_recall,
    "micro_f1": micro_f1_score,
    "mse": mse,
    "rmse": rmse,
    "r2": r2,
    "pearson": pearson,
    "spearman": spearman,
    "ci": concordance_index,
    "rm2": rm2,
    "log_pearson": log_pearson,
    "count_pearson": count_pearson,
    "profile_pearson": profile_pearson,
    "profile_jsd": profile_jsd,
}

THRESHOLD_RULES: dict[str, MetricFn] = {
    "mcc": threshold_for_mcc,
    "balanced": threshold_for_balance,
}
"""`config.eval.tune_threshold`: how a binary run picks its decision threshold on validation."""

THRESHOLD_METRICS = frozenset({"accuracy", "mcc", "sensitivity", "specificity", "precision", "f1"})
"""Binary metrics of calls (scores >= a threshold) rather than of the ranking."""

__all__ = [
    "METRICS",
    "THRESHOLD_METRICS",
    "accuracy",
    "auprc",
    "auroc",
    "compute_metrics",
    "concordance_index",
    "count_pearson",
    "f1",
    "log_pearson",
    "mcc",
    "micro_f1",
    "micro_f1_score",
    "micro_precision",
    "micro_recall",
    "mse",
    "pearson",
    "precision",
    "profile_jsd",
    "profile_pearson",
    "r2",
    "rm2",
    "rmse",
    "sensitivity",
    "sensitivity_at_specificity",
    "significant_sign_auroc",
    "spearman",
    "specificity",
    "specificity_at_sensitivity",
    "threshold_for_balance",
    "threshold_for_mcc",
]


ROC_POINT_METRICS: dict[str, Callable[[np.ndarray, np.ndarray, float], float]] = {
    "sensitivity_at_specificity": sensitivity_at_specificity,
    "specificity_at_sensitivity": specificity_at_sensitivity,
}
"""Metrics named with their target, e.g. "sensitivity_at_specificity_0.96": a point of the
ROC curve, whatever the decision threshold."""


def _lookup(names: Sequence[str]) -> list[tuple[str, MetricFn]]:
    """Resolve metric names, failing on the first unknown one with the list of known names."""
    resolved = []
    for name in names:
        if name in METRICS:
            resolved.append((name, METRICS[name]))
            continue
        stem, _, target = name.rpartition("_")
        if stem in ROC_POINT_METRICS:
            try:
                value = float(target)
            except ValueError:
                value = -1.0
            if not 0.0 <= value <= 1.0:
                raise PgxError(f"metric {name!r}: the target after {stem}_ must be in [0, 1]")
            resolved.append((name, functools.partial(ROC_POINT_METRICS[stem], target=value)))
            continue
        known = sorted(METRICS) + [f"{stem}_<0..1>" for stem in sorted(ROC_POINT_METRICS)]
        raise PgxError(f"unknown metric {name!r}; known metrics: {', '.join(known)}")
    return resolved


def _mean_finite(values: list[float]) -> float:
    """Mean of the non-NaN values, NaN if there are none (tasks with one class are skipped)."""
    finite = [value for value in values if not np.isnan(value)]
    return float(np.mean(finite)) if finite else float("nan")


def compute_metrics(
    names: Sequence[str],
    y_true: np.ndarray,
    y_score: np.ndarray,
    mask: np.ndarray | None = None,
    threshold: float = 0.5,
) -> dict[str, float]:
    """Compute the named metrics; `mask` is False where a label is missing; binary calls are
    scores >= `threshold` (the metrics in THRESHOLD_METRICS).

    A 2-D `y_true` of shape [N, T] is treated as T tasks: each metric is computed per task on
    that task's unmasked entries, reported as f"{name}/task{t}", and averaged over the tasks
    where it is defined under `name`. A 3-D `y_true` [N, P, T] holds T tasks' profiles (with
    a mask [N, T]): each metric gets one task's profiles [n, P]. A 1-D `y_true` with `y_score`
    of shape [N, C] is a multi-class problem (`accuracy`, and `micro_precision`/
    `micro_recall`/`micro_f1` over the positive classes 1..C-1, class 0 being "no relation").
    """
    metrics = [
        (name, functools.partial(fn, threshold=threshold) if name in THRESHOLD_METRICS else fn)
        for name, fn in _lookup(names)
    ]
    truth = np.asarray(y_true)
    scores = np.asarray(y_score)
    if truth.ndim == 3:
        return _per_task(metrics, truth, scores, mask)
    keep = np.ones(truth.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if keep.shape != truth.shape:
        raise ValueError(f"mask shape {keep.shape} does not match y_true shape {truth.shape}")
    if truth.ndim != 2:
        return {name: fn(truth[keep], scores[keep]) for name, fn in metrics}
    if scores.shape != truth.shape:
        raise ValueError(f"y_score shape {scores.shape} does not match y_true {truth.shape}")
    results: dict[str, float] = {}
    for name, fn in metrics:
        per_task = [fn(truth[keep[:, t], t], scores[keep[:, t], t]) for t in range(truth.shape[1])]
        results[name] = _mean_finite(per_task)
        results.update({f"{name}/task{t}": value for t, value in enumerate(per_task)})
    return results


def _per_task(
    metrics: list[tuple[str, MetricFn]],
    truth: np.ndarray,
    scores: np.ndarray,
    mask: np.ndarray | None,
) -> dict[str, float]:
    """Profile metrics of each task [N, P, T] on its unmasked windows, and their mean."""
    tasks = truth.shape[2]
    keep = np.ones((len(truth), tasks), bool) if mask is None else np.asarray(mask, bool)
    results: dict[str, float] = {}
    for name, fn in metrics:
        per_task = [fn(truth[keep[:, t], :, t], scores[keep[:, t], :, t]) for t in range(tasks)]
        results[name] = _mean_finite(per_task)
        results.update({f"{name}/task{t}": value for t, value in enumerate(per_task)})
    return results
