"""Metrics checked against scikit-learn / scipy and brute-force references on random data."""

import math

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from pgx_jax.errors import PgxError
from pgx_jax.metrics import METRICS, compute_metrics
from pgx_jax.metrics.classification import (
    accuracy,
    auprc,
    auroc,
    f1,
    mcc,
    micro_f1,
    precision,
    roc_counts,
    sensitivity,
    sensitivity_at_specificity,
    specificity,
    specificity_at_sensitivity,
    threshold_for_balance,
    threshold_for_mcc,
)
from pgx_jax.metrics.regression import (
    concordance_index,
    mse,
    pearson,
    r2,
    rm2,
    rmse,
    spearman,
)

SEEDS = [0, 1, 2, 3, 4]


def binary_data(seed: int, n: int = 200, decimals: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Random 0/1 labels and scores rounded to force ties, mildly informative."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    score = np.clip(0.3 * y + rng.uniform(0, 0.7, size=n), 0, 1)
    return y, np.round(score, decimals)


def regression_data(seed: int, n: int = 150) -> tuple[np.ndarray, np.ndarray]:
    """Random targets and noisy predictions, both rounded to force ties."""
    rng = np.random.default_rng(seed)
    y = np.round(rng.normal(6.0, 1.0, size=n), 1)
    pred = np.round(y + rng.normal(0, 0.7, size=n), 1)
    return y, pred


def concordance_index_bruteforce(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """O(n^2) Harrell's C: pairs with y_i > y_j, pred_i > pred_j scores 1, pred tie 0.5."""
    score = 0.0
    pairs = 0
    for i in range(len(y_true)):
        for j in range(len(y_true)):
            if y_true[i] > y_true[j]:
                pairs += 1
                score += 1.0 * (y_pred[i] > y_pred[j]) + 0.5 * (y_pred[i] == y_pred[j])
    return score / pairs if pairs else float("nan")


def deepdta_rm2(ys_orig: np.ndarray, ys_line: np.ndarray) -> float:
    """Direct transcription of DeepDTA's emetrics.get_rm2."""
    y_obs = np.array(ys_orig, dtype=float)
    y_pred = np.array(ys_line, dtype=float)
    obs_mean = np.mean(y_obs)
    pred_mean = np.mean(y_pred)
    mult = np.sum((y_pred - pred_mean) * (y_obs - obs_mean)) ** 2
    r2_value = mult / (np.sum((y_obs - obs_mean) ** 2) * np.sum((y_pred - pred_mean) ** 2))
    k = np.sum(y_obs * y_pred) / np.sum(y_pred * y_pred)
    upp = np.sum((y_obs - k * y_pred) ** 2)
    down = np.sum((y_obs - obs_mean) ** 2)
    r02 = 1 - upp / down
    return r2_value * (1 - np.sqrt(np.absolute(r2_value * r2_value - r02 * r02)))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("decimals", [1, 2, 6])
def test_ranking_metrics_match_sklearn(seed: int, decimals: int) -> None:
    y, score = binary_data(seed, decimals=decimals)
    assert auroc(y, score) == pytest.approx(skm.roc_auc_score(y, score), abs=1e-12)
    assert auprc(y, score) == pytest.approx(skm.average_precision_score(y, score), abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_threshold_metrics_match_sklearn(seed: int, threshold: float) -> None:
    y, score = binary_data(seed)
    called = (score >= threshold).astype(int)
    assert accuracy(y, score, threshold) == pytest.approx(skm.accuracy_score(y, called))
    assert mcc(y, score, threshold) == pytest.approx(skm.matthews_corrcoef(y, called))
    assert sensitivity(y, score, threshold) == pytest.approx(skm.recall_score(y, called))
    assert specificity(y, score, threshold) == pytest.approx(
        skm.recall_score(y, called, pos_label=0)
    )
    assert precision(y, score, threshold) == pytest.approx(
        skm.precision_score(y, called, zero_division=0)
    )
    assert f1(y, score, threshold) == pytest.approx(skm.f1_score(y, called, zero_division=0))


def test_threshold_for_mcc_known_answer() -> None:
    # Separable away from 0.5: the best cut lies midway between 0.3 and 0.2.
    y = np.array([1, 1, 1, 0, 0, 0])
    score = np.array([0.4, 0.35, 0.3, 0.2, 0.1, 0.05])
    assert threshold_for_mcc(y, score) == pytest.approx(0.25)
    assert mcc(y, score, threshold_for_mcc(y, score)) == 1.0
    assert threshold_for_mcc(np.ones(4), score[:4]) == 0.5


@pytest.mark.parametrize("seed", SEEDS)
def test_threshold_for_mcc_is_best_over_all_cuts(seed: int) -> None:
    y, score = binary_data(seed)
    score = np.round(score, 2)  # ties
    best = max(skm.matthews_corrcoef(y, score >= t) for t in np.unique(score))
    assert mcc(y, score, threshold_for_mcc(y, score)) == pytest.approx(best)


def test_compute_metrics_threshold_applies_to_calls_only() -> None:
    y, score = binary_data(0)
    got = compute_metrics(["auroc", "mcc", "sensitivity"], y, score, threshold=0.3)
    assert got["mcc"] == pytest.approx(skm.matthews_corrcoef(y, score >= 0.3))
    assert got["sensitivity"] == pytest.approx(skm.recall_score(y, score >= 0.3))
    assert got["auroc"] == pytest.approx(skm.roc_auc_score(y, score))


def test_mcc_and_precision_when_all_calls_negative() -> None:
    y = np.array([0, 1, 0, 1])
    score = np.zeros(4)
    assert mcc(y, score) == 0.0
    assert precision(y, score) == 0.0
    assert f1(y, score) == 0.0


@pytest.mark.parametrize("seed", SEEDS)
def test_multiclass_accuracy_uses_argmax(seed: int) -> None:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(100, 4))
    y = rng.integers(0, 4, size=100)
    assert accuracy(y, logits) == pytest.approx(skm.accuracy_score(y, logits.argmax(axis=1)))


@pytest.mark.parametrize("seed", SEEDS)
def test_micro_f1_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 5, size=300)
    pred = np.where(rng.uniform(size=300) < 0.6, y, rng.integers(0, 5, size=300))
    positive = [1, 2, 3, 4]
    p, r, f, _ = skm.precision_recall_fscore_support(
        y, pred, labels=positive, average="micro", zero_division=0
    )
    got = micro_f1(y, pred, positive)
    assert got["precision"] == pytest.approx(p)
    assert got["recall"] == pytest.approx(r)
    assert got["f1"] == pytest.approx(f)


def test_micro_f1_no_positive_predictions_is_zero() -> None:
    got = micro_f1(np.array([1, 2, 0]), np.zeros(3, dtype=int), [1, 2])
    assert got == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


@pytest.mark.parametrize(
    "fn", [auroc, auprc, mcc, sensitivity, specificity, precision, f1], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("label", [0, 1])
def test_single_class_returns_nan(fn, label: int) -> None:
    y = np.full(10, label)
    score = np.linspace(0, 1, 10)
    assert math.isnan(fn(y, score))


@pytest.mark.parametrize("seed", SEEDS)
def test_regression_metrics_match_sklearn_scipy(seed: int) -> None:
    y, pred = regression_data(seed)
    assert mse(y, pred) == pytest.approx(skm.mean_squared_error(y, pred))
    assert rmse(y, pred) == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)))
    assert r2(y, pred) == pytest.approx(skm.r2_score(y, pred))
    assert pearson(y, pred) == pytest.approx(stats.pearsonr(y, pred)[0])
    assert spearman(y, pred) == pytest.approx(stats.spearmanr(y, pred)[0])
    assert rm2(y, pred) == pytest.approx(deepdta_rm2(y, pred))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("levels", [3, 10, 1000])
