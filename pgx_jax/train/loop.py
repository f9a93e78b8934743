"""`fit`: the one training loop every domain shares.

Set-up builds the mesh, the jitted steps and the initial state; resume restores the latest
checkpoint if the workdir has one and writes the run's config and Predictor; train runs the
steps with periodic validation, early stopping and checkpointing; finish evaluates the best (or
final) state on the test split, runs the experiment's `after_fit` and writes `results.json`.
`fit_members` runs the same loop for runs that differ only in seed as one vmapped program (the
state stacked on a leading member axis), or also in the optimizer's learning rate and weight
decay (a population, `pgx tune`). Both take an optional `on_validation(member, step, values)`
called after each validation of a running member with its metrics; it returns True to stop
that member there (a search's pruner), as early stopping would.
"""

import dataclasses
import functools
import json
import os
import signal
import time
from collections.abc import Callable, Iterator, Sequence

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from jax.experimental import multihost_utils
from tqdm import tqdm

from pgx_jax import inference, parallel, provenance, runs
from pgx_jax.checkpoint import Checkpoints
from pgx_jax.data import pipeline, sampling, summary
from pgx_jax.data.sources import RecordSource, take
from pgx_jax.errors import PgxError
from pgx_jax.experiment import Experiment, Finished, with_compute_dtype
from pgx_jax.files import write_atomically
from pgx_jax.train import checks, evaluation, losses, steps
from pgx_jax.train.evaluation import PREDICTIONS_FILE
from pgx_jax.train.optim import POPULATION_FIELDS, init_from, make_optimizer
from pgx_jax.train.state import create_train_state
from pgx_jax.train.writers import MetricWriter

__all__ = ["PREDICTIONS_FILE", "MembersOutOfStep", "Preempted", "fit", "fit_members"]


class Preempted(Exception):
    """Raised after SIGTERM/SIGINT once the latest checkpoint is safely written."""


class MembersOutOfStep(Exception):
    """Members of a vmapped group whose checkpoints hold different steps (a kill between their
    saves); each member workdir is a valid single run, so they resume one by one."""


FEW_STEPS = 1000
"""Early stopping before this many steps comes with a warning: too few updates for most CNNs
(the binding defaults stopped a 2,000-sequence set at step 40)."""


OnValidation = Callable[[int, int, dict], bool]
"""`on_validation(member, step, values)`: True stops that member after this validation."""


def fit(
    config: ml_collections.ConfigDict,
    experiment: Experiment,
    workdir: str,
    on_validation: OnValidation | None = None,
) -> dict:
    """Train `experiment` as `config.train` says; returns (and writes) the final results."""
    return _fit([config], [experiment], [workdir], False, on_validation)[0]


def fit_members(
    configs: Sequence[ml_collections.ConfigDict],
    experiments: Sequence[Experiment],
    workdirs: Sequence[str],
    on_validation: OnValidation | None = None,
) -> list[dict]:
    """Train runs that differ only in `config.seed` as one vmapped program (or also in
    `config.optimizer.learning_rate` and `weight_decay`: a population, each member updating
    with its own values in an optimizer state of its own run's structure).

    The state is stacked on a leading member axis (initialised from each member's seed), every
    step updates all members, member k on the batch its own run would read at that step;
    members that stop early are frozen by a mask. Each member keeps its own workdir, with the
    files (and checkpoints) of a single run, so its results equal `fit` of its config to float
    tolerance. Data, model and training settings come from the first member. Raises
    MembersOutOfStep, before writing anything, when their checkpoints hold different steps.
    """
    if configs[0].train.get("init_from"):
        raise PgxError("config.train.init_from: runs started from another run train one by one")
    return _fit(list(configs), list(experiments), list(workdirs), True, on_validation)


def _fit(configs, experiments, workdirs, stacked: bool, on_validation) -> list[dict]:
    """The loop of `fit` (one run, `stacked` False) and `fit_members` (several, stacked)."""
    training = _Training(configs, experiments, workdirs, stacked)
    training.on_validation = on_validation
    state = training.resume(training.initial_state())
    state = training.train(state)
    return training.finish(state)


