"""`fit`: the one training loop every domain shares.

It builds the mesh and the jitted steps, restores the latest checkpoint if the workdir has
one, trains with periodic validation, early stopping and checkpointing, then evaluates the
best (or final) state on the test split and writes `results.json`.
"""

import dataclasses
import functools
import json
import os
import signal
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from tqdm import tqdm

from pgx_jax import metrics as metrics_lib
from pgx_jax import parallel
from pgx_jax.checkpoint import Checkpoints
from pgx_jax.data import pipeline
from pgx_jax.data.sources import take
from pgx_jax.errors import PgxError
from pgx_jax.experiment import Experiment, RecordSource
from pgx_jax.train import steps
from pgx_jax.train.optim import init_from, make_optimizer
from pgx_jax.train.state import TrainState, create_train_state
from pgx_jax.train.writers import MetricWriter

PREDICTIONS_FILE = "test_predictions.npz"
"""The test split's predictions of the evaluated state, written beside `results.json`."""


class Preempted(Exception):
    """Raised after SIGTERM/SIGINT once the latest checkpoint is safely written."""


class _StopSignal:
    """Turns SIGTERM and SIGINT into a flag the loop checks between steps."""

    def __init__(self):
        self.received: int | None = None
        self._previous = {}

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        self.received = signum

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _broadcast(weight: np.ndarray, shape: tuple) -> np.ndarray:
    return np.broadcast_to(weight.reshape(weight.shape + (1,) * (len(shape) - weight.ndim)), shape)


def evaluate(
    eval_fn,
    state: TrainState,
    experiment: Experiment,
    source: RecordSource,
    batch_size: int,
    mesh,
    prefix: str,
    save_to: str | None = None,
) -> dict[str, float]:
    """Metrics of `state` on every record of `source`, named `<prefix>/<metric>`.

    With `save_to`, process 0 also writes the predictions there (`_save_predictions`).
    """
    predictions, labels, weights = [], [], []
    loss_sum = weight_sum = 0.0
    for local in pipeline.eval_batches(source, experiment.encode, batch_size):
        batch = parallel.to_global(local, mesh)
        out = parallel.to_host(eval_fn(state, batch))
        label, weight = parallel.to_host((batch["label"], batch["weight"]))
        loss_weight = _broadcast(weight, out["loss"].shape)
        loss_sum += float(np.sum(np.where(loss_weight > 0, out["loss"] * loss_weight, 0.0)))
        weight_sum += float(np.sum(loss_weight))
        keep = (weight if weight.ndim == 1 else weight.max(axis=1)) > 0
        predictions.append(out["prediction"][keep])
        labels.append(label[keep])
        weights.append(weight[keep])
    y_score, y_true, w = (np.concatenate(x) for x in (predictions, labels, weights))
    mask = (w > 0) if w.ndim == 2 else None
    values = metrics_lib.compute_metrics(experiment.metrics, y_true, y_score, mask)
    values["loss"] = loss_sum / max(weight_sum, 1.0)
    if save_to and jax.process_index() == 0:
        _save_predictions(save_to, source, experiment.task, y_true, y_score, w)
    return {f"{prefix}/{k}": float(v) for k, v in values.items()}


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


