"""In-process `fit`: a non-finite loss or an unlearnable label stops the run with the step and
the record ids, the last good checkpoint stays intact, and Ctrl-C saves one to resume from."""

import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from conftest import interrupted_at

from pgx_jax.checkpoint import load_state_tree
from pgx_jax.data import alphabets, pipeline, sampling
from pgx_jax.data.sources import InMemorySource
from pgx_jax.errors import PgxError
from pgx_jax.experiment import Experiment, Predictor
from pgx_jax.models import create_model
from pgx_jax.train import losses
from pgx_jax.train.checks import check_labels
from pgx_jax.train.loop import Preempted, fit

LENGTH, BATCH = 16, 8


def _source(labels: np.ndarray) -> InMemorySource:
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), LENGTH)) for _ in labels]
    return InMemorySource(
        {"id": np.array([f"r{i}" for i in range(len(labels))]), "sequence": np.array(seqs)}
        | {"label": np.asarray(labels, np.float32)}
    )


def _encode(records: dict) -> dict:
    x, mask = alphabets.one_hot(list(records["sequence"]), alphabets.DNA, LENGTH)
    return {"inputs": {"x": x, "mask": mask}, "label": records["label"]}


def _config() -> ml_collections.ConfigDict:
    return ml_collections.ConfigDict(
        {
            "seed": 0,
            "data": {"batch_size": BATCH, "num_threads": 1},
            "optimizer": {"name": "adam", "learning_rate": 1e-3},
            "train": {"num_steps": 12, "log_every_steps": 10, "checkpoint_every_steps": 4},
        }
    )


def _experiment(source: InMemorySource, **data) -> Experiment:
    model = create_model(name="deepbind", num_filters=4, filter_width=5, hidden=0)
    predictor = Predictor(model, "binary", _encode, ("auroc",))
    return Experiment(predictor, {"train": source}, **data)


def _params_finite(workdir: str) -> bool:
    _, tree = load_state_tree(workdir)
    leaves = [np.asarray(x) for x in jax.tree.leaves(tree["params"])]
    return all(np.isfinite(x).all() for x in leaves)


def test_infinite_input_stops_with_step_and_batch_ids_and_keeps_good_checkpoint(tmp_path):
    """Step 6's batch carries an infinite input; the loss is checked every 10 steps, but the
    save at step 8 checks first, so checkpoint 4 stays the latest and finite."""
    source = _source(np.arange(64) % 2)
    from_row_8 = sampling.Order(64, lambda rng, epoch: np.roll(np.arange(64), -8))

    def encode_with_inf(records: dict) -> dict:
        batch = _encode(records)
        if "r48" in records["id"]:  # the batch of step 6: rows 48..55
            batch["inputs"]["x"][3] = np.inf
        return batch

    workdir = str(tmp_path / "run")
    with pytest.raises(PgxError) as caught:
        fit(_config(), _experiment(source, order=from_row_8, encode=encode_with_inf), workdir)
    message = str(caught.value)
    assert "training loss became nan at step 6;" in message
    assert "batch record ids r48, r49, r50, r51, r52, ... (3 more); all 8 in" in message
    assert "last good checkpoint: step 4 (" in message and "\n" not in message
    with open(os.path.join(workdir, "nonfinite_batch.0.txt")) as f:
        assert f.read().split() == [f"r{i}" for i in range(48, 56)]
    assert load_state_tree(workdir)[0] == 4 and _params_finite(workdir)


def test_nan_label_is_named_before_its_step(tmp_path):
    labels = (np.arange(64) % 2).astype(np.float32)
    first = next(pipeline.train_batches(_source(labels), _encode, BATCH, seed=0))["id"]
    labels[int(first[5][1:])] = np.nan
    with pytest.raises(PgxError, match=f"step 1: label nan of record '{first[5]}' is not finite"):
        fit(_config(), _experiment(_source(labels)), str(tmp_path))


def test_label_outside_0_1_is_named_for_binary_tasks():
    batch = {"label": np.array([0.0, 2.0, 1.0, -1.0]), "weight": np.array([1.0, 1, 1, 0])}
    with pytest.raises(PgxError, match="label 2.0 of record 'b' is outside \\[0, 1\\].*1 such"):
        check_labels(batch, np.array([b"a", b"b", b"c", b"d"]), "binary", 3)
    check_labels(batch, None, "regression", 3)


def test_training_batches_carry_record_ids_outside_the_inputs():
    source = _source(np.arange(20) % 2)
    batch = next(pipeline.train_batches(source, _encode, 4, seed=0))
    assert batch["id"].shape == (4,) and set(batch["inputs"]) == {"x", "mask"}
    rows = [int(i[1:]) for i in batch["id"]]
    np.testing.assert_array_equal(batch["label"], np.arange(20)[rows] % 2)


def test_sigint_saves_a_checkpoint_and_the_rerun_resumes(tmp_path, capsys):
    """Ctrl-C in mid-run: the step in progress finishes, a checkpoint is written, Preempted."""
    source = _source(np.arange(64) % 2)
    workdir = str(tmp_path / "run")
    with interrupted_at(7), pytest.raises(Preempted, match="stopped by signal 2 at step 7"):
        fit(_config(), _experiment(source), workdir)
    assert load_state_tree(workdir)[0] == 7
    results = fit(_config(), _experiment(source), workdir)
    assert "resuming from step 7" in capsys.readouterr().out
    assert results["train/steps"] == 12 and load_state_tree(workdir)[0] == 12


def test_nan_label_under_weight_zero_gives_finite_gradients():
    def loss(outputs):
        labels, weight = jnp.array([1.0, jnp.nan]), jnp.array([1.0, 0.0])
        return losses.weighted_loss("binary", outputs, labels, weight)

    assert np.isfinite(jax.grad(loss)(jnp.array([0.3, 0.2]))).all()
