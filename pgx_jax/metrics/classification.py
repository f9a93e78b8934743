"""Classification metrics computed on the host from gathered numpy predictions.

Binary metrics take 0/1 labels and positive-class scores (probabilities). When `y_true`
holds a single class the metric is undefined, and the functions return NaN instead of
raising, so one degenerate task or split cannot abort an evaluation run.
"""

import numpy as np
from scipy.stats import rankdata

NAN = float("nan")


def _labels_scores(y_true: np.ndarray, y_score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flatten inputs into boolean labels and float scores of equal length."""
    labels = np.asarray(y_true).ravel() > 0.5
    scores = np.asarray(y_score, dtype=np.float64).ravel()
    if labels.shape != scores.shape:
        raise ValueError(f"y_true has {labels.size} entries but y_score has {scores.size}")
    return labels, scores


def _both_classes(labels: np.ndarray) -> bool:
    """Whether the labels contain at least one positive and one negative."""
    return bool(labels.any()) and not bool(labels.all())


def roc_counts(
    y_true: np.ndarray, y_score: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True and false positives (float counts) called at each distinct score, highest first,
    and those scores; scores >= a threshold are called positive, so tied scores share one.

    The one computation of the ROC curve: the ROC and precision-recall points, AUPRC and the
    tuned thresholds all derive from it.
    """
    labels, scores = _labels_scores(y_true, y_score)
    order = np.argsort(-scores, kind="stable")
    sorted_scores, sorted_labels = scores[order], labels[order]
    last = np.flatnonzero(np.r_[sorted_scores[1:] != sorted_scores[:-1], True])
    tp = np.cumsum(sorted_labels)[last].astype(np.float64)
    fp = np.cumsum(~sorted_labels)[last].astype(np.float64)
    return tp, fp, sorted_scores[last]


def _confusion(
    y_true: np.ndarray, y_score: np.ndarray, threshold: float
) -> tuple[int, int, int, int]:
    """Counts (tp, fp, tn, fn) when scores >= threshold are called positive."""
    labels, scores = _labels_scores(y_true, y_score)
    called = scores >= threshold
    tp = int(np.sum(called & labels))
    fp = int(np.sum(called & ~labels))
    tn = int(np.sum(~called & ~labels))
    fn = int(np.sum(~called & labels))
    return tp, fp, tn, fn


def accuracy(y_true: np.ndarray, y_score: np.ndarray, threshold: float = 0.5) -> float:
    """Fraction of correct calls.

    With `y_score` of shape [N, C] (C > 1) and integer `y_true` of shape [N], the call is the
    argmax class; otherwise scores are thresholded as binary probabilities.
    """
    scores = np.asarray(y_score)
    truth = np.asarray(y_true)
    if scores.ndim == 2 and scores.shape[1] > 1 and truth.ndim == 1:
        if truth.size == 0:
            return NAN
        return float(np.mean(np.argmax(scores, axis=1) == truth))
    labels, probs = _labels_scores(truth, scores)
    if labels.size == 0:
        return NAN
    return float(np.mean((probs >= threshold) == labels))


def auroc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Area under the ROC curve via the Mann-Whitney U statistic with average ranks for ties."""
    labels, scores = _labels_scores(y_true, y_score)
    if not _both_classes(labels):
        return NAN
    n_pos = int(labels.sum())
    n_neg = labels.size - n_pos
    rank_sum = float(rankdata(scores)[labels].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def auprc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Average precision: sum over distinct thresholds of (recall step) * precision.

    Tied scores form one threshold, as in scikit-learn's `average_precision_score`.
    """
    labels, scores = _labels_scores(y_true, y_score)
    if not _both_classes(labels):
        return NAN
    tp, fp, _ = roc_counts(labels, scores)
    recall_steps = np.diff(np.r_[0.0, tp]) / tp[-1]
    return float(np.sum(recall_steps * (tp / (tp + fp))))


def mcc(y_true: np.ndarray, y_score: np.ndarray, threshold: float = 0.5) -> float:
    """Matthews correlation coefficient; 0 when all calls fall in one class (as scikit-learn)."""
    labels, _ = _labels_scores(y_true, y_score)
    if not _both_classes(labels):
        return NAN
    tp, fp, tn, fn = _confusion(y_true, y_score, threshold)
    denominator = float(tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)
    if denominator == 0:
        return 0.0
    return float((tp * tn - fp * fn) / np.sqrt(denominator))


def threshold_for_mcc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """The decision threshold (scores >= it are called positive) with the best MCC: midway
    between two adjacent distinct scores, ties going to the one nearest 0.5. Tuned on a
    validation split, it corrects the calls of a model trained on imbalanced classes.
    0.5 when the labels hold one class."""
    labels, scores = _labels_scores(y_true, y_score)
    if not _both_classes(labels):
        return 0.5
    tp, fp, distinct = roc_counts(labels, scores)
    fn, tn = labels.sum() - tp, (~labels).sum() - fp
    denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    values = np.divide(tp * tn - fp * fn, denominator, out=np.zeros_like(tp), where=denominator > 0)
    thresholds = (distinct + np.append(distinct[1:], distinct[-1] - 1.0)) / 2
    best = np.flatnonzero(np.isclose(values, values.max(), rtol=0, atol=1e-12))
    return float(thresholds[best[np.argmin(np.abs(thresholds[best] - 0.5))]])


def threshold_for_balance(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """The decision threshold at which sensitivity and specificity are closest (ties: the
    larger sum, then nearest 0.5), midway between two adjacent distinct scores as in
    `threshold_for_mcc`: the ROC curve's equal-error point, whatever the class balance.
    0.5 when the labels hold one class."""
    labels, scores = _labels_scores(y_true, y_score)
    if not _both_classes(labels):
        return 0.5
    tp, fp, distinct = roc_counts(labels, scores)
    # Every cut, lowest first (so nearest-0.5 ties go to the lower): below every score, midway
    # between adjacent distinct scores, above every score.
    rising = distinct[::-1]
    thresholds = np.r_[rising[0] - 1, (rising[:-1] + rising[1:]) / 2, rising[-1] + 1]
    sens = np.r_[tp[::-1], 0.0] / tp[-1]
    spec = (fp[-1] - np.r_[fp[::-1], 0.0]) / fp[-1]
    gap, total = np.abs(sens - spec), sens + spec
    best = np.flatnonzero(np.isclose(gap, gap.min(), rtol=0, atol=1e-12))
    best = best[np.isclose(total[best], total[best].max(), rtol=0, atol=1e-12)]
    return float(thresholds[best[np.argmin(np.abs(thresholds[best] - 0.5))]])


def sensitivity(y_true: np.ndarray, y_score: np.ndarray, threshold: float = 0.5) -> float:
    """Recall of the positive class: tp / (tp + fn)."""
    labels, _ = _labels_scores(y_true, y_score)
    if not _both_classes(labels):
        return NAN
    tp, _, _, fn = _confusion(y_true, y_score, threshold)
    return tp / (tp + fn)


def specificity(y_true: np.ndarray, y_score: np.ndarray, threshold: float = 0.5) -> float:
    """Recall of the negative class: tn / (tn + fp)."""
    labels, _ = _labels_scores(y_true, y_score)
    if not _both_classes(labels):
        return NAN
    _, fp, tn, _ = _confusion(y_true, y_score, threshold)
    return tn / (tn + fp)


def _roc_points(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sensitivity and specificity of every cut that changes the calls: calling nothing, then
    each distinct score and up, highest first (`roc_counts`)."""
    tp, fp, _ = roc_counts(labels, scores)
    positives, negatives = tp[-1], fp[-1]
    return np.r_[0.0, tp] / positives, (negatives - np.r_[0.0, fp]) / negatives


def sensitivity_at_specificity(y_true: np.ndarray, y_score: np.ndarray, target: float) -> float:
    """The best sensitivity of any threshold whose specificity is at least `target`: a point
    of the ROC curve, for comparing a ranking with a published (Sn, Sp) operating point."""
    labels, scores = _labels_scores(y_true, y_score)
    if not _both_classes(labels):
        return NAN
    sens, spec = _roc_points(labels, scores)
    return float(sens[spec >= target - 1e-12].max())


def specificity_at_sensitivity(y_true: np.ndarray, y_score: np.ndarray, target: float) -> float:
    """The best specificity of any threshold whose sensitivity is at least `target`."""
    labels, scores = _labels_scores(y_true, y_score)
    if not _both_classes(labels):
        return NAN
    sens, spec = _roc_points(labels, scores)
    return float(spec[sens >= target - 1e-12].max())


def precision(y_true: np.ndarray, y_score: np.ndarray, threshold: float = 0.5) -> float:
    """Positive predictive value tp / (tp + fp); 0 when nothing is called positive."""
    labels, _ = _labels_scores(y_true, y_score)
    if not _both_classes(labels):
        return NAN
    tp, fp, _, _ = _confusion(y_true, y_score, threshold)
    return tp / (tp + fp) if tp + fp else 0.0


def f1(y_true: np.ndarray, y_score: np.ndarray, threshold: float = 0.5) -> float:
    """Harmonic mean of precision and sensitivity: 2tp / (2tp + fp + fn)."""
    labels, _ = _labels_scores(y_true, y_score)
    if not _both_classes(labels):
        return NAN
    tp, fp, _, fn = _confusion(y_true, y_score, threshold)
    return 2 * tp / (2 * tp + fp + fn)


def micro_f1(
    y_true: np.ndarray, y_pred: np.ndarray, positive_classes: list[int] | np.ndarray
) -> dict[str, float]:
    """Micro-averaged precision, recall and F1 over `positive_classes` for class-id predictions.

    The negative ("no relation") class is left out of `positive_classes`, so predicting it is
    never counted as a hit; this is the usual relation-extraction score.
    """
    truth = np.asarray(y_true).ravel()
    pred = np.asarray(y_pred).ravel()
    if truth.shape != pred.shape:
        raise ValueError(f"y_true has {truth.size} entries but y_pred has {pred.size}")
    classes = np.asarray(positive_classes)
    true_pos = np.isin(truth, classes)
    pred_pos = np.isin(pred, classes)
    hits = int(np.sum(true_pos & (pred == truth)))
    prec = hits / int(pred_pos.sum()) if pred_pos.any() else 0.0
    rec = hits / int(true_pos.sum()) if true_pos.any() else 0.0
    score = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"precision": prec, "recall": rec, "f1": score}


def calls_with_negative_weight(probabilities: np.ndarray, weight: float) -> np.ndarray:
    """Class calls [N] from probabilities [N, C] with class 0's probability times `weight`."""
    scaled = np.array(probabilities, dtype=np.float64)
    scaled[:, 0] *= weight
    return np.argmax(scaled, axis=1)


def negative_weight_for_micro_f1(
    y_true: np.ndarray, probabilities: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """The weight on the negative class (class 0) whose calls give the best micro F1 over the
    positive classes; tuned on validation, it trades precision for recall where a model calls
    "no relation" too often. Ties go to the largest weight (1 is the plain argmax)."""
    weights = np.linspace(0.05, 1.0, 20) if weights is None else np.asarray(weights)
    positive = np.arange(1, np.shape(probabilities)[1])
    scores = [
        micro_f1(y_true, calls_with_negative_weight(probabilities, w), positive)["f1"]
        for w in weights
    ]
    best = np.flatnonzero(np.isclose(scores, np.max(scores), rtol=0, atol=1e-12))
    return float(np.max(weights[best]))


def _micro_over_positive_classes(y_true: np.ndarray, y_score: np.ndarray) -> dict[str, float]:
    """`micro_f1` for class scores [N, C]: argmax calls, class 0 the negative class."""
    scores = np.asarray(y_score)
    if scores.ndim != 2 or scores.shape[1] < 2:
        raise ValueError(f"micro metrics need class scores of shape [N, C]; got {scores.shape}")
    if scores.shape[0] == 0:
        return {"precision": NAN, "recall": NAN, "f1": NAN}
    return micro_f1(y_true, np.argmax(scores, axis=1), np.arange(1, scores.shape[1]))


def micro_precision(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Micro-averaged precision over the positive classes 1..C-1 of multi-class scores."""
    return _micro_over_positive_classes(y_true, y_score)["precision"]


def micro_recall(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Micro-averaged recall over the positive classes 1..C-1 of multi-class scores."""
    return _micro_over_positive_classes(y_true, y_score)["recall"]


def micro_f1_score(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Micro-averaged F1 over the positive classes 1..C-1 (relation extraction's score)."""
    return _micro_over_positive_classes(y_true, y_score)["f1"]


def significant_sign_auroc(
    effect: np.ndarray, score: np.ndarray, p_value: np.ndarray, threshold: float = 1e-5
) -> float:
    """AUROC of `score` for telling significant (p < threshold) activating (effect > 0) from
    repressing (effect < 0) variants; the CAGI5/MPRA view of a variant-effect predictor.

    Not in METRICS: it needs each variant's p-value besides the effect and the score.
    """
    effect = np.asarray(effect, np.float64).ravel()
    keep = (np.asarray(p_value, np.float64).ravel() < threshold) & (effect != 0)
    return auroc((effect[keep] > 0).astype(np.int64), np.asarray(score).ravel()[keep])
