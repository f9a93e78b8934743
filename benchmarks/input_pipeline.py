"""The input pipeline alone against the training step it feeds (DeepBind, default data set).

  python benchmarks/input_pipeline.py [--batches 300] [--repeats 5]

Times the grain training pipeline of `pgx_jax.data.pipeline.train_batches` on the embedded
default data set (20,000 planted-motif sequences of 101 bp), encoding on the fly and with the
split pre-encoded once (`config.data.pre_encode`), and the jitted DeepBind train step at the
same batch size, in turn within every repeat. The pipeline keeps up when its sequences per
second are a multiple of the step's (target: 5x). The DeepBind config trains pre-encoded.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from train_throughput import (  # noqa: E402
    busy_cpu_seconds,
    jax_train_runner,
    machine,
    make_case,
    time_in_turn,
)

from configs.binding import deepbind as deepbind_config  # noqa: E402
from experiments import binding  # noqa: E402
from pgx_jax.data import pipeline  # noqa: E402

TARGET = 5.0
"""The pipeline should produce sequences at least this many times faster than training."""


def pipeline_runner(pre_encode: bool, batches: int, batch_size: int):
    """A warmed-up callable drawing `batches` training batches from the default data set."""
    config = deepbind_config.get_config()
    experiment = binding.build(config)
    stream = pipeline.train_batches(
        experiment.splits["train"],
        experiment.encode_split,
        batch_size,
        seed=0,
        num_threads=config.data.num_threads,
        pre_encode=pre_encode,
    )
    next(stream)

    def run() -> None:
        for _ in range(batches):
            next(stream)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    info = machine()
    print(
        f"machine: {info['processor']} | {info['cpu_count']} CPUs | jax {info['jax']} | "
        "load average " + " ".join(f"{x:.2f}" for x in info["load_average"] or [])
    )
    case = make_case("deepbind", args.batch_size, None, "float32")
    train, _, _ = jax_train_runner(case, args.batches)
    runners = {
        "pipeline, encoded on the fly": pipeline_runner(False, args.batches, args.batch_size),
        "pipeline, pre-encoded": pipeline_runner(True, args.batches, args.batch_size),
        "DeepBind train step": train,
    }
    busy, own, wall = busy_cpu_seconds(), time.process_time(), time.perf_counter()
    seconds = time_in_turn(runners, args.repeats)
    rates = {name: args.batches * args.batch_size / np.median(t) for name, t in seconds.items()}
    step_rate = rates["DeepBind train step"]
    for name, rate in rates.items():
        print(f"{name:<32} {rate:>12,.0f} seq/s   {rate / step_rate:5.2f}x the train step")
    best = max(rate for name, rate in rates.items() if name.startswith("pipeline"))
    verdict = "met" if best >= TARGET * step_rate else "missed"
    print(
        f"target: the faster pipeline >= {TARGET:.0f}x the train step: {verdict} "
        f"({best / step_rate:.2f}x)"
    )
    if busy is not None:
        others = busy_cpu_seconds() - busy - (time.process_time() - own)
        print(
            f"other processes during timing: {max(0.0, others / (time.perf_counter() - wall)):.2f} "
            f"of {info['cpu_count']} cores; load average after: "
            + " ".join(f"{x:.2f}" for x in os.getloadavg())
        )


if __name__ == "__main__":
    main()
