"""Optimiser from `config.optimizer`: optax transform, schedule, weight decay and clipping."""

import ml_collections
import optax

from pgx_jax.errors import PgxError


def learning_rate_schedule(cfg: ml_collections.ConfigDict, total_steps: int) -> optax.Schedule:
    """`constant`, `cosine` (to zero), `warmup_cosine` or `exponential` (rate per `decay_steps`)."""
    lr = cfg.learning_rate
    warmup = cfg.get("warmup_steps", 0)
    name = cfg.get("schedule", "constant")
    if name == "constant":
        if warmup:
            return optax.linear_schedule(0.0, lr, warmup)
        return optax.constant_schedule(lr)
    if name in ("cosine", "warmup_cosine"):
        return optax.warmup_cosine_decay_schedule(
            0.0 if warmup else lr, lr, warmup, max(total_steps, warmup + 1)
        )
    if name == "exponential":
        decay = optax.exponential_decay(
            lr, cfg.get("decay_steps", 1000), cfg.get("decay_rate", 0.5)
        )
        if warmup:
            return optax.join_schedules([optax.linear_schedule(0.0, lr, warmup), decay], [warmup])
        return decay
    raise PgxError(f"config.optimizer.schedule: unknown schedule {name!r}")


def make_optimizer(
    cfg: ml_collections.ConfigDict, total_steps: int
) -> optax.GradientTransformation:
    """Gradient clipping (if `grad_clip_norm` > 0), then the optimiser with its schedule."""
    schedule = learning_rate_schedule(cfg, total_steps)
    name = cfg.get("name", "adam")
    weight_decay = cfg.get("weight_decay", 0.0)
    if name == "adam":
        tx = optax.adam(schedule, b1=cfg.get("b1", 0.9), b2=cfg.get("b2", 0.999))
        if weight_decay:
            tx = optax.chain(optax.add_decayed_weights(weight_decay), tx)
    elif name == "adamw":
        tx = optax.adamw(
            schedule, b1=cfg.get("b1", 0.9), b2=cfg.get("b2", 0.999), weight_decay=weight_decay
        )
    elif name == "sgd":
        tx = optax.sgd(
            schedule, momentum=cfg.get("momentum", 0.9) or None, nesterov=cfg.get("nesterov", False)
        )
        if weight_decay:
            tx = optax.chain(optax.add_decayed_weights(weight_decay), tx)
    elif name == "rmsprop":
        tx = optax.rmsprop(schedule)
        if weight_decay:
            tx = optax.chain(optax.add_decayed_weights(weight_decay), tx)
    else:
        raise PgxError(f"config.optimizer.name: unknown optimizer {name!r}")
    clip = cfg.get("grad_clip_norm", 0.0)
    return optax.chain(optax.clip_by_global_norm(clip), tx) if clip else tx