def fit(config: ml_collections.ConfigDict, experiment: Experiment, workdir: str) -> dict:
    """Train `experiment` as `config.train` says; returns (and writes) the final results."""
    os.makedirs(workdir, exist_ok=True)
    experiment = _with_compute_dtype(experiment, config.train.get("compute_dtype"))
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
    if jax.process_index() == 0:
        with open(os.path.join(workdir, "config.json"), "w") as f:
            f.write(config.to_json_best_effort(indent=2, sort_keys=True))

    example = next(pipeline.eval_batches(train_source, experiment.encode, batch_size))
    tx = make_optimizer(config.optimizer, total_steps)
    replicated = parallel.replicated(mesh)

    def init(inputs):
        return create_train_state(experiment.model, tx, inputs, config.seed)

    state_sharding = parallel.state_shardings(
        jax.eval_shape(init, example["inputs"]), mesh, config.get("mesh", {}).get("rules", ())
    )
    state = jax.jit(init, out_shardings=state_sharding)(example["inputs"])
    state = init_from(state, tcfg)
    train_fn = jax.jit(
        functools.partial(steps.train_step, task=experiment.task),
        in_shardings=(state_sharding, parallel.data_sharded(mesh)),
        out_shardings=(state_sharding, replicated),
        donate_argnums=0,
    )
    eval_fn = jax.jit(
        functools.partial(steps.eval_step, task=experiment.task),
        in_shardings=(state_sharding, parallel.data_sharded(mesh)),
        out_shardings=parallel.data_sharded(mesh),
    )

    checkpoints = Checkpoints(os.path.join(workdir, "checkpoints"))
    stopping = tcfg.get("early_stopping", ml_collections.ConfigDict())
    stop_metric, stop_mode = stopping.get("metric"), stopping.get("mode", "max")
    patience = stopping.get("patience", 0)
    meta = {"best_value": None, "best_step": None, "bad_evals": 0, "stopped_early": False}
    start_step = 0
    restored = checkpoints.restore("latest", state)
    if restored is not None:
        start_step, state, meta = restored
        print(f"resuming from step {start_step} ({checkpoints.directory}/latest)")
    writer = MetricWriter(workdir, start_step)
    if experiment.train_batches is not None:
        batches = experiment.train_batches(
            parallel.local_batch_size(batch_size, mesh), config.seed, start_step
        )
    else:
        batches = pipeline.train_batches(
            train_source,
            experiment.encode,
            batch_size,
            config.seed,
            start_step,
            num_threads=config.data.get("num_threads", 2),
            pre_encode=config.data.get("pre_encode", False),
        )
    validation = experiment.splits.get("validation")

    pending = []  # (step, metrics on device, record ids) of the steps since the last check

    def check_finite() -> None:
        """Raise PgxError at the first pending step whose training loss is NaN or infinite."""
        losses = jax.device_get([m["loss"] for _, m, _ in pending])
        for (at, _, ids), loss in zip(pending, losses, strict=True):
            if not np.isfinite(loss):
                raise PgxError(_nonfinite_message(float(loss), at, ids, workdir, checkpoints))
        pending.clear()

    def save(kind: str, step: int) -> None:
        check_finite()
        checkpoints.save(kind, step, state, meta)

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
        while step < total_steps and not meta["stopped_early"]:
            local = next(batches)
            ids = local.pop("id", None)
            if jax.process_count() == 1:  # one process alone must not stop: the others hang
                _check_labels(local, ids, experiment.task, step + 1)
            state, train_metrics = train_fn(state, parallel.to_global(local, mesh))
            step += 1
            pending.append((step, train_metrics, ids))
            progress.update(1)
            if step % log_every == 0 or step == total_steps:
                check_finite()
                values = {f"train/{k}": float(v) for k, v in jax.device_get(train_metrics).items()}
                values["train/steps_per_second"] = log_every / (time.perf_counter() - started)
                started = time.perf_counter()
                writer.write(step, values)
                progress.set_postfix(loss=f"{values['train/loss']:.4f}")
            if validation is not None and (step % eval_every == 0 or step == total_steps):
                values = evaluate(
                    eval_fn, state, experiment, validation, batch_size, mesh, "validation"
                )
                writer.write(step, values)
                if stop_metric:
                    if stop_metric not in values:
                        raise PgxError(
                            f"config.train.early_stopping.metric: {stop_metric!r} is "
                            f"not computed; available: {sorted(values)}"
                        )
                    if _improved(values[stop_metric], meta["best_value"], stop_mode):
                        meta.update(best_value=values[stop_metric], best_step=step, bad_evals=0)
                        save("best", step)
                    else:
                        meta["bad_evals"] += 1
                        meta["stopped_early"] = bool(patience) and meta["bad_evals"] >= patience
                save("latest", step)
            elif step % checkpoint_every == 0:
                save("latest", step)
            if stop_signal.received is not None:
                save("latest", step)
                progress.close()
                raise Preempted(
                    f"stopped by signal {stop_signal.received} at step {step}; "
                    "rerun the same command to resume"
                )
    progress.close()
    save("latest", step)
    writer.close()

    results = {"train/steps": step}
    if stop_metric and checkpoints.latest_step("best") is not None:
        _, state, _ = checkpoints.restore("best", state)
        results["best_step"] = meta["best_step"]
    checkpoints.close()
    test = experiment.splits.get("test")
    if test is not None:
        predictions = os.path.join(workdir, PREDICTIONS_FILE)
        results.update(
            evaluate(eval_fn, state, experiment, test, batch_size, mesh, "test", predictions)
        )
    if experiment.after_fit is not None:
        results.update(experiment.after_fit(state, experiment, workdir))
    if jax.process_index() == 0:
        path = os.path.join(workdir, "results.json")
        _write_atomically(path, json.dumps(results, indent=2, sort_keys=True))
    return results


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
