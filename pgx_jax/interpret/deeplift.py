"""DeepLIFT (rescale rule) and DeepSHAP over dinucleotide-shuffled references, with the
hypothetical contributions TF-MoDISco reads.

How the rule reaches the models. DeepLIFT replaces the gradient of each nonlinearity by
(f(x) - f(r)) / (x - r), the change of its output over the change of its input between the
sequence and a reference. tangermeme and captum hook the `nn.ReLU`/`nn.MaxPool1d` modules of a
PyTorch model for that. The Flax models here apply `nn.relu`, `nn.max_pool` and `jnp.max` as
plain functions, which `nn.intercept_methods` (modules only) does not see, and a module-level
activation switch would have to be threaded through every model. So the rule is applied one
level lower, to the score function's jaxpr: `jax.make_jaxpr` traces it once, and `_evaluate`
runs the equations on the sequence and on its reference side by side; linear primitives run
as they are, elementwise nonlinearities (`max` with a constant: ReLU; `logistic`, `tanh`,
`exp`, ...) and max reductions (`reduce_max`: global max pooling; `reduce_window_max`: max
pooling) run through `jax.custom_vjp` rules whose backward pass uses the reference values.
Any model built from these primitives is covered without a change, and a primitive the rules
do not cover (a product of two input-dependent values) is refused by name. A value under
`stop_gradient` (and whatever only it needs) is the sequence's own on both sides, a constant:
so the profile target (`mutagenesis.model_score_fn(..., profile=True)`) is explained against
its references with the sequence's softmax weights, and its sum is exact. The rules are
tangermeme's (`_nonlinear`, `_maxpool`, copied there from captum), so the two agree on the
same weights (`benchmarks/deeplift_vs_tangermeme.py`). The maximum of two input-dependent
values (the strand maximum of a reverse-complement `OneHotConv`) is b + relu(a - b), the
ReLU rescaled.

The multipliers m of one (sequence, reference) pair are the gradient of this rewritten
function; the hypothetical contribution of letter k at position l is sum_c m[l, c]
(e_k[c] - r[l, c]) (what the score would gain with k there), averaged over the references;
the actual contributions are hypothetical * one-hot, and they sum to f(x) - mean f(r).
"""

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core

from pgx_jax.data.shuffle import dinucleotide_shuffle
from pgx_jax.errors import PgxError

ScoreFn = Callable[[jax.Array], jax.Array]

NONLINEAR_EPS = 1e-6
POOL_EPS = 1e-7
"""Below these input differences a rule falls back to the plain gradient (tangermeme's)."""

UNARY = {
    "logistic", "tanh", "exp", "exp2", "log", "log1p", "expm1", "sqrt", "rsqrt", "cbrt",
    "erf", "erfc", "integer_pow", "abs", "square", "sin", "cos", "atan", "pow", "max", "min",
}  # fmt: skip
"""Elementwise nonlinearities rescaled when one operand depends on the input."""
POOLS = {"reduce_max", "reduce_window_max"}
BILINEAR = {"mul", "div", "dot_general", "conv_general_dilated"}
"""Linear in each operand; these and UNARY are refused when two operands depend on the input
(max and min excepted)."""
STOP = "stop_gradient"
"""Its value is a constant of the sequence: the sequence's own on both sides, no gradient
(bpnet-lite's profile target weighs logits by their detached softmax)."""
CALLS = {"jit", "pjit", "closed_call", "custom_jvp_call", "custom_vjp_call", "checkpoint"}
"""Call-like primitives, whose inner program (`jaxpr` or `call_jaxpr`) runs inline."""


def _rescaled(f: Callable) -> Callable:
    """f(x) whose gradient at x is g * (f(x) - f(r)) / (x - r) (the plain gradient where
    |x - r| < NONLINEAR_EPS); the reference r gets none."""

    @jax.custom_vjp
    def rule(x, r):
        return f(x)

    def forward(x, r):
        return f(x), (x, r)

    def backward(residuals, g):
        x, r = residuals
        fx, vjp = jax.vjp(f, x)
        delta = x - r
        near = jnp.abs(delta) < NONLINEAR_EPS
        ratio = (fx - f(r)) / jnp.where(near, 1.0, delta)
        return jnp.where(near, vjp(g)[0], g * ratio), jnp.zeros_like(r)

    rule.defvjp(forward, backward)
    return rule


def _pooled(pool: Callable) -> Callable:
    """A max pooling whose gradient is tangermeme's (captum's) rule: g * (max(y, y_r) - y_r)
    sent to the sequence's maxima plus g * (y - max(y, y_r)) to the reference's, over x - r."""

    @jax.custom_vjp
    def rule(x, r):
        return pool(x)

    def forward(x, r):
        return pool(x), (x, r)

    def backward(residuals, g):
        x, r = residuals
        y, vjp_x = jax.vjp(pool, x)
        y_r, vjp_r = jax.vjp(pool, r)
        cross = jnp.maximum(y, y_r)
        spread = vjp_x(g * (cross - y_r))[0] + vjp_r(g * (y - cross))[0]
        delta = x - r
        near = jnp.abs(delta) < POOL_EPS
        return jnp.where(near, vjp_x(g)[0], spread / jnp.where(near, 1.0, delta)), jnp.zeros_like(r)

    rule.defvjp(forward, backward)
    return rule


