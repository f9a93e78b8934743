"""Sequence design on a hand-built JAX model (a random PWM, max over windows, and the count of
G as a second task): greedy evolution equals brute force for one edit; both methods raise (or
lower) the score with at most k edits and never edit a fixed position; holding a task keeps it;
random edits make exactly the asked number. `pgx design` end to end on a small trained run is
in `test_grammar.py`'s run fixture (one run serves both)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pgx_jax.interpret import design

LENGTH, WIDTH = 24, 6
PWM = np.random.default_rng(0).normal(size=(WIDTH, 4)).astype(np.float32)


def outputs(x: jax.Array) -> jax.Array:
    """[B, 2]: the best PWM window score, and the number of G."""
    windows = jnp.stack([x[:, i : i + WIDTH] for i in range(LENGTH - WIDTH + 1)], axis=1)
    best = jnp.einsum("bnwk,wk->bn", windows, PWM).max(axis=1)
    return jnp.stack([best, x[..., 2].sum(-1)], axis=-1)


def _starts(count: int, seed: int) -> np.ndarray:
    letters = np.random.default_rng(seed).integers(0, 4, (count, LENGTH))
    return np.eye(4, dtype=np.float32)[letters]


def _objective(x, x0, goal=design.Goal()) -> np.ndarray:
    return np.asarray(goal.objective(outputs(jnp.asarray(x)), outputs(jnp.asarray(x0))))


def test_evolve_with_one_edit_is_the_brute_force_best_substitution():
    x0 = _starts(4, 1)
    fixed = np.zeros(x0.shape[:2], bool)
    got = design.evolve(outputs, design.Goal(), x0, fixed, max_edits=1, chunk_size=7)
    for s in range(len(x0)):
        best, best_value = x0[s], _objective(x0[s : s + 1], x0[s : s + 1])[0]
        for i in range(LENGTH):
            for k in range(4):
                mutant = x0[s].copy()
                mutant[i] = np.eye(4)[k]
                value = _objective(mutant[None], x0[s : s + 1])[0]
                if value > best_value:
                    best, best_value = mutant, value
        np.testing.assert_array_equal(got[s], best)


@pytest.mark.parametrize("method", ["evolve", "gradient"])
@pytest.mark.parametrize("direction", [1.0, -1.0])
def test_design_moves_the_score_within_k_edits_and_keeps_fixed_positions(method, direction):
    x0 = _starts(6, 2)
    fixed = np.random.default_rng(3).random(x0.shape[:2]) < 0.3
    goal = design.Goal(direction=direction)
    if method == "evolve":
        got = design.evolve(outputs, goal, x0, fixed, max_edits=3)
    else:
        settings = design.GradientSettings(steps=150, learning_rate=0.3, seed=1)
        got = design.gradient_design(outputs, goal, x0, fixed, 3, settings)
    assert np.all(design.edit_counts(got, x0) <= 3)
    np.testing.assert_array_equal(got[fixed], x0[fixed])
    np.testing.assert_allclose(got.sum(-1), 1.0)  # still one letter per position
    change = np.asarray(outputs(got) - outputs(x0))[:, 0] * direction
    assert np.all(change >= 0) and change.mean() > 1.0


def test_holding_a_task_keeps_it_nearer_its_start():
    x0 = _starts(6, 4)
    fixed = np.zeros(x0.shape[:2], bool)
    free = design.evolve(outputs, design.Goal(), x0, fixed, max_edits=4)
    held = design.evolve(outputs, design.Goal(hold=10.0), x0, fixed, max_edits=4)
    moved = [np.abs(np.asarray(outputs(x) - outputs(x0))[:, 1]).sum() for x in (free, held)]
    assert moved[1] == 0 < moved[0]


def test_random_edits_make_the_asked_number_at_free_positions():
    x0 = _starts(5, 5)
    fixed = np.random.default_rng(6).random(x0.shape[:2]) < 0.5
    counts = [0, 1, 2, 3, 4]
    got = design.random_edits(x0, fixed, counts, np.random.default_rng(7))
    np.testing.assert_array_equal(design.edit_counts(got, x0), counts)
    np.testing.assert_array_equal(got[fixed], x0[fixed])
