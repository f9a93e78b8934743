"""Tests for the losses, link functions, optimiser and learning-rate schedules."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from conftest import tiny_batch, tiny_deepbind

from pgx_jax.data.sources import InMemorySource
from pgx_jax.errors import PgxError
from pgx_jax.experiment import Experiment, Predictor
from pgx_jax.train import steps
from pgx_jax.train.loop import fit
from pgx_jax.train.losses import class_weights, link, per_example_loss, weighted_loss
from pgx_jax.train.optim import learning_rate_schedule, make_optimizer
from pgx_jax.train.state import create_train_state

# Jitted once per task: much cheaper than compiling every eager op separately.
_per_example = jax.jit(per_example_loss, static_argnums=0)
_weighted = jax.jit(weighted_loss, static_argnums=0)
_link = jax.jit(link, static_argnums=0)


def _bce(z, y):
    z, y = np.asarray(z, np.float64), np.asarray(y, np.float64)
    return -(y * np.log(1 / (1 + np.exp(-z))) + (1 - y) * np.log(1 / (1 + np.exp(z))))


def _softmax_ce(z, y):
    z = np.asarray(z, np.float64)
    lse = np.log(np.exp(z - z.max(-1, keepdims=True)).sum(-1)) + z.max(-1)
    return lse - z[np.arange(len(y)), y]


# --- per-example losses -----------------------------------------------------------------------


def test_binary_loss_is_bce_with_logits():
    z = np.array([-3.0, -0.5, 0.0, 0.7, 4.0, 30.0], np.float32)
    y = np.array([0, 1, 1, 0, 1, 0], np.float32)
    out = np.asarray(_per_example("binary", jnp.asarray(z), jnp.asarray(y)))
    assert out.shape == (6,)
    np.testing.assert_allclose(out, _bce(z, y), rtol=1e-5)
    assert out[-1] == pytest.approx(30.0, rel=1e-5)  # stable for large logits
    # Integer labels work too.
    np.testing.assert_allclose(
        _per_example("binary", jnp.asarray(z), jnp.asarray(y, jnp.int32)), out, rtol=1e-6
    )


def test_binary_labels_broadcast_over_ensemble_members():
    z = np.array([[-2.0, 0.5, 3.0], [1.0, -1.0, 0.0]], np.float32)  # [B=2, M=3]
    y = np.array([1, 0], np.float32)
    out = np.asarray(_per_example("binary", jnp.asarray(z), jnp.asarray(y)))
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out, _bce(z, y[:, None]), rtol=1e-5)
    # Labels already carrying the member axis give the same loss.
    np.testing.assert_array_equal(_per_example("binary", z, y[:, None]), out)


def test_multiclass_loss_is_softmax_cross_entropy():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(5, 4)).astype(np.float32) * 3
    y = np.array([0, 3, 1, 2, 3])
    out = np.asarray(_per_example("multiclass", jnp.asarray(z), jnp.asarray(y)))
    assert out.shape == (5,)
    np.testing.assert_allclose(out, _softmax_ce(z, y), rtol=1e-5)
    # Float-typed integer labels (as stored in some batches) give the same loss.
    out_f = _per_example("multiclass", jnp.asarray(z), jnp.asarray(y, jnp.float32))
    np.testing.assert_allclose(np.asarray(out_f), out, rtol=1e-6)


def test_multilabel_loss_is_elementwise_bce():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(4, 3)).astype(np.float32) * 2
    y = (rng.random((4, 3)) < 0.5).astype(np.float32)
    out = np.asarray(_per_example("multilabel", jnp.asarray(z), jnp.asarray(y)))
    assert out.shape == (4, 3)
    np.testing.assert_allclose(out, _bce(z, y), rtol=1e-5)


def test_regression_loss_is_squared_error():
    z = np.array([[1.0, -2.0], [0.5, 3.0]], np.float32)
    y = np.array([[0.0, 1.0], [0.5, -1.0]], np.float32)
    out = np.asarray(_per_example("regression", jnp.asarray(z), jnp.asarray(y)))
    np.testing.assert_allclose(out, [[1.0, 9.0], [0.0, 16.0]])
    out1 = _per_example("regression", jnp.array([2.0, -1.0]), jnp.array([1, 1]))
    np.testing.assert_allclose(np.asarray(out1), [1.0, 4.0])


def test_per_example_loss_unknown_task_raises():
    with pytest.raises(ValueError, match="unknown task 'ranking'"):
        per_example_loss("ranking", jnp.zeros(2), jnp.zeros(2))


# --- weighted loss ----------------------------------------------------------------------------


def test_weighted_loss_ignores_weight_zero_rows():
    z = np.array([0.3, -1.2, 50.0, -50.0], np.float32)  # last two are padding with junk outputs
    y = np.array([1, 0, 0, 1], np.float32)
    w = np.array([1, 1, 0, 0], np.float32)
    out = float(_weighted("binary", jnp.asarray(z), jnp.asarray(y), jnp.asarray(w)))
    assert out == pytest.approx(_bce(z[:2], y[:2]).mean(), rel=1e-5)
    # The padding rows get no gradient.
    grad = jax.jit(jax.grad(lambda o: weighted_loss("binary", o, y, w)))(jnp.asarray(z))
    np.testing.assert_array_equal(np.asarray(grad)[2:], 0.0)
    assert np.all(np.asarray(grad)[:2] != 0)


def test_weighted_loss_multiclass_and_regression():
    z = np.array([[2.0, 0.0, -1.0], [0.1, 0.2, 0.3], [9.0, -9.0, 0.0]], np.float32)
    y = np.array([0, 2, 1])
    w = np.array([1, 1, 0], np.float32)
    out = float(_weighted("multiclass", jnp.asarray(z), jnp.asarray(y), jnp.asarray(w)))
    assert out == pytest.approx(_softmax_ce(z[:2], y[:2]).mean(), rel=1e-5)
    # Regression with several outputs and row weights: mean over the kept rows' entries.
    zr = np.array([[1.0, 2.0], [0.0, 0.0], [100.0, 100.0]], np.float32)
    yr = np.array([[0.0, 0.0], [1.0, 3.0], [0.0, 0.0]], np.float32)
    out = float(_weighted("regression", jnp.asarray(zr), jnp.asarray(yr), jnp.asarray(w)))
    assert out == pytest.approx((1 + 4 + 1 + 9) / 4)


def test_weighted_loss_masks_multilabel_entries():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(3, 4)).astype(np.float32)
    y = (rng.random((3, 4)) < 0.5).astype(np.float32)
    w = np.array([[1, 0, 1, 1], [0, 0, 0, 0], [1, 1, 0, 1]], np.float32)
    z_junk = np.where(w > 0, z, 1e4).astype(np.float32)  # masked entries' outputs are ignored
    out = float(_weighted("multilabel", jnp.asarray(z_junk), jnp.asarray(y), jnp.asarray(w)))
    assert out == pytest.approx(_bce(z, y)[w > 0].mean(), rel=1e-5)
    # A [B] row weight broadcasts over the tasks.
    rows = np.array([1, 0, 1], np.float32)
    out = float(_weighted("multilabel", jnp.asarray(z), jnp.asarray(y), jnp.asarray(rows)))
    assert out == pytest.approx(_bce(z, y)[[0, 2]].mean(), rel=1e-5)


def test_weighted_loss_all_zero_weight_is_zero_not_nan():
    out = _weighted("binary", jnp.array([1.0, 2.0]), jnp.array([0.0, 1.0]), jnp.zeros(2))
    assert float(out) == 0.0


# --- link -------------------------------------------------------------------------------------


def test_balanced_class_weights_match_scikit_learn():
    from sklearn.utils.class_weight import compute_class_weight

    for labels in (np.array([0, 0, 0, 1, 0, 1, 0]), np.array([2, 0, 1, 1, 4, 3, 1, 0, 2, 2])):
        task = "binary" if labels.max() == 1 else "multiclass"
        expected = compute_class_weight("balanced", classes=np.unique(labels), y=labels)
        np.testing.assert_allclose(
            class_weights("balanced", task, lambda y=labels: y), expected, rtol=1e-12
        )
    assert class_weights("1,2.5", "binary", lambda: np.array([0.0, 1.0])) == (1.0, 2.5)


def test_partly_balanced_class_weights_are_a_power_of_the_balanced_ones():
    labels = np.array([0, 0, 0, 0, 0, 0, 1, 1])  # balanced: 8/12 and 8/4
    np.testing.assert_allclose(
        class_weights("balanced:0.5", "binary", lambda: labels), (np.sqrt(2 / 3), np.sqrt(2))
    )
    assert class_weights("balanced:0", "binary", lambda: labels) == (1.0, 1.0)
    assert class_weights("balanced:1", "binary", lambda: labels) == class_weights(
        "balanced", "binary", lambda: labels
    )


@pytest.mark.parametrize(
    "spec, task, labels, message",
    [
        ("balanced", "binary", [0, 0, 0], "class 1 has no training example"),
        ("1,2", "multiclass", [0, 1, 2], "2 weights for classes 0..2"),
        ("1,-2", "binary", [0, 1], "non-negative"),
        ("1,x", "binary", [0, 1], "comma-separated numbers"),
        ("balanced:x", "binary", [0, 1], "power after 'balanced:'"),
        ("balanced:-1", "binary", [0, 1], "power after 'balanced:'"),
        ("balanced", "regression", None, "binary or multiclass"),
    ],
)
def test_bad_class_weights_name_the_field(spec, task, labels, message):
    def read_labels():
        assert labels is not None, "labels read for a task that cannot weight classes"
        return np.array(labels)

    with pytest.raises(PgxError, match="config.train.class_weight") as error:
        class_weights(spec, task, read_labels)
    assert message in str(error.value)


def test_class_weight_trains_like_repeating_the_examples_of_the_class():
    tx = make_optimizer(ml_collections.ConfigDict({"name": "adam", "learning_rate": 0.05}), 10)
    batch = tiny_batch(3)
    label = np.asarray(batch["label"])
    repeat = np.where(label == 1, 3, 1)
    repeated = jax.tree.map(lambda x: jnp.repeat(x, repeat, axis=0), batch)
    state = create_train_state(tiny_deepbind(), tx, batch["inputs"], 0)
    weighted, weighted_metrics = steps.train_step(
        state, batch, task="binary", class_weight=(1.0, 3.0)
    )
    plain, plain_metrics = steps.train_step(state, repeated, task="binary")
    np.testing.assert_allclose(weighted_metrics["loss"], plain_metrics["loss"], rtol=1e-5)
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6),
        weighted.params,
        plain.params,
    )
    unweighted, _ = steps.train_step(state, batch, task="binary")
    gap = jax.tree.map(
        lambda a, b: float(jnp.max(jnp.abs(a - b))), weighted.params, unweighted.params
    )
    assert max(jax.tree.leaves(gap)) > 1e-4


def _random_label_experiment(sizes: dict[str, int]) -> Experiment:
    """A binary experiment over random one-hot sequences with alternating labels (nothing to
    learn), one split of each size, drawn in order from seed 0."""
    rng = np.random.default_rng(0)

    def split(n):
        x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (n, 20))]
        return InMemorySource({"x": x, "label": (np.arange(n) % 2).astype(np.float32)})

    def encode(records):
        x = records["x"]
        return {"inputs": {"x": x, "mask": np.ones(x.shape[:2], bool)}, "label": records["label"]}

    return Experiment(
        Predictor(tiny_deepbind(), "binary", encode, ("sensitivity", "specificity")),
        {name: split(n) for name, n in sizes.items()},
    )


def test_fit_tunes_the_threshold_by_the_named_rule(tmp_path):
    """`eval.tune_threshold="balanced"` adds calls at a validation-picked threshold; an
    unknown rule is an error before any training step."""
    experiment = _random_label_experiment({"train": 64, "validation": 32, "test": 32})
    for rule in ("balanced", "bogus"):
        config = ml_collections.ConfigDict(
            {
                "seed": 0,
                "data": {"batch_size": 16, "num_threads": 1},
                "optimizer": {"name": "adam", "learning_rate": 1e-2},
                "train": {"num_steps": 8, "log_every_steps": 8, "eval_every_steps": 8},
                "eval": {"tune_threshold": rule},
            }
        )
        workdir = tmp_path / rule
        if rule == "bogus":
            with pytest.raises(PgxError, match="tune_threshold='bogus'"):
                fit(config, experiment, str(workdir))
            assert not (workdir / "checkpoints").exists() or not any(
                (workdir / "checkpoints").rglob("*")
            )
            continue
        results = fit(config, experiment, str(workdir))
        assert 0.0 < results["test/threshold"] < 1.0
        assert {"test/tuned_sensitivity", "test/tuned_specificity"} <= set(results)


def test_fit_weights_each_class_as_the_config_says(tmp_path):
    """With weight 0 on class 0 only the positives teach the model, so it calls every test
    record positive; unweighted, on labels independent of the sequences, it does not."""
    experiment = _random_label_experiment({"train": 64, "test": 32})
    results = {}
    for spec in ("0,1", ""):
        config = ml_collections.ConfigDict(
            {
                "seed": 0,
                "data": {"batch_size": 16, "num_threads": 1},
                "optimizer": {"name": "adam", "learning_rate": 1e-2},
                "train": {"num_steps": 40, "log_every_steps": 40, "class_weight": spec},
                "eval": {},
            }
        )
        results[spec] = fit(config, experiment, str(tmp_path / (spec or "none")))
    assert results["0,1"]["test/sensitivity"] == 1.0
    assert results["0,1"]["test/specificity"] == 0.0
    assert results[""]["test/specificity"] > 0.2


def test_link_functions():
    z = np.array([[-2.0, 0.0, 3.0], [1.0, 1.0, 1.0]], np.float32)
    sig = 1 / (1 + np.exp(-z.astype(np.float64)))
    np.testing.assert_allclose(np.asarray(_link("binary", jnp.asarray(z[0]))), sig[0], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(_link("multilabel", jnp.asarray(z))), sig, rtol=1e-6)
    e = np.exp(z.astype(np.float64))
    soft = np.asarray(_link("multiclass", jnp.asarray(z)))
    np.testing.assert_allclose(soft, e / e.sum(-1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(soft.sum(-1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(_link("regression", jnp.asarray(z))), z)


# --- learning-rate schedules ------------------------------------------------------------------


def _cfg(**kwargs):
    return ml_collections.ConfigDict({"learning_rate": 0.1, **kwargs})


def _values(schedule, steps):
    return np.asarray(jax.jit(jax.vmap(schedule))(jnp.asarray(steps)), np.float64)


def test_constant_schedule():
    sched = learning_rate_schedule(_cfg(), total_steps=100)
    np.testing.assert_allclose(_values(sched, [0, 1, 50, 100, 1000]), 0.1, rtol=1e-6)
    explicit = learning_rate_schedule(_cfg(schedule="constant"), total_steps=100)
    np.testing.assert_allclose(_values(explicit, [0, 99]), 0.1, rtol=1e-6)


def test_constant_schedule_with_linear_warmup():
    sched = learning_rate_schedule(_cfg(warmup_steps=10), total_steps=100)
    np.testing.assert_allclose(
        _values(sched, [0, 1, 5, 10, 20, 100]), [0.0, 0.01, 0.05, 0.1, 0.1, 0.1], atol=1e-7
    )


def test_cosine_schedule_decays_to_zero():
    sched = learning_rate_schedule(_cfg(schedule="cosine"), total_steps=100)
    expected = [0.1 * 0.5 * (1 + np.cos(np.pi * s / 100)) for s in (0, 25, 50, 75, 100)]
    np.testing.assert_allclose(_values(sched, [0, 25, 50, 75, 100]), expected, atol=1e-7)
    np.testing.assert_allclose(_values(sched, [100, 500]), 0.0, atol=1e-7)


def test_warmup_cosine_schedule():
    sched = learning_rate_schedule(_cfg(schedule="warmup_cosine", warmup_steps=10), total_steps=110)
    np.testing.assert_allclose(
        _values(sched, [0, 5, 10, 60, 110]), [0.0, 0.05, 0.1, 0.05, 0.0], atol=1e-7
    )
    # Warmup on "cosine" too.
    same = learning_rate_schedule(_cfg(schedule="cosine", warmup_steps=10), total_steps=110)
    np.testing.assert_allclose(_values(same, [0, 5, 60]), [0.0, 0.05, 0.05], atol=1e-7)


def test_exponential_schedule():
    sched = learning_rate_schedule(
        _cfg(schedule="exponential", decay_steps=10, decay_rate=0.5), total_steps=100
    )
    np.testing.assert_allclose(
        _values(sched, [0, 5, 10, 20, 30]),
        [0.1, 0.1 * 0.5**0.5, 0.05, 0.025, 0.0125],
        rtol=1e-5,
    )


def test_unknown_schedule_raises_pgx_error():
    with pytest.raises(PgxError, match=r"config\.optimizer\.schedule: unknown schedule 'linear'"):
        learning_rate_schedule(_cfg(schedule="linear"), total_steps=10)


# --- optimisers -------------------------------------------------------------------------------


def _update(cfg, grads, params, steps=1):
    tx = make_optimizer(cfg, total_steps=100)

    @jax.jit
    def run(grads, params):
        state = tx.init(params)
        for _ in range(steps):
            updates, state = tx.update(grads, state, params)
        return updates

    return run(grads, params)


def _norm(tree):
    return float(np.sqrt(sum(np.sum(np.square(np.asarray(x))) for x in jax.tree.leaves(tree))))


def test_grad_clipping_bounds_the_update_norm():
    params = {"w": jnp.zeros(3), "b": jnp.zeros(2)}
    direction = {"w": jnp.array([3.0, -1.0, 2.0]), "b": jnp.array([0.5, -4.0])}
    unit = jax.tree.map(lambda g: g / _norm(direction), direction)
    huge = jax.tree.map(lambda g: 1e4 * g, direction)
    cfg = _cfg(name="sgd", momentum=0.0, grad_clip_norm=1.0)
    from_huge = _update(cfg, huge, params)
    from_unit = _update(cfg, unit, params)
    assert _norm(from_huge) == pytest.approx(0.1, rel=1e-5)
    for a, b in zip(jax.tree.leaves(from_huge), jax.tree.leaves(from_unit), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-8)
    # A gradient below the threshold is not rescaled: plain sgd step -lr * g.
    small = jax.tree.map(lambda g: 0.5 * g, unit)
    from_small = _update(cfg, small, params)
    expected = -0.1 * np.asarray(small["w"])
    np.testing.assert_allclose(np.asarray(from_small["w"]), expected, rtol=1e-6)
    # Without clipping the huge gradient passes through.
    unclipped = _update(_cfg(name="sgd", momentum=0.0), huge, params)
    assert _norm(unclipped) == pytest.approx(0.1 * _norm(huge), rel=1e-5)


def test_sgd_default_momentum():
    params = {"w": jnp.zeros(2)}
    grads = {"w": jnp.array([1.0, -2.0])}
    second = _update(_cfg(name="sgd"), grads, params, steps=2)
    # Momentum 0.9: the second step is -lr * (g + 0.9 g).
    expected = -0.1 * 1.9 * np.array([1.0, -2.0])
    np.testing.assert_allclose(np.asarray(second["w"]), expected, rtol=1e-6)


def test_weight_decay_changes_adam_update():
    params = {"w": jnp.array([-1.0, 1.0, 0.0])}
    grads = {"w": jnp.array([0.01, -0.01, 0.02])}
    plain = np.asarray(_update(_cfg(name="adam"), grads, params)["w"])
    # First adam step is -lr * g / (|g| + eps): a sign step.
    np.testing.assert_allclose(plain, [-0.1, 0.1, -0.1], rtol=1e-4)
    # Coupled L2: the decay term joins the gradient before adam (g + 0.1 * p flips signs).
    decayed = np.asarray(_update(_cfg(name="adam", weight_decay=0.1), grads, params)["w"])
    np.testing.assert_allclose(decayed, [0.1, -0.1, -0.1], rtol=1e-4)
    # adamw: decoupled decay added after the adaptive step, -lr * (step + wd * p).
    adamw = np.asarray(_update(_cfg(name="adamw", weight_decay=0.1), grads, params)["w"])
    np.testing.assert_allclose(adamw, [-0.1 + 0.01, 0.1 - 0.01, -0.1], rtol=1e-4)


def test_other_optimizers_build_and_step():
    params = {"w": jnp.ones(2)}
    grads = {"w": jnp.array([1.0, -1.0])}
    for name in ("rmsprop", "sgd", "adam", "adamw"):
        updates = _update(_cfg(name=name, grad_clip_norm=1.0), grads, params)
        assert np.all(np.isfinite(np.asarray(updates["w"])))
        assert np.all(np.sign(np.asarray(updates["w"])) == [-1, 1])


def test_unknown_optimizer_raises_pgx_error():
    with pytest.raises(PgxError, match=r"config\.optimizer\.name: unknown optimizer 'lamb'"):
        make_optimizer(_cfg(name="lamb"), total_steps=10)
