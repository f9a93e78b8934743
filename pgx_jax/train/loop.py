"""`fit`: the one training loop every domain shares.

It builds the mesh and the jitted steps, restores the latest checkpoint if the workdir has
one, trains with periodic validation, early stopping and checkpointing, then evaluates the
best (or final) state on the test split and writes `results.json`. `fit_members` runs the same
loop for runs that differ only in seed as one vmapped program (a leading member axis).
"""

import dataclasses
import functools
import json
import os
import signal
import time
from collections.abc import Iterator, Sequence

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from jax.experimental import multihost_utils
from tqdm import tqdm

from pgx_jax import metrics as metrics_lib
from pgx_jax import parallel
from pgx_jax.checkpoint import Checkpoints
from pgx_jax.data import pipeline
from pgx_jax.data.sources import take
from pgx_jax.errors import PgxError
from pgx_jax.experiment import Experiment, RecordSource
from pgx_jax.train import losses, steps
from pgx_jax.train.optim import init_from, make_optimizer
from pgx_jax.train.state import TrainState, create_train_state
from pgx_jax.train.writers import MetricWriter

PREDICTIONS_FILE = "test_predictions.npz"
"""The test split's predictions of the evaluated state, written beside `results.json`."""


class Preempted(Exception):
    """Raised after SIGTERM/SIGINT once the latest checkpoint is safely written."""


class _StopSignal:
    """Turns SIGTERM and SIGINT into a flag the loop checks between steps.

    Under several processes the flag of one process must stop all of them at the same step, so
    they compare flags (one small all-gather) at every logging step instead of after each step.
    """

    def __init__(self):
        self.received: int | None = None
        self._previous = {}

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def reason(self) -> str:
        if self.received is None:
            return "a stop signal (SIGTERM or SIGINT) to another process"
        return f"signal {self.received}"

    def _handle(self, signum, frame):
        self.received = signum

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            # None: a handler installed outside Python (JAX's preemption notifier), which
            # Python cannot reinstate.
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)


def _broadcast(weight: np.ndarray, shape: tuple) -> np.ndarray:
    return np.broadcast_to(weight.reshape(weight.shape + (1,) * (len(shape) - weight.ndim)), shape)


def _predict(eval_fn, state: TrainState, experiment: Experiment, source, batch_size, mesh, stacked):
    """Labels, predictions [M, N, ...] (M members, or 1), weights, and the members' summed
    losses and the summed weight over every record of `source`."""
    predictions, labels, weights = [], [], []
    loss_sums = weight_sum = 0.0
    for local in pipeline.eval_batches(source, experiment.encode, batch_size):
        batch = parallel.to_global(local, mesh)
        out = parallel.to_host(eval_fn(state, batch))
        if not stacked:
            out = jax.tree.map(lambda x: x[None], out)
        label, weight = parallel.to_host((batch["label"], batch["weight"]))
        loss_weight = _broadcast(weight, out["loss"].shape[1:])
        member_losses = np.where(loss_weight > 0, out["loss"] * loss_weight, 0.0)
        loss_sums = loss_sums + member_losses.reshape(len(out["loss"]), -1).sum(axis=1).astype(
            float
        )
        weight_sum += float(np.sum(loss_weight))
        keep = (weight if weight.ndim == 1 else weight.max(axis=1)) > 0
        predictions.append(out["prediction"][:, keep])
        labels.append(label[keep])
        weights.append(weight[keep])
    y_scores = np.concatenate(predictions, axis=1)
    return np.concatenate(labels), y_scores, np.concatenate(weights), loss_sums, weight_sum


def threshold_rule(name: str) -> metrics_lib.MetricFn:
    """`config.eval.tune_threshold` ("mcc", "balanced") as its threshold function."""
    if name not in metrics_lib.THRESHOLD_RULES:
        known = ", ".join(repr(rule) for rule in metrics_lib.THRESHOLD_RULES)
        raise PgxError(f"config.eval.tune_threshold={name!r}: expected '' (off) or one of {known}")
    return metrics_lib.THRESHOLD_RULES[name]