def test_concordance_index_matches_bruteforce(seed: int, levels: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, levels, size=120).astype(float)
    pred = rng.integers(0, levels, size=120) + 0.5 * y
    assert concordance_index(y, pred) == pytest.approx(concordance_index_bruteforce(y, pred))


def test_concordance_index_extremes() -> None:
    y = np.arange(20.0)
    assert concordance_index(y, y) == 1.0
    assert concordance_index(y, -y) == 0.0
    assert concordance_index(y, np.ones(20)) == 0.5
    assert math.isnan(concordance_index(np.ones(20), y))


def test_concordance_index_is_fast_on_large_input() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=50_000)
    value = concordance_index(y, y + rng.normal(size=50_000))
    assert 0.5 < value < 1.0


@pytest.mark.parametrize("fn", [r2, pearson, spearman, rm2], ids=lambda f: f.__name__)
def test_regression_degenerate_returns_nan(fn) -> None:
    assert math.isnan(fn(np.ones(10), np.linspace(0, 1, 10)))


def test_registry_has_expected_names() -> None:
    expected = {
        "accuracy", "auroc", "auprc", "mcc", "sensitivity", "specificity", "precision", "f1",
        "mse", "rmse", "r2", "pearson", "spearman", "ci", "rm2",
        "micro_precision", "micro_recall", "micro_f1",
        "log_pearson", "count_pearson", "profile_pearson", "profile_jsd",
    }  # fmt: skip
    assert set(METRICS) == expected