def _relu(x: jax.Array) -> jax.Array:
    return jnp.maximum(x, 0.0)


def _apply(eqn, xs: list, rs: list, deps: list[bool]) -> tuple[list, list]:
    """One equation on the sequence's values `xs` and the reference's `rs`."""
    name, params = eqn.primitive.name, eqn.params
    bind = functools.partial(eqn.primitive.bind, **params)
    programs = (core.ClosedJaxpr, core.Jaxpr)
    if any(
        isinstance(v, programs) or (isinstance(v, tuple) and v and isinstance(v[0], programs))
        for v in params.values()
    ):
        raise PgxError(f"DeepLIFT: control flow ({name}) over the input is not supported")
    if name in ("max", "min") and sum(deps) == 2:
        a, b = xs
        if name == "max":  # max(a, b) = b + relu(a - b)
            return [b + _rescaled(_relu)(a - b, rs[0] - rs[1])], [bind(*rs)]
        return [a - _rescaled(_relu)(a - b, rs[0] - rs[1])], [bind(*rs)]
    if name in BILINEAR | UNARY and sum(deps) > 1:
        raise PgxError(
            f"DeepLIFT: the model applies {name} to two input-dependent values; the rescale "
            "rule covers elementwise activations and max pooling"
        )
    if name in UNARY:
        i = deps.index(True)
        f = lambda v: bind(*xs[:i], v, *xs[i + 1 :])  # noqa: E731
        return [_rescaled(f)(xs[i], rs[i])], [bind(*rs)]
    if name in POOLS:
        return [_pooled(bind)(xs[0], rs[0])], [bind(*rs)]
    outs_x, outs_r = bind(*xs), bind(*rs)
    if not eqn.primitive.multiple_results:
        outs_x, outs_r = [outs_x], [outs_r]
    return list(outs_x), list(outs_r)


def _evaluate(closed: core.ClosedJaxpr, xs: list, rs: list, deps: list[bool]):
    """Run a jaxpr on the sequence's and the reference's inputs; returns (xs, rs, deps) of
    its outputs. Values that do not depend on the input are computed once."""
    jaxpr = closed.jaxpr
    env: dict = {}

    def read(v):
        if isinstance(v, core.Literal):
            return v.val, v.val, False
        return env[v]

    for var, value in zip(jaxpr.constvars, closed.consts, strict=True):
        env[var] = (value, value, False)
    for var, x, r, dep in zip(jaxpr.invars, xs, rs, deps, strict=True):
        env[var] = (x, r, dep)
    live = _live_vars(jaxpr)
    for eqn in jaxpr.eqns:
        ins = [read(v) for v in eqn.invars]
        in_deps = [d for _, _, d in ins]
        constant = not any(in_deps)
        if constant or eqn.primitive.name == STOP or not live.intersection(eqn.outvars):
            outs = eqn.primitive.bind(*[x for x, _, _ in ins], **eqn.params)
            outs = outs if eqn.primitive.multiple_results else [outs]
            for var, value in zip(eqn.outvars, outs, strict=True):
                env[var] = (value if constant else jax.lax.stop_gradient(value),) * 2 + (False,)
            continue
        xs_in, rs_in = [x for x, _, _ in ins], [r for _, r, _ in ins]
        if eqn.primitive.name in CALLS:
            outs_x, outs_r, out_deps = _evaluate_call(eqn, xs_in, rs_in, in_deps)
        else:
            outs_x, outs_r = _apply(eqn, xs_in, rs_in, in_deps)
            out_deps = [True] * len(outs_x)
        for var, x, r, dep in zip(eqn.outvars, outs_x, outs_r, out_deps, strict=True):
            env[var] = (x, r, dep)
    outs = [read(v) for v in jaxpr.outvars]
    return [x for x, _, _ in outs], [r for _, r, _ in outs], [d for _, _, d in outs]


def _live_vars(jaxpr: core.Jaxpr) -> set:
    """The variables the outputs need other than through `stop_gradient`: the rest only make
    values the rules treat as constants of the sequence (its own, on both sides)."""
    live = {v for v in jaxpr.outvars if not isinstance(v, core.Literal)}
    for eqn in reversed(jaxpr.eqns):
        if eqn.primitive.name != STOP and live.intersection(eqn.outvars):
            live.update(v for v in eqn.invars if not isinstance(v, core.Literal))
    return live


