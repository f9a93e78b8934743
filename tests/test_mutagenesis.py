"""In-silico mutagenesis and saliency on DeepBind models with random parameters: the mutation
map's shape and zero reference entries, batched ISM equal to a per-mutant loop, strand
symmetry of an RC-shared model, integrated-gradients completeness. (`pgx mutagenesis` on a
trained run: tests/test_score_variants.py.)"""

import jax
import numpy as np
import pytest

from pgx_jax.data.alphabets import DNA, one_hot, reverse_complement_one_hot
from pgx_jax.interpret import mutagenesis as ism
from pgx_jax.models import create_model

LENGTH = 60


def _model(reverse_complement: bool = False, seed: int = 0):
    model = create_model(
        "deepbind", num_filters=8, filter_width=9, hidden=16, reverse_complement=reverse_complement
    )
    variables = model.init(jax.random.key(seed), np.zeros((1, LENGTH, 4), np.float32))
    return model, variables


def _sequence(seed: int = 0, length: int = LENGTH) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x, _ = one_hot(["".join(rng.choice(list("ACGT"), length))], DNA)
    return x[0]


def _score_fn(reverse_complement: bool = False):
    model, variables = _model(reverse_complement)
    return ism.model_score_fn(model, variables, {"x": np.zeros((1, LENGTH, 4), np.float32)})


def test_mutation_map_has_one_row_per_position_and_zeros_at_the_reference():
    x = _sequence()
    effects = ism.mutation_map(_score_fn(), x)
    assert effects.shape == (LENGTH, 4)
    assert np.all(effects[x == 1] == 0.0)
    assert np.count_nonzero(effects[x == 0]) >= 0.9 * 3 * LENGTH


def test_all_substitutions_change_one_base_each():
    x = _sequence(length=7)
    mutants = np.asarray(ism.all_substitutions(x))
    assert mutants.shape == (28, 7, 4)
    for i in range(7):
        for k in range(4):
            expected = x.copy()
            expected[i] = np.eye(4)[k]
            np.testing.assert_array_equal(mutants[i * 4 + k], expected)


def test_batched_map_equals_a_per_mutant_loop():
    score_fn = _score_fn()
    single = jax.jit(lambda v: score_fn(v[None])[0])
    x = _sequence(1)
    reference = float(single(x))
    loop = np.zeros_like(x)
    for i in range(LENGTH):
        for k in range(4):
            if x[i, k] == 1:
                continue
            mutant = x.copy()
            mutant[i] = np.eye(4)[k]
            loop[i, k] = float(single(mutant)) - reference
    for chunk_size in (None, 64):  # one batch; chunks inside the call (jax.lax.map)
        np.testing.assert_allclose(
            ism.mutation_map(score_fn, x, chunk_size=chunk_size), loop, rtol=1e-4, atol=1e-5
        )


def test_rc_shared_model_map_of_the_reverse_complement_is_the_flipped_map():
    score_fn = _score_fn(reverse_complement=True)
    x = _sequence(2)
    flipped = np.asarray(reverse_complement_one_hot(x))
    np.testing.assert_allclose(score_fn(flipped[None]), score_fn(x[None]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        ism.mutation_map(score_fn, flipped),
        np.asarray(reverse_complement_one_hot(ism.mutation_map(score_fn, x))),
        rtol=1e-4,
        atol=1e-5,
    )


def test_gradient_x_input_is_the_gradient_at_the_present_letters():
    score_fn = _score_fn()
    x = _sequence(3)
    attributions = ism.gradient_x_input(score_fn, x)
    gradient = np.asarray(jax.grad(lambda v: score_fn(v[None])[0])(x))
    assert attributions.shape == (LENGTH, 4)
    np.testing.assert_allclose(attributions, gradient * x, rtol=1e-6)
    assert np.all(attributions[x == 0] == 0.0)


@pytest.mark.parametrize("kind", ["zero", "uniform"])
def test_integrated_gradients_sum_to_the_score_difference(kind):
    score_fn = _score_fn()
    x = _sequence(4)
    base = ism.baseline(x, kind)
    attributions = ism.integrated_gradients(score_fn, x, base, steps=256)
    assert attributions.shape == (LENGTH, 4)
    gap = float(score_fn(x[None])[0] - score_fn(base[None])[0])
    assert abs(gap) > 1e-3
    assert attributions.sum() == pytest.approx(gap, rel=0.02, abs=1e-4)
