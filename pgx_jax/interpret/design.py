"""Sequence design: edit one-hot starts [S, L, K] so a model's output for one task goes up (or
down) with at most `max_edits` substitutions, fixed positions untouched, other tasks held by a
penalty when asked. Two methods, each batched over all starts:

- `evolve` (greedy in-silico evolution, as gReLU's `evolve`): each round scores every single
  substitution of every start in one jitted call and takes each start's best allowed one
  while it improves the objective; `max_edits` rounds.
- `gradient_design` (as ledidi): logits log(x0 + eps) + W over the sequence, W learnt with
  Adam through straight-through hard Gumbel-softmax samples, the objective minus a penalty per
  edit; the result is the best sample seen within `max_edits` edits or the final logits'
  argmax projected onto its `max_edits` most confident edits, whichever scores higher.

Both work on `outputs_fn(x [B, L, K]) -> [B, T]`, the model's raw outputs (logits), and a
`Goal`: objective = direction * output[task] - hold * sum over other tasks of
|output - the start's output|.
"""

import dataclasses
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from pgx_jax.interpret.mutagenesis import CHUNK_SIZE, all_substitutions, model_score_fn

OutputsFn = Callable[[jax.Array], jax.Array]


@dataclasses.dataclass(frozen=True)
class Goal:
    """Raise (`direction` +1) or lower (-1) output `task`; `hold` weighs other tasks' change."""

    task: int = 0
    direction: float = 1.0
    hold: float = 0.0

    def objective(self, outputs: jax.Array, start: jax.Array) -> jax.Array:
        """[B] objective of raw outputs [B, T] against the starts' outputs [B, T]."""
        others = jnp.arange(outputs.shape[-1]) != self.task
        change = jnp.abs(outputs - start) * others
        return self.direction * outputs[:, self.task] - self.hold * change.sum(axis=-1)


def model_outputs_fn(model, variables: dict, inputs: dict, num_outputs: int) -> OutputsFn:
    """`x [B, L, K] -> [B, T]`: the model's raw output for each of its `num_outputs` outputs
    (`mutagenesis.model_score_fn` per output; under jit XLA computes the model once)."""
    fns = [model_score_fn(model, variables, inputs, t) for t in range(num_outputs)]
    return lambda x: jnp.stack([fn(x) for fn in fns], axis=-1)


def num_outputs(model, variables: dict, inputs: dict) -> int:
    """How many outputs `model_score_fn` can pick from (a profile model's tracks), from the
    output's shape alone (`jax.eval_shape`, nothing computed)."""
    shape = jax.eval_shape(lambda v: model.apply(variables, **v, train=False), inputs).shape
    return shape[-1] if len(shape) > 1 else 1