def tuned_thresholds(
    eval_fn,
    state: TrainState,
    experiment: Experiment,
    source,
    batch_size: int,
    mesh,
    stacked,
    rule: str = "mcc",
) -> list[float]:
    """Per member, the binary decision threshold that `rule` picks on `source` (validation):
    the best MCC, or equal sensitivity and specificity."""
    choose = threshold_rule(rule)
    y_true, y_scores, *_ = _predict(eval_fn, state, experiment, source, batch_size, mesh, stacked)
    return [choose(y_true, y_score) for y_score in y_scores]


def evaluate(
    eval_fn,
    state: TrainState,
    experiment: Experiment,
    source: RecordSource,
    batch_size: int,
    mesh,
    prefix: str,
    save_to: Sequence[str | None] = (),
    stacked: bool = False,
    thresholds: Sequence[float] | None = None,
) -> list[dict[str, float]]:
    """Metrics of `state` on every record of `source`, named `<prefix>/<metric>`: one dict per
    member of a `stacked` state (leading member axis), or a list of one.

    With `save_to` (one path per member), process 0 also writes each member's predictions
    there (`_save_predictions`). With `thresholds` (one per member), the binary call metrics
    are also given at that threshold as `<prefix>/tuned_<metric>`, beside `<prefix>/threshold`.
    """
    y_true, y_scores, w, loss_sums, weight_sum = _predict(
        eval_fn, state, experiment, source, batch_size, mesh, stacked
    )
    mask = (w > 0) if w.ndim == 2 else None
    tuned_names = [name for name in experiment.metrics if name in metrics_lib.THRESHOLD_METRICS]
    results = []
    for member, y_score in enumerate(y_scores):
        values = metrics_lib.compute_metrics(experiment.metrics, y_true, y_score, mask)
        if thresholds is not None:
            tuned = metrics_lib.compute_metrics(
                tuned_names, y_true, y_score, mask, threshold=thresholds[member]
            )
            values.update({f"tuned_{k}": v for k, v in tuned.items()})
            values["threshold"] = thresholds[member]
        values["loss"] = float(loss_sums[member]) / max(weight_sum, 1.0)
        if save_to and save_to[member] and jax.process_index() == 0:
            _save_predictions(save_to[member], source, experiment.task, y_true, y_score, w)
        results.append({f"{prefix}/{k}": float(v) for k, v in values.items()})
    return results


def _save_predictions(path: str, source, task: str, labels, predictions, weights) -> None:
    """Write npz arrays task, labels, predictions, weights and, if records have them, ids."""
    arrays = {"task": task, "labels": labels, "predictions": predictions, "weights": weights}
    if len(source) and "id" in source[0]:
        arrays["ids"] = np.array(_names(take(source, np.arange(len(source)))["id"]))
    with open(f"{path}.tmp", "wb") as f:
        np.savez(f, **arrays)
    os.replace(f"{path}.tmp", path)


def _names(ids: np.ndarray) -> list[str]:
    return [i.decode() if isinstance(i, bytes) else str(i) for i in np.asarray(ids).tolist()]


def _check_labels(batch: dict, ids: np.ndarray | None, task: str, step: int) -> None:
    """Raise PgxError naming the records of a training batch whose label cannot be learnt.

    NaN or infinite labels (unless weighted 0, as missing multi-label entries are) and, for
    binary and multi-label tasks, labels outside [0, 1]. Single-process runs only; under several
    processes a NaN label shows as a non-finite loss, which every process sees.
    """
    label = np.asarray(batch["label"])
    if not np.issubdtype(label.dtype, np.number):
        return
    weighted = _broadcast(np.asarray(batch["weight"]), label.shape) > 0
    bad = weighted & ~np.isfinite(label)
    problem = "not finite"
    if not bad.any() and task in ("binary", "multilabel"):
        bad, problem = weighted & ((label < 0) | (label > 1)), f"outside [0, 1] for a {task} task"
    if not bad.any():
        return
    rows = np.flatnonzero(bad.reshape(len(label), -1).any(axis=1))
    names = [_names(ids)[r] for r in rows] if ids is not None else [f"row {r}" for r in rows]
    raise PgxError(
        f"training batch of step {step}: label {label[rows[0]].tolist()!r} of record "
        f"{names[0]!r} is "
        f"{problem} ({len(rows)} such record(s): {_shorten(names)})"
    )


def _shorten(names: list[str], keep: int = 5) -> str:
    more = f", ... ({len(names) - keep} more)" if len(names) > keep else ""
    return ", ".join(names[:keep]) + more