def test_compute_metrics_single_task_with_mask() -> None:
    y, score = binary_data(0)
    mask = np.arange(y.size) % 3 != 0
    got = compute_metrics(["auroc", "accuracy"], y, score, mask)
    assert got["auroc"] == pytest.approx(skm.roc_auc_score(y[mask], score[mask]))
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y[mask], score[mask] >= 0.5))


def test_compute_metrics_multiclass_accuracy() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 3))
    y = rng.integers(0, 3, size=50)
    got = compute_metrics(["accuracy"], y, logits)
    assert got["accuracy"] == pytest.approx(np.mean(logits.argmax(axis=1) == y))


def test_compute_metrics_multilabel_masks_missing_labels() -> None:
    rng = np.random.default_rng(1)
    n, tasks = 120, 3
    y = rng.integers(0, 2, size=(n, tasks))
    score = np.round(rng.uniform(size=(n, tasks)), 1)
    mask = rng.uniform(size=(n, tasks)) < 0.7
    y_filled = np.where(mask, y, -1)
    got = compute_metrics(["auroc", "auprc"], y_filled, score, mask)
    for name, reference in [
        ("auroc", skm.roc_auc_score),
        ("auprc", skm.average_precision_score),
    ]:
        per_task = [reference(y[mask[:, t], t], score[mask[:, t], t]) for t in range(tasks)]
        for t, value in enumerate(per_task):
            assert got[f"{name}/task{t}"] == pytest.approx(value)
        assert got[name] == pytest.approx(np.mean(per_task))


def test_compute_metrics_multilabel_skips_undefined_task_in_mean() -> None:
    y = np.array([[0, 1], [1, 1], [0, 1], [1, 1]])
    score = np.array([[0.1, 0.2], [0.9, 0.3], [0.2, 0.4], [0.8, 0.5]])
    got = compute_metrics(["auroc"], y, score)
    assert got["auroc/task0"] == 1.0
    assert math.isnan(got["auroc/task1"])
    assert got["auroc"] == 1.0


def test_compute_metrics_unknown_name_lists_known() -> None:
    with pytest.raises(PgxError, match="auroc"):
        compute_metrics(["auroc", "bogus"], np.array([0, 1]), np.array([0.2, 0.8]))
    with pytest.raises(PgxError, match="bogus"):
        compute_metrics(["bogus"], np.array([0, 1]), np.array([0.2, 0.8]))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("target", [0.0, 0.5, 0.9, 0.96, 1.0])
