"""Losses and output link functions of the task kinds: binary, multilabel, multiclass,
regression, and for coverage tracks "counts" (Poisson, outputs log rates [B, T]) and
"profile" (BPNet: outputs [B, P + 1, T], the profile logits and the log count; labels the
base-resolution coverage [B, P, T]).

Every loss is a weighted mean: `weight` is 0 for padding rows (and, in multi-label tasks, for
missing labels), so padded evaluation batches and masked tasks contribute nothing.
"""

from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np
import optax

from pgx_jax.errors import PgxError


def per_example_loss(
    task: str, outputs: jax.Array, labels: jax.Array, focal: tuple[float, float] | None = None
) -> jax.Array:
    """Unreduced loss, the same shape as `weight` ([B], or [B, T] for multi-label), or with a
    member axis for an ensemble ([B, M]: labels [B] broadcast over it). `focal` (gamma, alpha)
    replaces a binary or multiclass task's cross-entropy by the focal loss."""
    if focal is not None:
        return focal_loss(task, outputs, labels, *focal)
    if task == "binary":
        labels = labels.reshape(labels.shape + (1,) * (outputs.ndim - labels.ndim))
        return optax.sigmoid_binary_cross_entropy(outputs, labels.astype(outputs.dtype))
    if task == "multilabel":
        return optax.sigmoid_binary_cross_entropy(outputs, labels.astype(outputs.dtype))
    if task == "multiclass":
        labels = labels.reshape(labels.shape + (1,) * (outputs.ndim - 1 - labels.ndim))
        return optax.softmax_cross_entropy_with_integer_labels(outputs, labels.astype(jnp.int32))
    if task == "regression":
        return jnp.square(outputs - labels.astype(outputs.dtype))
    if task == "counts":
        labels = labels.astype(outputs.dtype)
        return jnp.exp(outputs) - labels * outputs + jax.scipy.special.gammaln(labels + 1)
    if task == "profile":
        return profile_loss(outputs, labels.astype(outputs.dtype))
    raise ValueError(f"unknown task {task!r}")


def focal_loss(
    task: str, outputs: jax.Array, labels: jax.Array, gamma: float, alpha: float
) -> jax.Array:
    """Focal loss (Lin et al. 2017), -alpha_t (1 - p_t)^gamma log p_t, p_t the probability of
    the true class: confident right answers weigh less, so rare and hard examples weigh more
    (RHCNN's loss for DDI-2013's imbalanced classes). alpha_t is `alpha` for the positive
    class (multiclass: every class but 0, the negative one) and 1 - alpha for the negative;
    a negative `alpha` weights no class (torchvision's convention). Binary is optax's."""
    alpha_or_none = alpha if alpha >= 0 else None
    if task == "binary":
        labels = labels.reshape(labels.shape + (1,) * (outputs.ndim - labels.ndim))
        labels = labels.astype(outputs.dtype)
        return optax.sigmoid_focal_loss(outputs, labels, alpha=alpha_or_none, gamma=gamma)
    if task != "multiclass":
        raise ValueError(f"the focal loss needs a binary or multiclass task, not {task!r}")
    labels = labels.reshape(labels.shape + (1,) * (outputs.ndim - 1 - labels.ndim))
    labels = labels.astype(jnp.int32)
    log_p = jnp.take_along_axis(jax.nn.log_softmax(outputs, axis=-1), labels[..., None], -1)[..., 0]
    loss = -((1 - jnp.exp(log_p)) ** gamma) * log_p
    if alpha_or_none is None:
        return loss
    return jnp.where(labels > 0, alpha, 1 - alpha) * loss


def focal_parameters(train: Mapping, task: str) -> tuple[float, float] | None:
    """(gamma, alpha) of `config.train.focal_gamma` / `focal_alpha`, or None (cross-entropy)
    where gamma is 0."""
    gamma = float(train.get("focal_gamma", 0.0))
    if gamma == 0:
        return None
    if gamma < 0 or task not in ("binary", "multiclass"):
        raise PgxError(
            f"config.train.focal_gamma={gamma}: needs a number > 0 and a binary or multiclass "
            f"task, not {task!r}"
        )
    return gamma, float(train.get("focal_alpha", -1.0))