def evaluate(training: "_Training", state, source: RecordSource, prefix: str):
    """Predictions (with a member axis) and metrics per member of `state` on `source`, named
    `<prefix>/<metric>` (a module function, so tests can plant a kill point in it)."""
    predictions = evaluation.split_predictions(
        training.eval_fn,
        state,
        source,
        training.experiment.encode_split,
        training.batch_size,
        training.mesh,
        training.stacked,
    )
    thresholds = None
    tune = training.threshold_rule and training.predictor.task == "binary"
    if prefix == "test" and tune and "validation" in training.splits:
        validation, _ = evaluate(training, state, training.splits["validation"], "validation")
        thresholds = evaluation.tuned_thresholds(validation, training.threshold_rule)
    metrics = training.predictor.metrics
    return predictions, evaluation.metric_values(predictions, metrics, prefix, thresholds)


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


class _Training:
    """One training (a run, or a seed group of runs): set-up, resume, train, finish."""

    def __init__(self, configs, experiments, workdirs, stacked: bool):
        config = self.config = configs[0]
        tcfg = config.train
        dtype = tcfg.get("compute_dtype")
        experiments = [
            dataclasses.replace(e, predictor=with_compute_dtype(e.predictor, dtype))
            for e in experiments
        ]
        self.experiment, self.stacked = experiments[0], stacked
        self.predictor, self.splits = self.experiment.predictor, self.experiment.splits
        self.mesh = parallel.make_mesh(config.get("mesh"))
        self.batch_size = config.data.batch_size
        if not isinstance(self.batch_size, int) or self.batch_size <= 0:
            raise PgxError(f"config.data.batch_size: {self.batch_size!r}; must be at least 1")
        parallel.local_batch_size(self.batch_size, self.mesh)
        self.order = self.experiment.order or sampling.shuffled(len(self.splits["train"]))
        epoch_steps = self.order.steps_per_epoch(self.batch_size)
        self.total_steps = tcfg.get("num_steps") or tcfg.num_epochs * epoch_steps
        if self.total_steps <= 0:
            raise PgxError(
                f"config.train.num_epochs={tcfg.num_epochs}, num_steps="
                f"{tcfg.get('num_steps', 0)}: nothing to train; give at least one step"
            )
        self.eval_every = tcfg.get("eval_every_steps") or epoch_steps
        self.log_every = tcfg.get("log_every_steps", 50)
        self.checkpoint_every = tcfg.get("checkpoint_every_steps") or self.eval_every
        stopping = tcfg.get("early_stopping", ml_collections.ConfigDict())
        self.stop_metric, self.stop_mode = stopping.get("metric"), stopping.get("mode", "max")
        self.patience = stopping.get("patience", 0)
        self.threshold_rule = config.get("eval", ml_collections.ConfigDict()).get(
            "tune_threshold", ""
        )
        if self.threshold_rule:
            evaluation.threshold_rule(self.threshold_rule)  # a bad name fails before training
        self.members = [
            _Member(
                c,
                e,
                w,
                Checkpoints(os.path.join(w, "checkpoints")),
                {"best_value": None, "best_step": None, "bad_evals": 0, "stopped_early": False},
            )
            for c, e, w in zip(configs, experiments, workdirs, strict=True)
        ]
        self.pending = []  # (step, metrics on device, record ids, running) since the last check
        self.values = _population_values(configs) if stacked else None
        self.on_validation: OnValidation | None = None
        if jax.process_index() == 0:
            self.length_lines = checks.length_lines(self.predictor, self.splits)
            for line in self.length_lines:
                print(line)

    def initial_state(self):
        """The initial (stacked) state, its shardings and the jitted steps."""
        config, tcfg = self.config, self.config.train
        self.example = next(
            pipeline.eval_batches(
                self.splits["train"], self.experiment.encode_split, self.batch_size
            )
        )["inputs"]
        tx = make_optimizer(config.optimizer, self.total_steps)

        def init(inputs, seed):
            return create_train_state(
                self.predictor.model, tx, inputs, seed, tcfg.get("ema_decay", 0.0)
            )

        try:  # the first call of the model: its settings are checked here
            shapes = jax.eval_shape(functools.partial(init, seed=config.seed), self.example)
        except ValueError as err:
            raise PgxError(f"config.model ({config.model.get('name')}): {err}") from None
        self.member_sharding = parallel.state_shardings(
            shapes,
            self.mesh,
            config.get("mesh", {}).get("rules", ()),
        )
        if self.stacked:
            self.state_sharding = parallel.stacked(self.member_sharding)
            seeds = np.array([m.config.seed for m in self.members], np.int32)
            state = jax.jit(jax.vmap(init, in_axes=(None, 0)), out_shardings=self.state_sharding)(
                self.example, seeds
            )
        else:
            self.state_sharding = self.member_sharding
            init_one = functools.partial(init, seed=config.seed)
            state = jax.jit(init_one, out_shardings=self.state_sharding)(self.example)
            state = init_from(state, tcfg)
        class_weight = None
        if tcfg.get("class_weight"):
            labels = functools.partial(_labels, self.splits["train"])
            class_weight = losses.class_weights(tcfg.class_weight, self.predictor.task, labels)
        focal = losses.focal_parameters(tcfg, self.predictor.task)
        make_tx = None
        if self.values is not None:
            for member in self.members:  # each member's numbers checked
                make_optimizer(member.config.optimizer, self.total_steps)
            make_tx = functools.partial(make_optimizer, config.optimizer, self.total_steps)
        self.train_fn = _jit_train_step(
            self.predictor.task,
            self.state_sharding,
            self.mesh,
            self.stacked,
            class_weight,
            make_tx,
            focal,
        )
        self.eval_fn = inference.eval_function(
            self.predictor.task, self.mesh, self.state_sharding, self.stacked
        )
        self._take = jax.jit(
            lambda state, m: jax.tree.map(lambda x: x[m], state),
            out_shardings=self.member_sharding,
        )
        self._stack = jax.jit(
            lambda *states: jax.tree.map(lambda *xs: jnp.stack(xs), *states),
            out_shardings=self.state_sharding,
        )
        return state

    def take(self, state, m: int):
        """Member `m`'s state of a stacked state (the state itself for one run)."""
        return self._take(state, m) if self.stacked else state

    def stack(self, states: list):
        """The members' states stacked (the one state for one run)."""
        return self._stack(*states) if self.stacked else states[0]

    def resume(self, state):
        """The state restored from the members' latest checkpoints (if any); writes each
        member's config and Predictor and opens its metric writer and training batches."""
        states = [self.take(state, m) for m in range(len(self.members))]
        for m, member in enumerate(self.members):
            restored = member.checkpoints.restore("latest", states[m], fall_back=True)
            if restored is not None:
                member.step, states[m], member.meta = restored
        try:
            self.start_step = _common_step(self.members)
        except MembersOutOfStep:
            for member in self.members:
                member.checkpoints.close()
            raise
        if any(member.step for member in self.members):
            state = self.stack(states)
            for member in self.members:
                print(f"resuming from step {member.step} ({member.checkpoints.directory}/latest)")
        for member in self.members:
            self._open(member)
        return state

    def _open(self, member: _Member) -> None:
        os.makedirs(member.workdir, exist_ok=True)
        runs.check_same_config(member.config, member.workdir)
        if jax.process_index() == 0:  # atomically: the other processes may be reading it
            write_atomically(
                os.path.join(member.workdir, runs.CONFIG_FILE),
                member.config.to_json_best_effort(indent=2, sort_keys=True),
            )
            runs.save_predictor(member.workdir, member.experiment.predictor, self.example)
            for name, text in member.experiment.files.items():
                write_atomically(os.path.join(member.workdir, name), text)
            data = summary.split_summary(
                self.predictor.task, self.splits, self.predictor.classes, self.length_lines
            )
            write_atomically(os.path.join(member.workdir, summary.SUMMARY_FILE), json.dumps(data))
            provenance.record_start(member.workdir, member.step)
        member.writer = MetricWriter(member.workdir, member.step)
        member.batches = pipeline.train_batches(
            self.splits["train"],
            self.experiment.encode_split,
            self.batch_size,
            member.config.seed,
            self.start_step,
            self.order,
            member.config.data.get("pre_encode", False),
            member.config.data.get("num_threads", 2),
        )

    def running(self) -> np.ndarray:
        return np.array([not member.meta["stopped_early"] for member in self.members])

    def train(self, state):
        """Steps from the resumed step to the last (or until every member stopped early)."""
        step = self.start_step
        progress = tqdm(
            total=self.total_steps,
            initial=step,
            disable=jax.process_index() != 0,
            desc="train",
            unit="step",
            dynamic_ncols=True,
        )
        with _StopSignal() as stop_signal:
            self.started = time.perf_counter()
            while step < self.total_steps and self.running().any():
                state, step = self._step(state, step)
                progress.update(1)
                if step % self.log_every == 0 or step == self.total_steps:
                    progress.set_postfix(loss=self._log(step))
                if "validation" in self.splits and (
                    step % self.eval_every == 0 or step == self.total_steps
                ):
                    self._validate(state, step)
                elif step % self.checkpoint_every == 0:
                    self._save_running(state, "latest")
                if _stop_requested(stop_signal, step, self.log_every):
                    self._save_running(state, "latest")
                    progress.close()
                    raise Preempted(
                        f"stopped by {stop_signal.reason()} at step {step}; "
                        "rerun the same command to resume"
                    )
        progress.close()
        self.check_finite()
        self._save_running(state, "latest")
        return state

    def _step(self, state, step: int):
        """One step of the running members on their own batches."""
        active = self.running()
        local = [next(member.batches) for member in self.members]
        ids = [batch.pop("id", None) for batch in local]
        if jax.process_count() == 1:  # one process alone must not stop: the others hang
            for m in np.flatnonzero(active):
                checks.check_labels(local[m], ids[m], self.predictor.task, step + 1)
        batch = jax.tree.map(lambda *xs: np.stack(xs), *local) if self.stacked else local[0]
        extra = [active, self.values][: self.stacked + (self.values is not None)]
        state, train_metrics = self.train_fn(
            state, parallel.to_global(batch, self.mesh, self.stacked), *extra
        )
        step += 1
        for m in np.flatnonzero(active):
            self.members[m].step = step
        self.pending.append((step, train_metrics, ids, active))
        return state, step

    def _log(self, step: int) -> str:
        """Write the running members' training metrics of `step`; their mean loss, as text."""
        _, train_metrics, _, active = self.pending[-1]
        self.check_finite()
        rate = self.log_every / (time.perf_counter() - self.started)
        self.started = time.perf_counter()
        host = jax.device_get(train_metrics)
        for m in np.flatnonzero(active):
            values = {f"train/{k}": float(np.reshape(v, -1)[m]) for k, v in host.items()}
            values["train/steps_per_second"] = rate
            self.members[m].writer.write(step, values)
        return f"{np.mean(np.reshape(host['loss'], -1)[active]):.4f}"

    def _validate(self, state, step: int) -> None:
        """Validation metrics, early-stopping bookkeeping and checkpoints of the running
        members."""
        active = self.running()
        _, evaluated = evaluate(self, state, self.splits["validation"], "validation")
        for m in np.flatnonzero(active):
            member, values = self.members[m], evaluated[m]
            member.writer.write(step, values)
            if self.stop_metric:
                if self.stop_metric not in values:
                    raise PgxError(
                        f"config.train.early_stopping.metric: {self.stop_metric!r} is "
                        f"not computed; available: {sorted(values)}"
                    )
                meta = member.meta
                if _improved(values[self.stop_metric], meta["best_value"], self.stop_mode):
                    meta.update(best_value=values[self.stop_metric], best_step=step, bad_evals=0)
                    self.save(state, m, "best")
                else:
                    meta["bad_evals"] += 1
                    meta["stopped_early"] = bool(self.patience) and (
                        meta["bad_evals"] >= self.patience
                    )
                    if meta["stopped_early"] and step < FEW_STEPS and jax.process_index() == 0:
                        print(self._early_warning(step, member))
            if self.on_validation is not None and self.on_validation(m, step, values):
                member.meta["stopped_early"] = True  # pruned: stops as early stopping does
            self.save(state, m, "latest")

    def _early_warning(self, step: int, member: _Member) -> str:
        return (
            f"warning: {member.workdir}: early stopping at step {step} of {self.total_steps} "
            f"({self.stop_metric} not better for {self.patience} evaluations, one every "
            f"{self.eval_every} steps): few updates for a CNN. On a small data set, train "
            "longer with a larger --config.train.early_stopping.patience or a smaller "
            "--config.data.batch_size"
        )

    def check_finite(self) -> None:
        """Raise PgxError at the first pending step whose training loss is NaN or infinite."""
        found = jax.device_get([metrics["loss"] for _, metrics, _, _ in self.pending])
        for (at, _, ids, active), loss in zip(self.pending, found, strict=True):
            for m in np.flatnonzero(active):
                value = float(np.reshape(loss, -1)[m])
                if not np.isfinite(value):
                    member = self.members[m]
                    raise PgxError(
                        checks.nonfinite_message(
                            value, at, ids[m], member.workdir, member.checkpoints
                        )
                    )
        self.pending.clear()

    def save(self, state, m: int, kind: str) -> None:
        self.check_finite()
        member = self.members[m]
        member.checkpoints.save(kind, member.step, self.take(state, m), member.meta)

    def _save_running(self, state, kind: str) -> None:
        for m in np.flatnonzero(self.running()):
            self.save(state, m, kind)

    def finish(self, state) -> list[dict]:
        """Test metrics of each member's best (or final) state, its `after_fit` results, and
        `results.json`."""
        results, states = [], []
        for m, member in enumerate(self.members):
            member.writer.close()
            results.append({"train/steps": member.step})
            states.append(self.take(state, m))
            if self.stop_metric and member.checkpoints.latest_step("best") is not None:
                _, states[m], _ = member.checkpoints.restore("best", states[m])
                results[m]["best_step"] = member.meta["best_step"]
            member.checkpoints.close()
        test = None
        if "test" in self.splits:
            test, evaluated = evaluate(self, self.stack(states), self.splits["test"], "test")
            for m, member in enumerate(self.members):
                results[m].update(evaluated[m])
                if jax.process_index() == 0:
                    evaluation.save_predictions(
                        os.path.join(member.workdir, PREDICTIONS_FILE),
                        self.splits["test"],
                        self.predictor.task,
                        evaluation.member(test, m),
                    )
        for m, member in enumerate(self.members):
            if member.experiment.after_fit is not None:
                finished = Finished(
                    states[m],
                    member.experiment,
                    member.workdir,
                    None if test is None else evaluation.member(test, m),
                    functools.partial(self.predict_member, states[m]),
                )
                results[m].update(member.experiment.after_fit(finished))
            if jax.process_index() == 0:
                path = os.path.join(member.workdir, "results.json")
                write_atomically(path, json.dumps(results[m], indent=2, sort_keys=True))
                provenance.record_finish(member.workdir)
        return results

    def predict_member(self, state, source: RecordSource) -> inference.Predictions:
        """One member's predictions of every record of `source` (for `after_fit`)."""
        eval_fn = inference.eval_function(self.predictor.task, self.mesh, self.member_sharding)
        found = evaluation.split_predictions(
            eval_fn, state, source, self.experiment.encode_split, self.batch_size, self.mesh
        )
        return evaluation.member(found, 0)


