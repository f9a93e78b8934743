"""Timing several jitted callables in turn, so load on the machine falls on all of them alike."""

import argparse
import statistics
import time
from collections.abc import Callable, Hashable

import jax


def median_ms_in_turn(
    runners: dict[Hashable, tuple[Callable, tuple]], repeats: int, steps: int
) -> dict[Hashable, float]:
    """Median milliseconds per call of each `fn(*inputs)`; every repeat times each runner's
    `steps` calls once, one runner after another."""
    times = {name: [] for name in runners}
    for _ in range(repeats):
        for name, (fn, inputs) in runners.items():
            start = time.perf_counter()
            for _ in range(steps):
                out = fn(*inputs)
            jax.block_until_ready(out)
            times[name].append((time.perf_counter() - start) / steps * 1e3)
    return {name: statistics.median(values) for name, values in times.items()}


def layer_benchmark_args(doc: str) -> argparse.Namespace:
    """`--repeats` and `--steps` of a layer benchmark; prints the device line first."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    print(f"{jax.devices()[0].device_kind}, {len(jax.devices())} device(s), jax {jax.__version__}")
    return args