def _write_atomically(path: str, text: str) -> None:
    """Write `path` through a temporary file and a rename, so a kill never leaves half a file."""
    with open(f"{path}.tmp", "w") as f:
        f.write(text)
    os.replace(f"{path}.tmp", path)


def _improved(value: float, best: float | None, mode: str) -> bool:
    if best is None or np.isnan(best):
        return not np.isnan(value)
    return value > best if mode == "max" else value < best


def _with_compute_dtype(experiment: Experiment, dtype: str | None) -> Experiment:
    """Mixed precision: the model computes in `dtype` (e.g. bfloat16); parameters, the loss
    and the optimiser stay float32 (every module keeps float32 `param_dtype`, and the output
    head casts its result to float32)."""
    if not dtype or dtype == "float32":
        return experiment
    if "dtype" not in experiment.model.__dataclass_fields__:
        name = type(experiment.model).__name__
        raise PgxError(f"config.train.compute_dtype: model {name} has no dtype field")
    return dataclasses.replace(experiment, model=experiment.model.clone(dtype=jnp.dtype(dtype)))


class MembersOutOfStep(Exception):
    """Members of a vmapped group whose checkpoints hold different steps (a kill between their
    saves); each member workdir is a valid single run, so they resume one by one."""


@dataclasses.dataclass
class _Member:
    """One run of a training: its workdir and checkpoints, the loop's counters and its step
    (frozen once it stops early), its metric writer and its training batches."""

    config: ml_collections.ConfigDict
    experiment: Experiment
    workdir: str
    checkpoints: Checkpoints
    meta: dict
    step: int = 0
    writer: MetricWriter | None = None
    batches: Iterator[dict] | None = None


def check_same_config(config: ml_collections.ConfigDict, workdir: str) -> None:
    """PgxError naming the first field where `config` differs from the one `workdir` was run
    with, so a resumed or finished run never continues (or reports) under another config."""
    path = os.path.join(workdir, "config.json")
    if not os.path.exists(path):
        return
    with open(path) as f:
        saved = _flatten(json.load(f))
    wanted = _flatten(json.loads(config.to_json_best_effort()))
    for field in sorted(saved.keys() | wanted.keys()):
        if saved.get(field, "<absent>") != wanted.get(field, "<absent>"):
            raise PgxError(
                f"{workdir} was run with another config: {field} is "
                f"{saved.get(field, '<absent>')!r} there, {wanted.get(field, '<absent>')!r} "
                "here; use a new --workdir, or the run's own config.json"
            )