def _labels(source: RecordSource) -> np.ndarray:
    """Every label of a split (`label` of each record)."""
    records = source.columns if hasattr(source, "columns") else take(source, np.arange(len(source)))
    if "label" not in records:
        raise PgxError("config.train.class_weight: the training records have no 'label' field")
    return np.asarray(records["label"])


def _improved(value: float, best: float | None, mode: str) -> bool:
    if best is None or np.isnan(best):
        return not np.isnan(value)
    return value > best if mode == "max" else value < best


def _jit_train_step(
    task: str,
    state_sharding,
    mesh,
    stacked: bool,
    class_weight: tuple[float, ...] | None,
    make_tx: Callable | None = None,
    focal: tuple[float, float] | None = None,
):
    """The train step (its `members_` form, which also takes the mask of members still
    training, when `stacked`, and each member's optimizer values with `make_tx`), jitted with
    shardings and donated state; it weights each example's loss by `class_weight` of its
    class, and trains with the focal loss given `focal` (gamma, alpha)."""
    replicated = parallel.replicated(mesh)
    step = steps.train_step
    if stacked:
        step = functools.partial(steps.members_train_step, make_tx=make_tx)
    return jax.jit(
        functools.partial(step, task=task, class_weight=class_weight, focal=focal),
        in_shardings=(
            state_sharding,
            parallel.data_sharded(mesh, stacked),
            *[replicated] * (stacked + (make_tx is not None)),
        ),
        out_shardings=(state_sharding, replicated),
        donate_argnums=0,
    )