def _evaluate_call(eqn, xs: list, rs: list, deps: list[bool]):
    """Inline a call-like primitive (jit, custom_jvp_call, custom_vjp_call): its program runs
    under the same rules (a custom derivative of the model's is replaced by them)."""
    inner = eqn.params.get("jaxpr", eqn.params.get("call_jaxpr"))
    closed = inner if isinstance(inner, core.ClosedJaxpr) else core.ClosedJaxpr(inner, ())
    return _evaluate(closed, xs, rs, deps)


def multipliers_fn(score_fn: ScoreFn, shape: tuple[int, int]) -> Callable:
    """`(x [L, K], r [L, K]) -> multipliers [L, K]`: the gradient of the score at x with
    every nonlinearity under its DeepLIFT rule against reference r."""
    closed = jax.make_jaxpr(score_fn)(jnp.zeros((1, *shape), jnp.float32))

    def pair_score(x, r):
        outs, _, _ = _evaluate(closed, [x[None]], [r[None]], [True])
        return outs[0].reshape(-1)[0]

    return jax.grad(pair_score)


def hypothetical_contributions(multipliers: jax.Array, references: jax.Array) -> jax.Array:
    """[..., R, L, K] multipliers and references -> [..., L, K]: letter k's hypothetical
    contribution m . (e_k - r) at each position, averaged over the R references."""
    projected = multipliers - jnp.sum(multipliers * references, axis=-1, keepdims=True)
    return projected.mean(axis=-3)


def shuffled_references(x: np.ndarray, n: int = 20, seed: int = 0) -> np.ndarray:
    """[N, L, K] one-hot -> [N, n, L, K]: n dinucleotide shuffles of each sequence, drawn
    from `np.random.default_rng(seed)` (positions with no letter stay all-zero)."""
    x = np.asarray(x)
    letters = np.where(x.max(axis=-1) > 0, x.argmax(axis=-1), x.shape[-1])
    alphabet = "".join(chr(65 + i) for i in range(x.shape[-1] + 1))
    eye = np.concatenate([np.eye(x.shape[-1], dtype=x.dtype), np.zeros((1, x.shape[-1]))])
    rng = np.random.default_rng(seed)
    out = np.empty((len(x), n, *x.shape[1:]), dtype=x.dtype)
    for i, row in enumerate(letters):
        text = "".join(alphabet[c] for c in row)
        for j in range(n):
            shuffled = dinucleotide_shuffle(text, rng)
            out[i, j] = eye[np.frombuffer(shuffled.encode(), np.uint8) - 65]
    return out


CHUNK_SIZE = 32
"""Sequences explained together (each with all its references) in one jitted call."""


def deep_lift_shap(
    score_fn: ScoreFn,
    x: np.ndarray,
    references: np.ndarray | None = None,
    n_shuffles: int = 20,
    seed: int = 0,
    chunk_size: int = CHUNK_SIZE,
) -> np.ndarray:
    """DeepSHAP hypothetical contributions [N, L, K] of one-hot sequences `x` [N, L, K] to
    `score_fn` (a scalar per sequence, `mutagenesis.model_score_fn`), against `references`
    [N, R, L, K] (default: `n_shuffles` dinucleotide shuffles of each sequence).

    Multiply by `x` for the actual contributions; they sum to score(x) - mean score(r).
    One jitted call per chunk of `chunk_size` sequences (the last padded), `jax.vmap` over
    the references and the sequences of a chunk.
    """
    x = np.asarray(x, np.float32)
    if x.ndim != 3:
        raise PgxError(f"DeepLIFT: sequences must be one-hot [N, L, K], got shape {x.shape}")
    if references is None:
        references = shuffled_references(x, n_shuffles, seed)
    references = np.asarray(references, np.float32)
    if references.shape[0] != len(x) or references.shape[2:] != x.shape[1:]:
        raise PgxError(
            f"DeepLIFT: references must have shape [N, R, L, K] = [{len(x)}, R, "
            f"{x.shape[1]}, {x.shape[2]}], got {references.shape}"
        )
    explain = _explain_fn(score_fn, x.shape[1:])
    out = []
    for start in range(0, len(x), chunk_size):
        xs, rs = x[start : start + chunk_size], references[start : start + chunk_size]
        pad = chunk_size - len(xs)
        if pad:
            xs = np.concatenate([xs, np.repeat(xs[-1:], pad, 0)])
            rs = np.concatenate([rs, np.repeat(rs[-1:], pad, 0)])
        out.append(np.asarray(explain(xs, rs))[: chunk_size - pad])
    return np.concatenate(out)


def _explain_fn(score_fn: ScoreFn, shape: tuple[int, int]) -> Callable:
    """Jitted `(x [C, L, K], refs [C, R, L, K]) -> hypothetical [C, L, K]`."""
    multipliers = multipliers_fn(score_fn, shape)
    per_reference = jax.vmap(multipliers, in_axes=(None, 0))

    @jax.jit
    def explain(x, refs):
        m = jax.vmap(per_reference)(x, refs)
        return hypothetical_contributions(m, refs)

    return explain