def edit_counts(x: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """[S] number of positions where one-hot `x` differs from `x0`."""
    return (np.asarray(x).argmax(-1) != np.asarray(x0).argmax(-1)).sum(-1)


def _best_substitution(outputs_fn: OutputsFn, goal: Goal, max_edits: int, chunk_size: int):
    """Jitted `(x, x0, start_outputs, fixed) -> x` after each start's best allowed single
    substitution (unchanged where none improves the objective)."""

    def step(x, x0, start, fixed):
        s, length, k = x.shape
        mutants = jax.vmap(all_substitutions)(x)  # [S, L*K, L, K]
        flat = mutants.reshape(s * length * k, length, k)
        outputs = jax.lax.map(lambda m: outputs_fn(m[None])[0], flat, batch_size=chunk_size)
        starts = jnp.repeat(start, length * k, axis=0)
        gains = goal.objective(outputs, starts).reshape(s, length, k)
        gains = gains - goal.objective(outputs_fn(x), start)[:, None, None]
        edits = (x.argmax(-1) != x0.argmax(-1)).sum(-1)  # [S]
        edited = x.argmax(-1) != x0.argmax(-1)  # [S, L]
        back = x0 == 1  # letter k at i restores the start's letter
        after = edits[:, None, None] + jnp.where(edited[..., None], -back.astype(jnp.int32), 1)
        allowed = (x == 0) & ~fixed[..., None] & (after <= max_edits)
        gains = jnp.where(allowed, gains, -jnp.inf).reshape(s, length * k)
        best = gains.argmax(-1)
        better = jnp.take_along_axis(gains, best[:, None], -1)[:, 0] > 0
        chosen = jnp.take_along_axis(mutants, best[:, None, None, None], 1)[:, 0]
        return jnp.where(better[:, None, None], chosen, x)

    return jax.jit(step)


def evolve(
    outputs_fn: OutputsFn,
    goal: Goal,
    x0: np.ndarray,
    fixed: np.ndarray,
    max_edits: int,
    chunk_size: int = CHUNK_SIZE,
) -> np.ndarray:
    """Greedy designs [S, L, K] of one-hot starts `x0` with `fixed` [S, L] positions kept."""
    x0 = jnp.asarray(x0, jnp.float32)
    fixed = jnp.asarray(fixed, bool)
    start = outputs_fn(x0)
    step = _best_substitution(outputs_fn, goal, max_edits, chunk_size)
    x = x0
    for _ in range(max_edits):
        x = step(x, x0, start, fixed)
    return np.asarray(x)


@dataclasses.dataclass(frozen=True)
class GradientSettings:
    """ledidi's knobs: Adam steps and rate, penalty per edit, Gumbel samples per start, seed.
    The rate and penalty were chosen on the default run (30 random starts, 5 edits: penalties
    0.1, 0.3, 0.5, 1, 2 gave mean probabilities 0.56, 0.95, 0.97, 0.99, 0.40)."""

    steps: int = 300
    learning_rate: float = 0.3
    edit_penalty: float = 1.0
    samples: int = 8
    seed: int = 0
    eps: float = 1e-4


def _sample(logits: jax.Array, key: jax.Array, samples: int) -> jax.Array:
    """[N, S, L, K] straight-through hard Gumbel-softmax samples of logits [S, L, K]."""
    gumbel = jax.random.gumbel(key, (samples, *logits.shape))
    soft = jax.nn.softmax(logits[None] + gumbel, axis=-1)
    hard = jax.nn.one_hot(soft.argmax(-1), logits.shape[-1], dtype=soft.dtype)
    return soft + jax.lax.stop_gradient(hard - soft)


def _optimise(outputs_fn: OutputsFn, goal: Goal, max_edits: int, settings: GradientSettings):
    """Jitted `(x0, fixed) -> (logits, best feasible sample, its objective)` after
    `settings.steps` Adam steps."""
    optimizer = optax.adam(settings.learning_rate)

    def run(x0, fixed):
        base = jnp.log(x0 + settings.eps)
        start = outputs_fn(x0)

        def samples_of(w, key):
            x = _sample(base + jnp.where(fixed[..., None], 0.0, w), key, settings.samples)
            x = jnp.where(fixed[None, ..., None], x0[None], x)
            n, s = x.shape[:2]
            objective = goal.objective(
                outputs_fn(x.reshape(n * s, *x.shape[2:])), jnp.tile(start, (n, 1))
            ).reshape(n, s)
            edits = (x.shape[2] - (x * x0[None]).sum((-1, -2))).reshape(n, s)
            return x, objective, edits

        def loss(w, key):
            x, objective, edits = samples_of(w, key)
            value = (settings.edit_penalty * edits - objective).mean(0).sum()
            return value, (x, objective, edits)

        def step(carry, key):
            w, opt_state, best, best_objective = carry
            grads, (x, objective, edits) = jax.grad(loss, has_aux=True)(w, key)
            objective = jnp.where(edits <= max_edits + 0.5, objective, -jnp.inf)
            pick = objective.argmax(0)  # [S]
            top = jnp.take_along_axis(objective, pick[None], 0)[0]
            sample = jnp.take_along_axis(x, pick[None, :, None, None], 0)[0]
            best = jnp.where((top > best_objective)[:, None, None], sample, best)
            best_objective = jnp.maximum(top, best_objective)
            updates, opt_state = optimizer.update(grads, opt_state, w)
            return (optax.apply_updates(w, updates), opt_state, best, best_objective), None

        w = jnp.zeros_like(x0)
        carry = (w, optimizer.init(w), x0, goal.objective(start, start))
        keys = jax.random.split(jax.random.key(settings.seed), settings.steps)
        (w, _, best, best_objective), _ = jax.lax.scan(step, carry, keys)
        return base + jnp.where(fixed[..., None], 0.0, w), best, best_objective

    return jax.jit(run)


def project(logits: np.ndarray, x0: np.ndarray, max_edits: int) -> np.ndarray:
    """The argmax of `logits` [S, L, K] keeping only its `max_edits` edits from `x0` with the
    largest margin over the start's letter."""
    logits, x0 = np.asarray(logits), np.asarray(x0)
    letters = logits.argmax(-1)
    margin = logits.max(-1) - (logits * x0).sum(-1)
    margin[letters == x0.argmax(-1)] = -np.inf
    keep = np.zeros_like(letters, dtype=bool)
    ranked = np.argsort(-margin, axis=-1)[:, :max_edits]
    np.put_along_axis(keep, ranked, True, axis=-1)
    keep &= np.isfinite(margin)
    chosen = np.eye(x0.shape[-1], dtype=x0.dtype)[letters]
    return np.where(keep[..., None], chosen, x0)


def gradient_design(
    outputs_fn: OutputsFn,
    goal: Goal,
    x0: np.ndarray,
    fixed: np.ndarray,
    max_edits: int,
    settings: GradientSettings = GradientSettings(),
) -> np.ndarray:
    """Designs [S, L, K] by the relaxed one-hot method (module docstring)."""
    x0 = jnp.asarray(x0, jnp.float32)
    fixed = jnp.asarray(fixed, bool)
    logits, best, best_objective = _optimise(outputs_fn, goal, max_edits, settings)(x0, fixed)
    projected = jnp.asarray(project(np.asarray(logits), np.asarray(x0), max_edits))
    projected = jnp.where(fixed[..., None], x0, projected)
    start = outputs_fn(x0)
    better = goal.objective(outputs_fn(projected), start) > best_objective
    return np.asarray(jnp.where(better[:, None, None], projected, best))


def random_edits(
    x0: np.ndarray, fixed: np.ndarray, counts: Sequence[int], rng: np.random.Generator
) -> np.ndarray:
    """`counts[s]` substitutions of start s at random free positions, each to a random other
    letter: the baseline a design's edits are compared with."""
    x = np.array(x0, copy=True)
    k = x.shape[-1]
    for s, count in enumerate(counts):
        free = np.flatnonzero(~np.asarray(fixed[s], bool))
        for i in rng.choice(free, size=min(int(count), len(free)), replace=False):
            letter = (x[s, i].argmax() + rng.integers(1, k)) % k
            x[s, i] = np.eye(k, dtype=x.dtype)[letter]
    return x


def random_starts(count: int, length: int, rng: np.random.Generator) -> list[str]:
    """`count` uniformly random DNA sequences of `length` bases."""
    letters = np.array(list("ACGT"))
    return ["".join(row) for row in letters[rng.integers(0, 4, (count, length))]]