def profile_loss(outputs: jax.Array, coverage: jax.Array) -> jax.Array:
    """BPNet's loss per window and task [B, T]: the multinomial negative log likelihood of
    the coverage under the softmax of the profile logits (over positions), plus a weight
    times the squared error of the predicted log(1 + total count).

    The weight follows ChromBPNet's rule, the median total count / 10 (at least 1, bpnet-lite's
    default), taken over the batch for each task rather than over the training set: the
    multinomial grows with the counts, and with a fixed weight of 1 the count head of a
    small BPNet did not learn (test count Pearson -0.05 after 300 steps, generated genome)."""
    logits, log_count = outputs[:, :-1], outputs[:, -1]
    log_p = jax.nn.log_softmax(logits, axis=1)
    total = jnp.sum(coverage, axis=1)
    gammaln = jax.scipy.special.gammaln
    multinomial = (
        -gammaln(total + 1) + jnp.sum(gammaln(coverage + 1), axis=1)
        - jnp.sum(coverage * log_p, axis=1)
    )  # fmt: skip
    weight = jax.lax.stop_gradient(jnp.maximum(jnp.median(total, axis=0) / 10, 1.0))
    return multinomial + weight * jnp.square(jnp.log1p(total) - log_count)


def weighted_loss(
    task: str,
    outputs: jax.Array,
    labels: jax.Array,
    weight: jax.Array,
    focal: tuple[float, float] | None = None,
) -> jax.Array:
    """Mean loss over entries with non-zero weight (the focal loss with `focal`).

    Labels under weight 0 (missing multi-label entries, padding) are zeroed before the loss,
    so a NaN placeholder there changes neither the loss nor its gradient.
    """
    label_weight = weight.reshape(weight.shape + (1,) * (labels.ndim - weight.ndim))
    if weight.ndim == 2 and labels.ndim == 3:  # weight [B, T] over profiles [B, P, T]
        label_weight = weight[:, None, :]
    labels = jnp.where(label_weight > 0, labels, jnp.zeros_like(labels))
    losses = per_example_loss(task, outputs, labels, focal)
    weight = jnp.broadcast_to(
        weight.reshape(weight.shape + (1,) * (losses.ndim - weight.ndim)), losses.shape
    ).astype(losses.dtype)
    return jnp.sum(jnp.where(weight > 0, losses * weight, 0.0)) / jnp.maximum(jnp.sum(weight), 1.0)


def class_weights(spec: str, task: str, read_labels: Callable[[], np.ndarray]) -> tuple[float, ...]:
    """`config.train.class_weight` as one loss weight per class.

    "balanced": n / (classes * count of the class) over the training labels (`read_labels()`),
    as scikit-learn's "balanced", so every class carries the same total weight;
    "balanced:A": those weights to the power A, part of the way there (A = 0.5 halves the
    log-odds shift that full balancing makes); "w0,w1,...": the weights of classes 0, 1, ...
    as given.
    """
    where = f"config.train.class_weight={spec!r}"
    if task not in ("binary", "multiclass"):
        raise PgxError(f"{where}: class weights need a binary or multiclass task, not {task!r}")
    labels = np.asarray(read_labels()).reshape(-1).astype(np.int64)
    if spec.split(":")[0] == "balanced":
        power = _balance_power(spec, where)
        counts = np.bincount(labels, minlength=2)
        if not counts.all():
            raise PgxError(f"{where}: class {int(np.argmin(counts))} has no training example")
        return tuple(float(w) ** power for w in len(labels) / (len(counts) * counts))
    try:
        weights = tuple(float(w) for w in spec.split(","))
    except ValueError:
        expected = "expected 'balanced', 'balanced:A' or comma-separated numbers"
        raise PgxError(f"{where}: {expected}") from None
    if len(weights) <= labels.max(initial=1) or min(weights) < 0:
        raise PgxError(
            f"{where}: {len(weights)} weights for classes 0..{max(int(labels.max()), 1)}; "
            "give one non-negative weight per class"
        )
    return weights


def _balance_power(spec: str, where: str) -> float:
    """A of "balanced:A" (1 for "balanced")."""
    _, _, power = spec.partition(":")
    if not power:
        return 1.0
    try:
        value = float(power)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise PgxError(f"{where}: the power after 'balanced:' must be a number >= 0")
    return value


def with_class_weights(
    weight: jax.Array, labels: jax.Array, class_weight: tuple[float, ...] | None
) -> jax.Array:
    """Example weights times the weight of each example's class (labels [B] or [B, 1])."""
    if class_weight is None:
        return weight
    classes = labels.astype(jnp.int32).reshape(weight.shape)
    return weight * jnp.asarray(class_weight, weight.dtype)[classes]


def link(task: str, outputs: jax.Array) -> jax.Array:
    """Model outputs to predictions: probabilities for classification, values for regression."""
    if task in ("binary", "multilabel"):
        return jax.nn.sigmoid(outputs)
    if task == "multiclass":
        return jax.nn.softmax(outputs, axis=-1)
    if task == "counts":
        return jnp.exp(outputs)
    if task == "profile":  # the expected coverage: the profile's shares of the total count
        return jax.nn.softmax(outputs[:, :-1], axis=1) * jnp.expm1(outputs[:, -1:])
    return outputs
