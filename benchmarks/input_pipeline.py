"""The input pipeline alone against the training step it feeds (DeepBind, default data set).

  python benchmarks/input_pipeline.py [--batches 300] [--repeats 5]

Times the grain training pipeline of `pgx_jax.data.pipeline.train_batches` on the embedded
default data set (20,000 planted-motif sequences of 101 bp), encoding on the fly and with the
split pre-encoded once (`config.data.pre_encode`), and the jitted DeepBind train step at the
same batch size, in turn within every repeat. The pipeline keeps up when its sequences per
second are a multiple of the step's.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from train_throughput import jax_train_runner, machine, time_in_turn  # noqa: E402

from configs.binding import deepbind as deepbind_config  # noqa: E402
from experiments import binding  # noqa: E402
from pgx_jax.data import pipeline  # noqa: E402


def pipeline_runner(pre_encode: bool, batches: int, batch_size: int):
    """A warmed-up callable drawing `batches` training batches from the default data set."""
    config = deepbind_config.get_config()
    experiment = binding.build(config)
    stream = pipeline.train_batches(
        experiment.splits["train"],
        experiment.encode,
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
    length = deepbind_config.get_config().data.length
    train, _ = jax_train_runner(args.batch_size, length, args.batches)
    runners = {
        "pipeline, encoded on the fly": pipeline_runner(False, args.batches, args.batch_size),
        "pipeline, pre-encoded": pipeline_runner(True, args.batches, args.batch_size),
        "DeepBind train step": train,
    }
    seconds = time_in_turn(runners, args.repeats)
    rates = {name: args.batches * args.batch_size / np.median(t) for name, t in seconds.items()}
    info = machine()
    print(f"machine: {info['processor']} | {info['cpu_count']} CPUs | jax {info['jax']}")
    step_rate = rates["DeepBind train step"]
    for name, rate in rates.items():
        print(f"{name:<32} {rate:>12,.0f} seq/s   {rate / step_rate:5.2f}x the train step")


if __name__ == "__main__":
    main()