def test_roc_points_match_sklearn_roc_curve(seed: int, target: float) -> None:
    y, score = binary_data(seed, decimals=2)
    fpr, tpr, _ = skm.roc_curve(y, score)
    expected_sens = tpr[1 - fpr >= target - 1e-12].max()
    expected_spec = (1 - fpr[tpr >= target - 1e-12]).max()
    assert sensitivity_at_specificity(y, score, target) == pytest.approx(expected_sens, abs=1e-12)
    assert specificity_at_sensitivity(y, score, target) == pytest.approx(expected_spec, abs=1e-12)


def test_roc_points_known_answer() -> None:
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    score = np.array([0.1, 0.2, 0.3, 0.8, 0.4, 0.6, 0.7, 0.9])
    # Specificity 1 needs a threshold above the negative at 0.8: only the 0.9 positive remains.
    assert sensitivity_at_specificity(y, score, 1.0) == 0.25
    # Specificity 0.75 lets 0.8 through; threshold 0.4 keeps every positive.
    assert sensitivity_at_specificity(y, score, 0.75) == 1.0
    assert specificity_at_sensitivity(y, score, 1.0) == 0.75
    assert specificity_at_sensitivity(y, score, 0.25) == 1.0


@pytest.mark.parametrize("seed", SEEDS)
def test_roc_counts_match_sklearn_curves(seed: int) -> None:
    y, score = binary_data(seed, decimals=2)
    tp, fp, thresholds = roc_counts(y, score)
    fpr, tpr, sk_thresholds = skm.roc_curve(y, score, drop_intermediate=False)
    np.testing.assert_array_equal(thresholds, sk_thresholds[1:])  # [0] is sklearn's inf
    np.testing.assert_allclose(fp / fp[-1], fpr[1:], rtol=0, atol=1e-12)
    np.testing.assert_allclose(tp / tp[-1], tpr[1:], rtol=0, atol=1e-12)
    # sklearn lists the precision-recall points lowest threshold first, then (recall 0, 1).
    sk_precision, sk_recall, _ = skm.precision_recall_curve(y, score)
    np.testing.assert_allclose(tp / (tp + fp), sk_precision[-2::-1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(tp / tp[-1], sk_recall[-2::-1], rtol=0, atol=1e-12)


def test_roc_point_metrics_are_named_with_their_target() -> None:
    y, score = binary_data(0)
    got = compute_metrics(
        ["sensitivity_at_specificity_0.9", "specificity_at_sensitivity_0.8"], y, score
    )
    assert got["sensitivity_at_specificity_0.9"] == sensitivity_at_specificity(y, score, 0.9)
    assert got["specificity_at_sensitivity_0.8"] == specificity_at_sensitivity(y, score, 0.8)
    for bad in ("sensitivity_at_specificity_1.5", "sensitivity_at_specificity_x"):
        with pytest.raises(PgxError, match="target after sensitivity_at_specificity_"):
            compute_metrics([bad], y, score)


def test_threshold_for_balance_known_answer() -> None:
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    score = np.array([0.2, 0.3, 0.4, 0.9, 0.5, 0.7, 0.8, 1.0])
    # Between 0.5 and 0.7: three of four positives above, three of four negatives below.
    assert threshold_for_balance(y, score) == pytest.approx(0.6)
    assert threshold_for_balance(np.zeros(3), np.array([0.1, 0.2, 0.3])) == 0.5


@pytest.mark.parametrize("seed", SEEDS)
def test_threshold_for_balance_is_closest_over_all_cuts(seed: int) -> None:
    y, score = binary_data(seed, decimals=2)
    chosen = threshold_for_balance(y, score)
    gap = abs(sensitivity(y, score, chosen) - specificity(y, score, chosen))
    cuts = np.append(np.unique(score), np.inf)
    gaps = [abs(sensitivity(y, score, t) - specificity(y, score, t)) for t in cuts]
    assert gap == pytest.approx(min(gaps), abs=1e-12)
