"""Metrics of coverage predictions: counts (per window) and base-resolution profiles.

Profile metrics take one task's coverage and predicted coverage, [N, P] each (N windows, P
positions), as BPNet and bpnet-lite report them: Pearson of log(1 + total count) over windows,
and the mean over windows of the Pearson correlation and the Jensen-Shannon distance between
observed and predicted profiles (windows without coverage left out of the latter two).
"""

import numpy as np

from pgx_jax.metrics.regression import pearson


def log_pearson(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Pearson correlation of log(1 + count) between observed and predicted counts."""
    return pearson(np.log1p(y_true), np.log1p(np.maximum(y_pred, 0)))


def count_pearson(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Pearson correlation of log(1 + total count) per window, profiles [N, P]."""
    return log_pearson(np.sum(y_true, axis=1), np.sum(y_pred, axis=1))


def _covered(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = np.sum(y_true, axis=1) > 0
    return np.asarray(y_true[keep], np.float64), np.asarray(y_pred[keep], np.float64)


def profile_pearson(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean over covered windows of the Pearson correlation of the two profiles (windows
    where either profile is constant are left out); NaN without one."""
    truth, pred = _covered(y_true, y_pred)
    a = truth - truth.mean(axis=1, keepdims=True)
    b = pred - pred.mean(axis=1, keepdims=True)
    norm = np.sqrt(np.sum(a * a, axis=1) * np.sum(b * b, axis=1))
    valid = norm > 0
    if not valid.any():
        return float("nan")
    return float(np.mean(np.sum(a * b, axis=1)[valid] / norm[valid]))


def profile_jsd(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean over covered windows of the Jensen-Shannon distance (base 2, in [0, 1]) between
    the profiles normalised to sum 1; NaN without a covered window."""
    truth, pred = _covered(y_true, y_pred)
    if not len(truth):
        return float("nan")
    p = truth / truth.sum(axis=1, keepdims=True)
    q = np.maximum(pred, 0) + 1e-12
    q = q / q.sum(axis=1, keepdims=True)
    m = (p + q) / 2

    def kl(a: np.ndarray) -> np.ndarray:
        return np.sum(np.where(a > 0, a * np.log2(np.where(a > 0, a, 1) / m), 0.0), axis=1)

    return float(np.mean(np.sqrt(np.maximum((kl(p) + kl(q)) / 2, 0))))
