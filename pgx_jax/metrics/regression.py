"""Regression metrics computed on the host from gathered numpy predictions.

Includes the drug-target affinity scores used by DeepDTA: Harrell's concordance index and
r_m^2. Undefined values (constant targets or predictions, no comparable pairs) are NaN.
"""

import numpy as np
from scipy.stats import rankdata

NAN = float("nan")


def _pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flatten inputs into float64 vectors of equal length."""
    truth = np.asarray(y_true, dtype=np.float64).ravel()
    pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if truth.shape != pred.shape:
        raise ValueError(f"y_true has {truth.size} entries but y_pred has {pred.size}")
    return truth, pred


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean squared error."""
    truth, pred = _pair(y_true, y_pred)
    return float(np.mean((truth - pred) ** 2)) if truth.size else NAN


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(mse(y_true, y_pred)))


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination 1 - SS_res / SS_tot; NaN for constant targets."""
    truth, pred = _pair(y_true, y_pred)
    total = float(np.sum((truth - truth.mean()) ** 2)) if truth.size else 0.0
    if total == 0:
        return NAN
    return 1.0 - float(np.sum((truth - pred) ** 2)) / total


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two vectors; NaN when either is constant."""
    da = a - a.mean()
    db = b - b.mean()
    denominator = float(np.sqrt(np.sum(da * da) * np.sum(db * db)))
    if denominator == 0:
        return NAN
    return float(np.clip(np.sum(da * db) / denominator, -1.0, 1.0))


def pearson(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Pearson correlation coefficient."""
    truth, pred = _pair(y_true, y_pred)
    return _correlation(truth, pred) if truth.size > 1 else NAN


def spearman(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Spearman rank correlation (Pearson on average ranks, so ties are handled)."""
    truth, pred = _pair(y_true, y_pred)
    return _correlation(rankdata(truth), rankdata(pred)) if truth.size > 1 else NAN


def _fenwick_add(tree: list[int], index: int) -> None:
    """Add one at 1-based `index` of a binary indexed tree."""
    while index < len(tree):
        tree[index] += 1
        index += index & -index


def _fenwick_prefix(tree: list[int], index: int) -> int:
    """Sum of a binary indexed tree over 1-based positions 1..index."""
    total = 0
    while index > 0:
        total += tree[index]
        index -= index & -index
    return total


def concordance_index(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Harrell's C over all pairs with different targets, in O(n log n).

    A pair with y_i > y_j scores 1 if pred_i > pred_j and 0.5 if the predictions tie; pairs
    with equal targets are skipped. Samples are visited in increasing target order, one
    group of equal targets at a time, and a Fenwick tree over prediction ranks counts the
    earlier (strictly smaller-target) samples with smaller or equal predictions.
    """
    truth, pred = _pair(y_true, y_pred)
    order = np.argsort(truth, kind="stable")
    sorted_truth = truth[order]
    pred_rank = rankdata(pred, method="dense").astype(np.int64)[order].tolist()
    starts = np.flatnonzero(np.r_[True, sorted_truth[1:] != sorted_truth[:-1]]).tolist()
    ends = [*starts[1:], truth.size]
    tree = [0] * (max(pred_rank, default=0) + 1)
    twice_score = 0
    pairs = 0
    for start, end in zip(starts, ends, strict=True):
        group = pred_rank[start:end]
        for rank in group:
            twice_score += _fenwick_prefix(tree, rank - 1) + _fenwick_prefix(tree, rank)
        pairs += start * (end - start)
        for rank in group:
            _fenwick_add(tree, rank)
    return twice_score / (2 * pairs) if pairs else NAN


def _r2_through_origin(truth: np.ndarray, pred: np.ndarray) -> float:
    """DeepDTA's `squared_error_zero`: r0^2 of the fit truth ~ k * pred through the origin."""
    k = float(np.sum(truth * pred) / np.sum(pred * pred))
    residual = float(np.sum((truth - k * pred) ** 2))
    return 1.0 - residual / float(np.sum((truth - truth.mean()) ** 2))


def rm2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """r_m^2 exactly as DeepDTA's `get_rm2`: r2 * (1 - sqrt(|r2^2 - r0^2^2|)).

    r2 is the squared Pearson correlation and r0^2 the fit through the origin. Note DeepDTA
    squares both terms inside the root, unlike Roy et al.'s |r2 - r0^2|; we follow DeepDTA so
    numbers compare with published DTA results.
    """
    truth, pred = _pair(y_true, y_pred)
    corr = _correlation(truth, pred) if truth.size > 1 else NAN
    if np.isnan(corr) or not np.any(pred):
        return NAN
    r_sq = corr * corr
    r0_sq = _r2_through_origin(truth, pred)
    return float(r_sq * (1.0 - np.sqrt(abs(r_sq * r_sq - r0_sq * r0_sq))))