def _flatten(tree: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def fit(config: ml_collections.ConfigDict, experiment: Experiment, workdir: str) -> dict:
    """Train `experiment` as `config.train` says; returns (and writes) the final results."""
    return _fit([config], [experiment], [workdir], stacked=False)[0]


def fit_members(
    configs: Sequence[ml_collections.ConfigDict],
    experiments: Sequence[Experiment],
    workdirs: Sequence[str],
) -> list[dict]:
    """Train runs that differ only in `config.seed` as one vmapped program.

    The state is stacked on a leading member axis (initialised from each member's seed), every
    step updates all members, member k on the batch its own run would read at that step;
    members that stop early are frozen by a mask. Each member keeps its own workdir, with the
    files (and checkpoints) of a single run, so its results equal `fit` of its config to float
    tolerance. Data, model and training settings come from the first member. Raises
    MembersOutOfStep, before writing anything, when their checkpoints hold different steps.
    """
    if configs[0].train.get("init_from"):
        raise PgxError("config.train.init_from: runs started from another run train one by one")
    return _fit(list(configs), list(experiments), list(workdirs), stacked=True)


def _fit(
    configs: list[ml_collections.ConfigDict],
    experiments: list[Experiment],
    workdirs: list[str],
    stacked: bool,
) -> list[dict]:
    """The loop of `fit` (one run, `stacked` False) and `fit_members` (several, stacked)."""
    config = configs[0]
    experiments = [_with_compute_dtype(e, config.train.get("compute_dtype")) for e in experiments]
    experiment = experiments[0]
    mesh = parallel.make_mesh(config.get("mesh"))
    tcfg = config.train
    batch_size = config.data.batch_size
    parallel.local_batch_size(batch_size, mesh)
    train_source = experiment.splits["train"]
    epoch_steps = pipeline.steps_per_epoch(train_source, batch_size)
    total_steps = tcfg.get("num_steps") or tcfg.num_epochs * epoch_steps
    eval_every = tcfg.get("eval_every_steps") or epoch_steps
    log_every = tcfg.get("log_every_steps", 50)
    checkpoint_every = tcfg.get("checkpoint_every_steps") or eval_every

    example = next(pipeline.eval_batches(train_source, experiment.encode, batch_size))
    tx = make_optimizer(config.optimizer, total_steps)

    def init(inputs, seed):
        return create_train_state(experiment.model, tx, inputs, seed, tcfg.get("ema_decay", 0.0))

    member_sharding = parallel.state_shardings(
        jax.eval_shape(functools.partial(init, seed=config.seed), example["inputs"]),
        mesh,
        config.get("mesh", {}).get("rules", ()),
    )
    if stacked:
        state_sharding = parallel.stacked(member_sharding)
        state = jax.jit(jax.vmap(init, in_axes=(None, 0)), out_shardings=state_sharding)(
            example["inputs"], np.array([c.seed for c in configs], np.int32)
        )
        take_member = jax.jit(
            lambda state, m: jax.tree.map(lambda x: x[m], state), out_shardings=member_sharding
        )
        stack = jax.jit(
            lambda *states: jax.tree.map(lambda *xs: jnp.stack(xs), *states),
            out_shardings=state_sharding,
        )
    else:
        state_sharding = member_sharding
        state = jax.jit(functools.partial(init, seed=config.seed), out_shardings=state_sharding)(
            example["inputs"]
        )
        state = init_from(state, tcfg)

        def take_member(state, m):
            return state

        def stack(state):
            return state

    rule = config.get("eval", ml_collections.ConfigDict()).get("tune_threshold", "")
    if rule:
        threshold_rule(rule)  # a bad name fails before training
    class_weight = None
    if tcfg.get("class_weight"):
        class_weight = losses.class_weights(
            tcfg.class_weight, experiment.task, functools.partial(_labels, train_source)
        )
    train_fn, eval_fn = _jit_steps(experiment.task, state_sharding, mesh, stacked, class_weight)
    stopping = tcfg.get("early_stopping", ml_collections.ConfigDict())
    stop_metric, stop_mode = stopping.get("metric"), stopping.get("mode", "max")
    patience = stopping.get("patience", 0)
    members = [
        _Member(
            c,
            e,
            w,
            Checkpoints(os.path.join(w, "checkpoints")),
            {"best_value": None, "best_step": None, "bad_evals": 0, "stopped_early": False},
        )
        for c, e, w in zip(configs, experiments, workdirs, strict=True)
    ]
    states = [take_member(state, m) for m in range(len(members))]
    for m, member in enumerate(members):
        restored = member.checkpoints.restore("latest", states[m])
        if restored is not None:
            member.step, states[m], member.meta = restored
    try:
        start_step = _common_step(members)
    except MembersOutOfStep:
        for member in members:
            member.checkpoints.close()
        raise
    if any(member.step for member in members):
        state = stack(*states)
        for member in members:
            print(f"resuming from step {member.step} ({member.checkpoints.directory}/latest)")
    for member in members:
        os.makedirs(member.workdir, exist_ok=True)
        check_same_config(member.config, member.workdir)
        if jax.process_index() == 0:  # atomically: the other processes may be reading it
            _write_atomically(
                os.path.join(member.workdir, "config.json"),
                member.config.to_json_best_effort(indent=2, sort_keys=True),
            )
        member.writer = MetricWriter(member.workdir, member.step)
        member.batches = _train_batches(member.config, experiment, mesh, start_step)
    validation = experiment.splits.get("validation")

    def running() -> np.ndarray:
        return np.array([not member.meta["stopped_early"] for member in members])

    pending = []  # (step, metrics on device, record ids, running) of the steps since last check

    def check_finite() -> None:
        """Raise PgxError at the first pending step whose training loss is NaN or infinite."""
        losses = jax.device_get([metrics["loss"] for _, metrics, _, _ in pending])
        for (at, _, ids, active), loss in zip(pending, losses, strict=True):
            for m in np.flatnonzero(active):
                value = float(np.reshape(loss, -1)[m])
                if not np.isfinite(value):
                    member = members[m]
                    raise PgxError(
                        _nonfinite_message(value, at, ids[m], member.workdir, member.checkpoints)
                    )
        pending.clear()

    def save(m: int, kind: str) -> None:
        check_finite()
        member = members[m]
        member.checkpoints.save(kind, member.step, take_member(state, m), member.meta)

    step = start_step
    progress = tqdm(
        total=total_steps,
        initial=start_step,
        disable=jax.process_index() != 0,
        desc="train",
        unit="step",
        dynamic_ncols=True,
    )
    with _StopSignal() as stop_signal:
        started = time.perf_counter()
        while step < total_steps and running().any():
            active = running()
            local = [next(member.batches) for member in members]
            ids = [batch.pop("id", None) for batch in local]
            if jax.process_count() == 1:  # one process alone must not stop: the others hang
                for m in np.flatnonzero(active):
                    _check_labels(local[m], ids[m], experiment.task, step + 1)
            batch = jax.tree.map(lambda *xs: np.stack(xs), *local) if stacked else local[0]
            state, train_metrics = train_fn(
                state, parallel.to_global(batch, mesh, stacked), *([active] if stacked else [])
            )
            step += 1
            for m in np.flatnonzero(active):
                members[m].step = step
            pending.append((step, train_metrics, ids, active))
            progress.update(1)
            if step % log_every == 0 or step == total_steps:
                check_finite()
                rate = log_every / (time.perf_counter() - started)
                started = time.perf_counter()
                host_metrics = jax.device_get(train_metrics)
                for m in np.flatnonzero(active):
                    values = {
                        f"train/{k}": float(np.reshape(v, -1)[m]) for k, v in host_metrics.items()
                    }
                    values["train/steps_per_second"] = rate
                    members[m].writer.write(step, values)
                progress.set_postfix(
                    loss=f"{np.mean(np.reshape(host_metrics['loss'], -1)[active]):.4f}"
                )
            if validation is not None and (step % eval_every == 0 or step == total_steps):
                evaluated = evaluate(
                    eval_fn,
                    state,
                    experiment,
                    validation,
                    batch_size,
                    mesh,
                    "validation",
                    stacked=stacked,
                )
                for m in np.flatnonzero(active):
                    member, values = members[m], evaluated[m]
                    member.writer.write(step, values)
                    if stop_metric:
                        if stop_metric not in values:
                            raise PgxError(
                                f"config.train.early_stopping.metric: {stop_metric!r} is "
                                f"not computed; available: {sorted(values)}"
                            )
                        meta = member.meta
                        if _improved(values[stop_metric], meta["best_value"], stop_mode):
                            meta.update(best_value=values[stop_metric], best_step=step, bad_evals=0)
                            save(m, "best")
                        else:
                            meta["bad_evals"] += 1
                            meta["stopped_early"] = bool(patience) and meta["bad_evals"] >= patience
                    save(m, "latest")
            elif step % checkpoint_every == 0:
                for m in np.flatnonzero(active):
                    save(m, "latest")
            if _stop_requested(stop_signal, step, log_every):
                for m in np.flatnonzero(active):
                    save(m, "latest")
                progress.close()
                raise Preempted(
                    f"stopped by {stop_signal.reason()} at step {step}; "
                    "rerun the same command to resume"
                )
    progress.close()
    check_finite()
    for m in np.flatnonzero(running()):
        save(m, "latest")

    results = []
    for m, member in enumerate(members):
        member.writer.close()
        results.append({"train/steps": member.step})
        states[m] = take_member(state, m)
        if stop_metric and member.checkpoints.latest_step("best") is not None:
            _, states[m], _ = member.checkpoints.restore("best", states[m])
            results[m]["best_step"] = member.meta["best_step"]
        member.checkpoints.close()
    state = stack(*states)
    test = experiment.splits.get("test")
    if test is not None:
        predictions = [os.path.join(member.workdir, PREDICTIONS_FILE) for member in members]
        thresholds = None
        if rule and experiment.task == "binary" and validation is not None:
            thresholds = tuned_thresholds(
                eval_fn,
                state,
                experiment,
                validation,
                batch_size,
                mesh,
                stacked,
                rule,
            )
        evaluated = evaluate(
            eval_fn,
            state,
            experiment,
            test,
            batch_size,
            mesh,
            "test",
            predictions,
            stacked,
            thresholds,
        )
        for m in range(len(members)):
            results[m].update(evaluated[m])
    for m, member in enumerate(members):
        if member.experiment.after_fit is not None:
            results[m].update(
                member.experiment.after_fit(states[m], member.experiment, member.workdir)
            )
        if jax.process_index() == 0:
            path = os.path.join(member.workdir, "results.json")
            _write_atomically(path, json.dumps(results[m], indent=2, sort_keys=True))
    return results


def _labels(source: RecordSource) -> np.ndarray:
    """Every label of a split (`label` of each record)."""
    records = source.columns if hasattr(source, "columns") else take(source, np.arange(len(source)))
    if "label" not in records:
        raise PgxError("config.train.class_weight: the training records have no 'label' field")
    return np.asarray(records["label"])


def _jit_steps(
    task: str, state_sharding, mesh, stacked: bool, class_weight: tuple[float, ...] | None
):
    """The train and eval steps, jitted with shardings and donated state (their `members_`
    forms, whose train step also takes the mask of members still training, when `stacked`);
    the train step weights each example's loss by `class_weight` of its class."""
    replicated = parallel.replicated(mesh)
    if stacked:
        train_step, eval_step, active_sharding = (
            steps.members_train_step,
            steps.members_eval_step,
            (replicated,),
        )
    else:
        train_step, eval_step, active_sharding = steps.train_step, steps.eval_step, ()
    train_fn = jax.jit(
        functools.partial(train_step, task=task, class_weight=class_weight),
        in_shardings=(state_sharding, parallel.data_sharded(mesh, stacked), *active_sharding),
        out_shardings=(state_sharding, replicated),
        donate_argnums=0,
    )
    eval_fn = jax.jit(
        functools.partial(eval_step, task=task),
        in_shardings=(state_sharding, parallel.data_sharded(mesh)),
        out_shardings=parallel.data_sharded(mesh, stacked),
    )
    return train_fn, eval_fn


def _common_step(members: list[_Member]) -> int:
    """The step the members resume from: the (one) step of those not stopped early."""
    steps_running = {member.step for member in members if not member.meta["stopped_early"]}
    if len(steps_running) > 1:
        found = ", ".join(f"{member.workdir}: {member.step}" for member in members)
        raise MembersOutOfStep(f"the members' latest checkpoints hold different steps ({found})")
    return steps_running.pop() if steps_running else max(member.step for member in members)


def _train_batches(
    config: ml_collections.ConfigDict, experiment: Experiment, mesh, start_step: int
) -> Iterator[dict]:
    """This process's training batches of `config.seed` from `start_step` on."""
    batch_size = config.data.batch_size
    if experiment.train_batches is not None:
        return experiment.train_batches(
            parallel.local_batch_size(batch_size, mesh), config.seed, start_step
        )
    return pipeline.train_batches(
        experiment.splits["train"],
        experiment.encode,
        batch_size,
        config.seed,
        start_step,
        num_threads=config.data.get("num_threads", 2),
        pre_encode=config.data.get("pre_encode", False),
    )


def _stop_requested(stop_signal: "_StopSignal", step: int, check_every: int) -> bool:
    """Whether to checkpoint and stop after `step`: a signal received by this process or, under
    several processes, by any of them as seen at the next multiple of `check_every`, a step
    every process reaches, so all of them save the same step."""
    if jax.process_count() == 1:
        return stop_signal.received is not None
    if step % check_every:
        return False
    flags = multihost_utils.process_allgather(np.array(stop_signal.received is not None))
    return bool(np.any(flags))


def _nonfinite_message(
    loss: float, step: int, ids: np.ndarray | None, workdir: str, checkpoints: Checkpoints
) -> str:
    """The error for a non-finite loss; the batch's record ids also go to a file in workdir."""
    if ids is None:
        batch = "the batch carries no record ids"
    else:
        names = _names(ids)
        path = os.path.join(workdir, f"nonfinite_batch.{jax.process_index()}.txt")
        _write_atomically(path, "".join(f"{n}\n" for n in names))
        batch = f"batch record ids {_shorten(names)}; all {len(names)} in {path}"
    good = checkpoints.latest_step()
    kept = f"step {good} ({checkpoints.directory}/latest)" if good is not None else "none"
    return f"training loss became {loss} at step {step}; {batch}; last good checkpoint: {kept}"