def _population_values(configs: list[ml_collections.ConfigDict]) -> dict | None:
    """Each member's optimizer `POPULATION_FIELDS` as float32 arrays (member axis) when they
    differ; None when they are the same (a seed group). PgxError when the members also differ
    in another field than these and `seed`, or some decay weights and some do not."""
    rows = [[float(c.optimizer.get(f, 0.0)) for f in POPULATION_FIELDS] for c in configs]
    if all(row == rows[0] for row in rows):
        return None
    if len({bool(row[POPULATION_FIELDS.index("weight_decay")]) for row in rows}) > 1:
        raise PgxError("a population: weight decay must be zero for all members or for none")
    first = configs[0].to_dict()
    for config in configs[1:]:
        other = ml_collections.ConfigDict(config.to_dict())
        other.seed = first["seed"]
        for field in POPULATION_FIELDS:
            if field in other.optimizer:
                other.optimizer[field] = first["optimizer"][field]
        if other.to_dict() != first:
            raise PgxError(
                "a population's members may differ only in seed and optimizer."
                + " and optimizer.".join(POPULATION_FIELDS)
            )
    columns = np.array(rows, np.float32).T
    return {field: columns[i] for i, field in enumerate(POPULATION_FIELDS)}


def _common_step(members: list[_Member]) -> int:
    """The step the members resume from: the (one) step of those not stopped early."""
    steps_running = {member.step for member in members if not member.meta["stopped_early"]}
    if len(steps_running) > 1:
        found = ", ".join(f"{member.workdir}: {member.step}" for member in members)
        raise MembersOutOfStep(f"the members' latest checkpoints hold different steps ({found})")
    return steps_running.pop() if steps_running else max(member.step for member in members)


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


def _stop_requested(stop_signal: _StopSignal, step: int, check_every: int) -> bool:
    """Whether to checkpoint and stop after `step`: a signal received by this process or, under
    several processes, by any of them as seen at the next multiple of `check_every`, a step
    every process reaches, so all of them save the same step."""
    if jax.process_count() == 1:
        return stop_signal.received is not None
    if step % check_every:
        return False
    flags = multihost_utils.process_allgather(np.array(stop_signal.received is not None))
    return bool(np.any(flags))
