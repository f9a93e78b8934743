"""DeepLIFT / DeepSHAP (pgx_jax/interpret/deeplift.py) on small models with random weights:
the summation property (contributions sum to f(x) - mean f(r)) on DeepBind (one strand and
both), a multi-task Basset (batch norm, max pooling, three conv layers), the multi-task CNN and
BPNet's count and profile outputs; the rescale multiplier of one ReLU unit against its hand
computation; actual contributions = hypothetical x one-hot; dinucleotide-shuffled references;
refusal of a product of two input-dependent values. (Agreement with tangermeme on trained
DeepBind weights: benchmarks/deeplift_vs_tangermeme.py, docs/interpretation.md.)"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pgx_jax.data.shuffle import dinucleotide_counts
from pgx_jax.errors import PgxError
from pgx_jax.interpret import deeplift
from pgx_jax.interpret.mutagenesis import model_score_fn
from pgx_jax.models import create_model

LENGTH = 48


def _sequences(n: int, length: int = LENGTH, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.eye(4, dtype=np.float32)[rng.integers(0, 4, (n, length))]


def _score_fn(name: str, output_index: int | None = None, length: int = LENGTH, **kwargs):
    model = create_model(name, **kwargs)
    x = np.zeros((1, length, 4), np.float32)
    variables = model.init(jax.random.key(1), x)
    if "batch_stats" in variables:  # running statistics away from (0, 1), as after training
        variables = jax.tree_util.tree_map(lambda v: v, dict(variables))
        key = iter(jax.random.split(jax.random.key(2), 100))
        variables["batch_stats"] = jax.tree_util.tree_map(
            lambda v: v + 0.3 * jax.random.uniform(next(key), v.shape), variables["batch_stats"]
        )
    return model_score_fn(model, variables, {"x": x}, output_index)


def _check_summation(score_fn, length: int = LENGTH, n: int = 3, shuffles: int = 6):
    x = _sequences(n, length)
    refs = deeplift.shuffled_references(x, shuffles, seed=3)
    hyp = deeplift.deep_lift_shap(score_fn, x, refs, chunk_size=2)
    assert hyp.shape == x.shape
    total = (hyp * x).sum(axis=(1, 2))
    f_x = np.asarray(score_fn(jnp.asarray(x)))
    f_r = np.asarray(jax.vmap(score_fn)(jnp.asarray(refs))).mean(axis=1)
    scale = max(1.0, float(np.abs(f_x - f_r).max()))
    np.testing.assert_allclose(total, f_x - f_r, atol=2e-5 * scale)
    assert np.abs(f_x - f_r).max() > 1e-3  # a non-trivial difference to explain


@pytest.mark.parametrize("rc", [False, True])
def test_deepbind_contributions_sum_to_the_difference_from_the_references(rc):
    score_fn = _score_fn(
        "deepbind", num_filters=8, filter_width=9, hidden=16, reverse_complement=rc
    )
    _check_summation(score_fn)


def test_multitask_basset_contributions_sum_for_a_chosen_task():
    kwargs = dict(num_tasks=3, filters=(8, 8, 8), widths=(7, 5, 3), pools=(2, 2, 2), hidden=(16,))
    _check_summation(_score_fn("basset", output_index=2, length=64, **kwargs), length=64)


def test_multitask_cnn_with_strand_maximum_sums():
    score_fn = _score_fn("multitask_cnn", output_index=1, num_tasks=2, num_filters=8,
                         kernel_size=7, hidden=8)  # fmt: skip
    _check_summation(score_fn)


def test_bpnet_count_output_sums():
    score_fn = _score_fn(
        "bpnet", num_tasks=2, filters=8, layers=2, first_width=7, profile_width=5,
        profile_length=32, output_index=1,
    )  # fmt: skip
    _check_summation(score_fn)


def test_bpnet_profile_output_sums_with_the_sequences_own_weights():
    """bpnet-lite's profile target: softmax weights under stop_gradient are the sequence's
    own on both sides, so the sum is sum_p w_x (y_x - y_r) (y: mean-centred logits)."""
    model = create_model("bpnet", num_tasks=2, filters=8, layers=2, first_width=7,
                         profile_width=5, profile_length=32)  # fmt: skip
    x = _sequences(3)
    variables = model.init(jax.random.key(1), x[:1])
    score_fn = model_score_fn(model, variables, {"x": x[:1]}, output_index=1, profile=True)
    refs = deeplift.shuffled_references(x, 6, seed=3)
    total = (deeplift.deep_lift_shap(score_fn, x, refs, chunk_size=2) * x).sum(axis=(1, 2))

    def centred(v):
        logits = np.asarray(model.apply(variables, x=jnp.asarray(v)))[..., :-1, 1]
        return logits - logits.mean(axis=-1, keepdims=True)

    y_x, y_r = centred(x), centred(refs.reshape(-1, LENGTH, 4)).reshape(3, 6, -1)
    w_x = np.exp(y_x) / np.exp(y_x).sum(axis=-1, keepdims=True)
    expected = (w_x * y_x).sum(-1) - (w_x[:, None] * y_r).sum(-1).mean(-1)
    np.testing.assert_allclose(np.asarray(score_fn(jnp.asarray(x))), (w_x * y_x).sum(-1),
                               rtol=1e-5)  # fmt: skip
    np.testing.assert_allclose(total, expected, atol=2e-5 * max(1.0, np.abs(expected).max()))
    assert np.abs(expected).max() > 1e-3


def test_one_relu_unit_has_the_rescale_multiplier():
    """f(x) = relu(w . x + b): DeepLIFT's multiplier is w (relu(z) - relu(z_r)) / (z - z_r)."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=(10, 4)).astype(np.float32)

    def score(x):
        return jax.nn.relu(jnp.einsum("blk,lk->b", x, w) + 0.1)

    x, r = _sequences(1, 10, seed=1)[0], _sequences(1, 10, seed=2)[0]
    z, z_r = float((w * x).sum() + 0.1), float((w * r).sum() + 0.1)
    assert (z > 0) != (z_r > 0)  # the plain gradient would be 0 or w, not their slope
    m = deeplift.multipliers_fn(score, (10, 4))(jnp.asarray(x), jnp.asarray(r))
    want = w * (max(z, 0) - max(z_r, 0)) / (z - z_r)
    np.testing.assert_allclose(np.asarray(m), want, rtol=1e-5)


