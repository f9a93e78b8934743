"""In-silico mutagenesis of a 1,000 bp sequence: one batched jitted call vs a per-variant loop.

  python benchmarks/mutagenesis.py                 # DeepBind defaults, length 1000, 5 repeats
  python benchmarks/mutagenesis.py --json ism.json

The model is the default DeepBind architecture (16 filters of width 24, hidden 32; its global
max pooling accepts any length) built with `create_model` at length 1,000 with random
parameters. "batched" is `pgx_jax.interpret.mutagenesis.mutation_map`: all 4,000
substitutions (3,000 changes plus the reference letters, zeroed) built and scored inside one
jitted call, in chunks of `--chunk-size` mutants; "one batch" is the same call scoring all
4,000 mutants as one batch. "loop" calls a jitted single-mutant function (set one position
to one letter, score it) once for each of the 3,000 changes and subtracts the reference score
(scored once), as a Python loop over variants would (calls dispatched asynchronously, then
read). All are compiled in an untimed warm-up and checked against each other, then timed
`--repeats` times in turn; the medians give the ratios.
"""

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
from train_throughput import busy_cpu_seconds, machine, write_record

from pgx_jax.interpret import mutagenesis as ism
from pgx_jax.models import create_model


def build(length: int, seed: int = 0):
    """A random one-hot sequence, the score function of a random DeepBind, and the variants."""
    model = create_model("deepbind", num_filters=16, filter_width=24, hidden=32)
    variables = model.init(jax.random.key(seed), jnp.zeros((1, length, 4)))
    x = np.eye(4, dtype=np.float32)[np.random.default_rng(seed).integers(0, 4, length)]
    score_fn = ism.model_score_fn(model, variables, {"x": x[None]})
    variants = [(i, k) for i in range(length) for k in range(4) if x[i, k] == 0]
    return x, score_fn, variants


def loop_runner(x: np.ndarray, score_fn, variants):
    """The per-variant loop: one jitted call per (position, letter), minus the reference
    score computed once."""

    @jax.jit
    def mutant_score(x, position, letter):
        mutant = x.at[position].set(jax.nn.one_hot(letter, x.shape[-1], dtype=x.dtype))
        return score_fn(mutant[None])[0]

    x = jnp.asarray(x)
    reference = jax.jit(lambda v: score_fn(v[None])[0])

    def run() -> np.ndarray:
        out = np.zeros(x.shape, np.float32)
        base = float(reference(x))
        values = [mutant_score(x, i, k) for i, k in variants]
        for (i, k), value in zip(variants, values, strict=True):
            out[i, k] = float(value) - base
        return out

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", default="")
    parser.add_argument("--chunk-size", type=int, default=ism.CHUNK_SIZE, help="mutants per chunk")
    args = parser.parse_args()
    x, score_fn, variants = build(args.length)
    batched = ism.mutation_map_fn(score_fn, args.chunk_size)
    x_device = jnp.asarray(x)
    loop = loop_runner(x, score_fn, variants)
    reference = np.asarray(batched(x_device))  # warm-up: compiles the batched call
    np.testing.assert_allclose(loop(), reference, rtol=1e-4, atol=1e-4)  # compiles the loop's
    one_batch = ism.mutation_map_fn(score_fn, None)
    np.testing.assert_allclose(np.asarray(one_batch(x_device)), reference, rtol=1e-4, atol=1e-4)
    runners = {
        "batched": lambda: batched(x_device).block_until_ready(),
        "one_batch": lambda: one_batch(x_device).block_until_ready(),
        "loop": loop,
    }
    times = {name: [] for name in runners}
    busy_start, own_start = busy_cpu_seconds(), time.process_time()
    wall_start = time.perf_counter()
    for _ in range(args.repeats):
        for name, run in runners.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    wall = time.perf_counter() - wall_start
    busy_end = busy_cpu_seconds()
    own = time.process_time() - own_start
    medians = {name: float(np.median(values)) for name, values in times.items()}
    info = machine()
    results = {
        "length": args.length,
        "variants": len(variants),
        "repeats": args.repeats,
        "chunk_size": args.chunk_size,
        "batched_seconds": times["batched"],
        "loop_seconds": times["loop"],
        "batched_median_s": medians["batched"],
        "loop_median_s": medians["loop"],
        "one_batch_seconds": times["one_batch"],
        "loop_over_batched": medians["loop"] / medians["batched"],
        "loop_over_one_batch": medians["loop"] / medians["one_batch"],
    }
    print(
        f"ISM of a {args.length} bp sequence, {len(variants)} substitutions, DeepBind "
        f"(random parameters), {info['device_kind']} x{info['devices']}"
    )
    print(
        f"batched (one jitted call, chunks of {args.chunk_size}): "
        f"median {medians['batched'] * 1e3:.1f} ms "
        f"(range {min(times['batched']) * 1e3:.1f}-{max(times['batched']) * 1e3:.1f})"
    )
    print(
        f"per-variant loop ({len(variants)} jitted calls): median {medians['loop']:.2f} s "
        f"(range {min(times['loop']):.2f}-{max(times['loop']):.2f})"
    )
    print(
        f"batched, all {4 * args.length} mutants in one batch: median "
        f"{medians['one_batch'] * 1e3:.1f} ms "
        f"(range {min(times['one_batch']) * 1e3:.1f}-{max(times['one_batch']) * 1e3:.1f})"
    )
    print(f"loop / batched: {results['loop_over_batched']:.1f}x")
    print(f"loop / batched in one batch: {results['loop_over_one_batch']:.1f}x")
    if busy_start is not None and busy_end is not None:
        others = max(0.0, (busy_end - busy_start) - own) / wall
        results["other_processes_cores"] = others
        print(
            f"other processes during timing: about {others:.2f} of {info['cpu_count']} cores "
            "(more than ~0.1: numbers are contended)"
        )
    if args.json:
        write_record(args.json, info, results)


if __name__ == "__main__":
    main()
