"""Optimiser from `config.optimizer`: optax transform, schedule, weight decay and clipping.

Fine-tuning: `config.optimizer.freeze` (regexes over parameter paths such as
`motif_conv/kernel`) keeps the matching parameters fixed; `config.train.init_from` (another
run's directory) copies that run's parameters into a new state, all of them or, with
`config.train.init_head=False` or `config.train.init_skip` (regexes), all but some.
"""

import re
from collections.abc import Sequence

import jax
import ml_collections
import numpy as np
import optax

from pgx_jax.errors import PgxError
from pgx_jax.train.state import AveragedTrainState

HEAD_PATTERN = r"(^|/)head(/|$)"
"""Parameter paths of the output head (`OutputHead` named `head`), skipped by `init_head=False`."""


def learning_rate_schedule(cfg: ml_collections.ConfigDict, total_steps: int) -> optax.Schedule:
    """`constant`, `cosine` (to zero), `warmup_cosine` or `exponential` (rate per `decay_steps`)."""
    lr = cfg.learning_rate
    if not isinstance(lr, int | float) or not np.isfinite(lr) or lr <= 0:
        raise PgxError(f"config.optimizer.learning_rate: {lr!r}; must be a positive number")
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


POPULATION_FIELDS = ("learning_rate", "weight_decay")
"""Optimizer fields the members of a population (`loop.fit_members`) may each set: numbers that
keep the transform's structure, so each member's state is that of its own run."""


def make_optimizer(
    cfg: ml_collections.ConfigDict, total_steps: int, values: dict | None = None
) -> optax.GradientTransformation:
    """Gradient clipping (if `grad_clip_norm` > 0), then the optimiser with its schedule.

    `values` (a population member's `learning_rate` and `weight_decay`, traced arrays) replace
    the config's numbers in a transform of the same structure: the schedule is scaled to the
    member's rate, and weight decay is applied where the config's is non-zero.
    """
    schedule = learning_rate_schedule(cfg, total_steps)
    name = cfg.get("name", "adam")
    weight_decay = cfg.get("weight_decay", 0.0)
    decay = bool(weight_decay)  # the structure: a decay step or none
    if values is not None:
        unit = learning_rate_schedule(_with_rate(cfg, 1.0), total_steps)
        rate = values["learning_rate"]

        def schedule(count):
            return rate * unit(count)

        weight_decay = values["weight_decay"] if decay else 0.0
    if name == "adam":
        tx = optax.adam(schedule, b1=cfg.get("b1", 0.9), b2=cfg.get("b2", 0.999))
        if decay:
            tx = optax.chain(optax.add_decayed_weights(weight_decay), tx)
    elif name == "adamw":
        tx = optax.adamw(
            schedule, b1=cfg.get("b1", 0.9), b2=cfg.get("b2", 0.999), weight_decay=weight_decay
        )
    elif name == "sgd":
        tx = optax.sgd(
            schedule, momentum=cfg.get("momentum", 0.9) or None, nesterov=cfg.get("nesterov", False)
        )
        if decay:
            tx = optax.chain(optax.add_decayed_weights(weight_decay), tx)
    elif name == "rmsprop":
        tx = optax.rmsprop(schedule)
        if decay:
            tx = optax.chain(optax.add_decayed_weights(weight_decay), tx)
    else:
        raise PgxError(f"config.optimizer.name: unknown optimizer {name!r}")
    clip = cfg.get("grad_clip_norm", 0.0)
    if clip:
        tx = optax.chain(optax.clip_by_global_norm(clip), tx)
    freeze = tuple(cfg.get("freeze", ()) or ())
    if freeze:
        tx = optax.multi_transform(
            {"train": tx, "frozen": optax.set_to_zero()},
            lambda params: _freeze_labels(params, freeze),
        )
    return tx


def _with_rate(cfg: ml_collections.ConfigDict, rate: float) -> ml_collections.ConfigDict:
    cfg = ml_collections.ConfigDict(cfg.to_dict())
    cfg.learning_rate = rate
    return cfg


def param_path(path: tuple) -> str:
    """A tree path as 'module/submodule/name'."""
    return "/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in path)


def _matches(path: str, patterns: Sequence[str]) -> bool:
    return any(re.search(p, path) for p in patterns)


def _freeze_labels(params, patterns: Sequence[str]):
    """'frozen' for parameters whose path matches a pattern, else 'train'."""
    paths = [param_path(p) for p, _ in jax.tree_util.tree_flatten_with_path(params)[0]]
    for pattern in patterns:
        if not any(re.search(pattern, p) for p in paths):
            raise PgxError(
                f"config.optimizer.freeze: {pattern!r} matches no parameter; "
                f"parameters: {', '.join(paths)}"
            )
    return jax.tree_util.tree_map_with_path(
        lambda p, _: "frozen" if _matches(param_path(p), patterns) else "train", params
    )


def init_from(state, tcfg: ml_collections.ConfigDict):
    """`state` with parameters (and batch statistics) copied from run `tcfg.init_from`.

    Returns `state` unchanged when `init_from` is empty. Paths matching `tcfg.init_skip`, or
    the head when `tcfg.init_head` is False, keep their fresh initialisation; every other
    parameter must exist in the source run with the same shape. From a run that kept a moving
    average of its parameters, the average is copied (what that run was evaluated with); into
    such a state, the copy also starts the average.
    """
    source = tcfg.get("init_from", "")
    if not source:
        return state
    from pgx_jax.checkpoint import checkpoint_kind, load_state_tree, saved_eval_params

    _, tree = load_state_tree(source, checkpoint_kind(source))
    skip = tuple(tcfg.get("init_skip", ()) or ())
    if not tcfg.get("init_head", True):
        skip += (HEAD_PATTERN,)

    def copy(collection: str, ours):
        saved = saved_eval_params(tree) if collection == "params" else tree.get(collection)
        theirs = {param_path(p): v for p, v in jax.tree_util.tree_flatten_with_path(saved or {})[0]}

        def pick(path, value):
            name = param_path(path)
            if _matches(name, skip):
                return value
            if name not in theirs or np.shape(theirs[name]) != value.shape:
                found = np.shape(theirs[name]) if name in theirs else "missing"
                raise PgxError(
                    f"config.train.init_from: {collection}/{name} {value.shape} is {found} in "
                    f"{source}; skip it with config.train.init_skip (or init_head=False)"
                )
            return jax.device_put(np.asarray(theirs[name], value.dtype), value.sharding)

        return jax.tree_util.tree_map_with_path(pick, ours)

    params = copy("params", state.params)
    if isinstance(state, AveragedTrainState):
        state = state.replace(ema_params=params)
    return state.replace(
        params=params,
        batch_stats=copy("batch_stats", state.batch_stats)
        if state.batch_stats
        else state.batch_stats,
    )
