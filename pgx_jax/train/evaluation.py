"""Evaluation of a split: its predictions (`pgx_jax.inference.predict`), their metrics, decision
thresholds tuned on validation, and the test predictions a run saves."""

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from pgx_jax import inference
from pgx_jax import metrics as metrics_lib
from pgx_jax.data import pipeline
from pgx_jax.data.sources import RecordSource, take
from pgx_jax.errors import PgxError
from pgx_jax.files import atomic_open
from pgx_jax.inference import Predictions
from pgx_jax.train.checks import names

PREDICTIONS_FILE = "test_predictions.npz"
"""The test split's predictions of the evaluated state, written beside `results.json`."""


def split_predictions(
    eval_fn: Callable,
    state,
    source: RecordSource,
    encode: Callable[[dict], dict],
    batch_size: int,
    mesh,
    stacked: bool = False,
) -> Predictions:
    """Predictions of every record of `source`, with a leading member axis (of 1 for a state
    that is not `stacked`)."""
    batches = pipeline.eval_batches(source, encode, batch_size)
    found = inference.predict(eval_fn, state, batches, batch_size, mesh, stacked)
    if stacked:
        return found
    return dataclasses.replace(
        found,
        predictions=found.predictions[None],
        outputs=found.outputs[None],
        losses=found.losses[None],
    )


def member(predictions: Predictions, m: int) -> Predictions:
    """Member `m`'s predictions of a split's `split_predictions`."""
    return dataclasses.replace(
        predictions,
        predictions=predictions.predictions[m],
        outputs=predictions.outputs[m],
        losses=predictions.losses[m],
    )


def threshold_rule(name: str) -> metrics_lib.MetricFn:
    """`config.eval.tune_threshold` ("mcc", "balanced") as its threshold function."""
    if name not in metrics_lib.THRESHOLD_RULES:
        known = ", ".join(repr(rule) for rule in metrics_lib.THRESHOLD_RULES)
        raise PgxError(f"config.eval.tune_threshold={name!r}: expected '' (off) or one of {known}")
    return metrics_lib.THRESHOLD_RULES[name]


def tuned_thresholds(validation: Predictions, rule: str) -> list[float]:
    """Per member, the binary decision threshold `rule` picks on the validation predictions:
    the best MCC, or equal sensitivity and specificity."""
    choose = threshold_rule(rule)
    return [choose(validation.labels, scores) for scores in validation.predictions]


def metric_values(
    predictions: Predictions,
    names_: Sequence[str],
    prefix: str,
    thresholds: Sequence[float] | None = None,
) -> list[dict[str, float]]:
    """Per member, the metrics `names_` and the mean loss, named `<prefix>/<metric>`. With
    `thresholds` (one per member) the binary call metrics are also given at that threshold as
    `<prefix>/tuned_<metric>`, beside `<prefix>/threshold`."""
    labels, weights = predictions.labels, predictions.weights
    mask = (weights > 0) if weights.ndim == 2 else None
    tuned_names = [name for name in names_ if name in metrics_lib.THRESHOLD_METRICS]
    losses = predictions.mean_loss()
    results = []
    for m, scores in enumerate(predictions.predictions):
        values = metrics_lib.compute_metrics(names_, labels, scores, mask)
        if thresholds is not None:
            tuned = metrics_lib.compute_metrics(
                tuned_names, labels, scores, mask, threshold=thresholds[m]
            )
            values.update({f"tuned_{k}": v for k, v in tuned.items()})
            values["threshold"] = thresholds[m]
        values["loss"] = float(losses[m])
        results.append({f"{prefix}/{k}": float(v) for k, v in values.items()})
    return results


def save_predictions(path: str, source: RecordSource, task: str, predictions: Predictions) -> None:
    """Write npz arrays task, labels, predictions, weights and, if records have them, ids."""
    arrays = {
        "task": task,
        "labels": predictions.labels,
        "predictions": predictions.predictions,
        "weights": predictions.weights,
    }
    if len(source) and "id" in source[0]:
        arrays["ids"] = np.array(names(take(source, np.arange(len(source)))["id"]))
    with atomic_open(path, "wb") as f:
        np.savez(f, **arrays)
