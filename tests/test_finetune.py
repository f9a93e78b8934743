"""Fine-tuning: frozen parameters (config.optimizer.freeze) never move; config.train.init_from
copies another run's parameters, all or all but the head."""

import os

import jax
import ml_collections
import numpy as np
import pytest
from conftest import run_pgx, tiny_batch, tiny_deepbind

from pgx_jax.checkpoint import Checkpoints, load_state_tree
from pgx_jax.errors import PgxError
from pgx_jax.models import create_model
from pgx_jax.train import steps
from pgx_jax.train.optim import init_from, make_optimizer
from pgx_jax.train.state import create_train_state


def _optimizer(**fields) -> ml_collections.ConfigDict:
    return ml_collections.ConfigDict(
        {"name": "adam", "learning_rate": 0.05, "weight_decay": 0.01, "grad_clip_norm": 1.0}
        | fields
    )


def _state(optimizer: ml_collections.ConfigDict, seed: int = 0):
    tx = make_optimizer(optimizer, 10)
    return create_train_state(tiny_deepbind(), tx, tiny_batch()["inputs"], seed)


def _flat(tree) -> dict[str, np.ndarray]:
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {"/".join(k.key for k in path): np.asarray(v) for path, v in flat}


def test_frozen_parameters_do_not_move():
    state = _state(_optimizer(freeze=("motif_conv", r"^head/dense/bias$")))
    before = _flat(state.params)
    step = jax.jit(lambda s, b: steps.train_step(s, b, task="binary"))
    for seed in range(5):
        state, _ = step(state, tiny_batch(seed))
    after = _flat(state.params)
    frozen = {"motif_conv/conv/kernel", "motif_conv/conv/bias", "head/dense/bias"}
    assert frozen <= after.keys()
    for name in after:
        if name in frozen:
            np.testing.assert_array_equal(after[name], before[name], err_msg=name)
        else:
            assert not np.allclose(after[name], before[name]), f"{name} did not train"


def test_freeze_pattern_matching_nothing_is_an_error():
    with pytest.raises(PgxError, match=r"freeze: 'convolution' matches no parameter"):
        _state(_optimizer(freeze=("convolution",)))


def _save_run(workdir: str, state) -> None:
    checkpoints = Checkpoints(os.path.join(workdir, "checkpoints"))
    checkpoints.save("latest", 1, state, {})
    checkpoints.close()


def test_init_from_copies_parameters_all_or_all_but_the_head(tmp_path):
    source = _state(_optimizer(), seed=1)
    _save_run(str(tmp_path), source)
    fresh = _state(_optimizer(), seed=2)
    theirs, ours = _flat(source.params), _flat(fresh.params)

    train = ml_collections.ConfigDict({"init_from": str(tmp_path)})
    copied = _flat(init_from(fresh, train).params)
    for name in theirs:
        np.testing.assert_array_equal(copied[name], theirs[name], err_msg=name)

    train.init_head = False
    partial = _flat(init_from(fresh, train).params)
    for name in theirs:
        expected = ours[name] if name.startswith("head/") else theirs[name]
        np.testing.assert_array_equal(partial[name], expected, err_msg=name)

    assert init_from(fresh, ml_collections.ConfigDict({"init_from": ""})) is fresh


def test_init_from_a_different_architecture_names_the_parameter(tmp_path):
    _save_run(str(tmp_path), _state(_optimizer()))
    tx = make_optimizer(_optimizer(), 10)
    wider = create_model("deepbind", num_filters=4, filter_width=6, hidden=16, dropout_rate=0.0)
    other = create_train_state(wider, tx, tiny_batch()["inputs"], 0)
    train = ml_collections.ConfigDict({"init_from": str(tmp_path), "init_skip": ("^head/",)})
    with pytest.raises(PgxError, match=r"params/hidden/bias \(16,\) is \(8,\)"):
        init_from(other, train)


FINETUNE_CONFIG = """
from configs.binding.deepbind import get_config as deepbind


def get_config(arg=None):
    config = deepbind(arg)
    config.train.init_from = ""
    config.train.init_head = True
    config.optimizer.freeze = ("motif_conv",)
    return config
"""


@pytest.mark.slow
def test_pgx_train_fine_tunes_from_another_run(tmp_path):
    """A run initialised from another with frozen filters ends with that run's filters."""
    small = ["--config.data.num_examples=3000", "--config.train.log_every_steps=5"]
    base = str(tmp_path / "base")
    run_pgx(["train", *small, "--config.train.num_steps=10", f"--workdir={base}"])
    config = tmp_path / "finetune.py"
    config.write_text(FINETUNE_CONFIG)
    tuned = str(tmp_path / "tuned")
    run_pgx(
        ["train", f"--config={config}", *small, "--config.train.num_steps=10",
         f"--config.train.init_from={base}", f"--workdir={tuned}"]
    )  # fmt: skip
    _, base_state = load_state_tree(base, "best")
    _, tuned_state = load_state_tree(tuned, "latest")
    base_params, tuned_params = _flat(base_state["params"]), _flat(tuned_state["params"])
    for name in ("motif_conv/conv/kernel", "motif_conv/conv/bias"):
        np.testing.assert_array_equal(tuned_params[name], base_params[name], err_msg=name)
    assert not np.allclose(tuned_params["head/dense/kernel"], base_params["head/dense/kernel"])