def test_actual_contributions_are_hypothetical_times_one_hot():
    score_fn = _score_fn("deepbind", num_filters=4, filter_width=5, hidden=8)
    x = _sequences(2)
    refs = deeplift.shuffled_references(x, 4, seed=0)
    hyp = deeplift.deep_lift_shap(score_fn, x, refs)
    m = jax.vmap(jax.vmap(deeplift.multipliers_fn(score_fn, x.shape[1:]), (None, 0)))(
        jnp.asarray(x), jnp.asarray(refs)
    )
    actual = (np.asarray(m) * (x[:, None] - refs)).sum(axis=-1).mean(axis=1)  # [N, L]
    np.testing.assert_allclose((hyp * x).sum(axis=-1), actual, atol=1e-6)
    # A letter's hypothetical contribution is what the score would gain with it there.
    gain = np.asarray(m)[..., None, :] * (np.eye(4) - refs[..., None, :])  # [N, R, L, k, c]
    np.testing.assert_allclose(hyp, gain.sum(-1).mean(1), atol=1e-6)


def test_references_are_dinucleotide_shuffles_of_each_sequence():
    x = _sequences(2, 30)
    refs = deeplift.shuffled_references(x, 3, seed=5)
    assert refs.shape == (2, 3, 30, 4)
    np.testing.assert_array_equal(refs, deeplift.shuffled_references(x, 3, seed=5))
    text = lambda a: "".join("ACGT"[i] for i in a.argmax(-1))  # noqa: E731
    for i in range(2):
        for j in range(3):
            assert dinucleotide_counts(text(refs[i, j])) == dinucleotide_counts(text(x[i]))
    assert not np.array_equal(refs[0, 0], x[0])


def test_a_product_of_two_input_dependent_values_is_refused():
    with pytest.raises(PgxError, match="mul"):
        deeplift.deep_lift_shap(lambda x: (x * x).sum((1, 2)), _sequences(1, 8), n_shuffles=2)
