"""Parameter moving average (`config.train.ema_decay`): training is unchanged, the average
follows its recurrence, and evaluation, checkpoints and restored runs use it."""

import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from conftest import run_pgx, tiny_batch, tiny_deepbind

from pgx_jax.checkpoint import Checkpoints, load_state_tree
from pgx_jax.data import pipeline
from pgx_jax.experiment import build_experiment
from pgx_jax.runs import load_config, load_run
from pgx_jax.train import steps
from pgx_jax.train.loop import PREDICTIONS_FILE
from pgx_jax.train.optim import init_from, make_optimizer
from pgx_jax.train.state import create_train_state


def _state(ema_decay: float):
    tx = make_optimizer(ml_collections.ConfigDict({"name": "adam", "learning_rate": 0.05}), 10)
    return create_train_state(tiny_deepbind(), tx, tiny_batch(0)["inputs"], 0, ema_decay)


def test_average_follows_its_recurrence_and_leaves_training_alone():
    step = jax.jit(lambda s, b: steps.train_step(s, b, task="binary"))
    plain, averaged = _state(0.0), _state(0.9)
    assert not hasattr(plain, "ema_params")
    expected = jax.tree.map(np.asarray, averaged.params)
    for t in range(1, 8):
        batch = tiny_batch(t)
        plain, _ = step(plain, batch)
        averaged, _ = step(averaged, batch)
        decay = min(0.9, (1 + t) / (10 + t))
        expected = jax.tree.map(
            lambda e, p, d=decay: d * e + (1 - d) * np.asarray(p), expected, averaged.params
        )
    jax.tree.map(np.testing.assert_array_equal, plain.params, averaged.params)
    jax.tree.map(
        lambda e, a: np.testing.assert_allclose(a, e, rtol=1e-6, atol=1e-7),
        expected,
        averaged.ema_params,
    )
    gap = jax.tree.map(lambda p, e: float(jnp.max(jnp.abs(p - e))), averaged.params, expected)
    assert max(jax.tree.leaves(gap)) > 1e-3


def test_eval_step_predicts_with_the_average():
    step = jax.jit(lambda s, b: steps.train_step(s, b, task="binary"))
    state = _state(0.9)
    for t in range(1, 6):
        state, _ = step(state, tiny_batch(t))
    batch = tiny_batch(99)
    out = steps.eval_step(state, batch, task="binary")
    logits = tiny_deepbind().apply({"params": state.ema_params}, **batch["inputs"], train=False)
    np.testing.assert_allclose(out["prediction"], jax.nn.sigmoid(logits), rtol=1e-6)
    raw = tiny_deepbind().apply({"params": state.params}, **batch["inputs"], train=False)
    assert not np.allclose(out["prediction"], jax.nn.sigmoid(raw), atol=1e-4)


def test_fine_tuning_copies_the_source_average_and_starts_its_own(tmp_path):
    step = jax.jit(lambda s, b: steps.train_step(s, b, task="binary"))
    source = _state(0.9)
    for t in range(1, 4):
        source, _ = step(source, tiny_batch(t))
    checkpoints = Checkpoints(os.path.join(tmp_path, "checkpoints"))
    checkpoints.save("latest", 3, source, {})
    checkpoints.close()
    train = ml_collections.ConfigDict({"init_from": str(tmp_path)})
    for fresh in (_state(0.0), _state(0.9)):
        tuned = init_from(fresh, train)
        jax.tree.map(np.testing.assert_array_equal, tuned.params, source.ema_params)
        if hasattr(tuned, "ema_params"):
            jax.tree.map(np.testing.assert_array_equal, tuned.ema_params, source.ema_params)


@pytest.mark.slow
def test_run_tests_saves_and_restores_the_average(tmp_path):
    """`pgx train` with ema_decay: the checkpoint holds the average, a restored run predicts
    with it, and the saved test predictions are the average's."""
    workdir = str(tmp_path / "ema")
    run_pgx(
        [
            "train",
            "--config=configs/binding/deepbind.py",
            "--config.data.num_examples=1000",
            "--config.train.num_steps=20",
            "--config.train.ema_decay=0.9",
            "--config.optimizer.learning_rate=0.01",
            f"--workdir={workdir}",
        ]
    )
    run = load_run(workdir)
    _, tree = load_state_tree(workdir, run.kind)
    jax.tree.map(np.testing.assert_array_equal, tree["ema_params"], run.variables["params"])
    gaps = jax.tree.map(
        lambda p, e: float(np.max(np.abs(p - e))), tree["params"], tree["ema_params"]
    )
    assert max(jax.tree.leaves(gaps)) > 1e-5
    saved = np.load(os.path.join(workdir, PREDICTIONS_FILE))
    config = load_config(workdir)
    test = build_experiment(config).splits["test"]

    def predict(params) -> np.ndarray:
        predictions = []
        for batch in pipeline.eval_batches(test, run.predictor.encode, 256):
            logits = run.predictor.model.apply({"params": params}, **batch["inputs"], train=False)
            keep = np.asarray(batch["weight"]) > 0
            predictions.append(np.asarray(jax.nn.sigmoid(logits))[keep])
        return np.concatenate(predictions).reshape(-1)

    saved = saved["predictions"].reshape(-1)
    np.testing.assert_allclose(saved, predict(run.variables["params"]), atol=1e-6)
    assert np.max(np.abs(saved - predict(tree["params"]))) > 1e-4
