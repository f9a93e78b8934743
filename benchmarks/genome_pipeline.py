"""Genome windows: the input pipeline's rate against the train step's, and memory as the genome
grows.

  python benchmarks/genome_pipeline.py                  # Basset and DeepSEA on a 20-Mb genome
  python benchmarks/genome_pipeline.py --memory 10,100  # peak RSS building and reading 10, 100 Mb

Rates: windows a second that `pipeline.train_batches` delivers (bases read from the FASTA at
random, jittered and reverse-complemented, one-hot encoded, in grain's threads) against the
windows a second of the jitted train step on one device batch (`train_throughput.Case`), both
timed in turn within each repeat so they see the same load; the ratio says whether the
pipeline keeps up. Memory: each size in a fresh process (the generator's genome, DeepSEA's
tiles every 200 bp, 200 batches read), its peak RSS.
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from train_throughput import Case, jax_train_runner, machine, time_in_turn  # noqa: E402

from configs.genome import basset, deepsea  # noqa: E402
from experiments import genome as genome_experiment  # noqa: E402
from pgx_jax.data import pipeline  # noqa: E402
from pgx_jax.data.genome_synthetic import chromosome_sizes, write_synthetic_genome  # noqa: E402

CONFIGS = {"basset": basset, "deepsea": deepsea}


def experiment_of(name: str, folder: str):
    config = CONFIGS[name].get_config(f"dir={folder}")
    return config, genome_experiment.build(config)


def pipeline_runner(config, experiment, batches: int):
    """A callable reading `batches` training batches, continuing one stream."""
    stream = pipeline.train_batches(
        experiment.splits["train"],
        experiment.encode_split,
        config.data.batch_size,
        config.seed,
        order=experiment.order,
        num_threads=config.data.num_threads,
    )
    next(stream)

    def run() -> None:
        for _ in range(batches):
            next(stream)

    return run


def step_case(name: str, config, experiment) -> Case:
    batch = next(
        pipeline.train_batches(
            experiment.splits["train"], experiment.encode_split, config.data.batch_size, 0,
            order=experiment.order,
        )
    )  # fmt: skip
    batch = {k: batch[k] for k in ("inputs", "label", "weight")}
    return Case(
        name, name, config, experiment.predictor.model, "multilabel", batch, "windows", 2, name
    )


def rates(folder: str, repeats: int, names: list[str]) -> None:
    for name in names:
        config, experiment = experiment_of(name, folder)
        batch = config.data.batch_size
        steps = 2 if name == "deepsea" else 8
        run_step, flops, _ = jax_train_runner(step_case(name, config, experiment), steps)
        runners = {"pipeline": pipeline_runner(config, experiment, steps), "step": run_step}
        times = time_in_turn(runners, repeats)
        pipe = steps * batch / np.median(times["pipeline"])
        step = steps * batch / np.median(times["step"])
        print(
            f"{name}: {config.data.length}-bp windows, batch {batch}: pipeline {pipe:,.0f} "
            f"windows/s, train step {step:,.0f} windows/s, ratio {pipe / step:.1f}x; "
            f"step {flops / 1e9:.1f} GFLOP ({flops / batch / 1e9:.2f} a window), "
            f"{flops * step / batch / 1e9:.1f} GFLOP/s"
        )


def memory_worker(size_mb: float) -> None:
    """Build DeepSEA's tiles over a generated genome of `size_mb` and read 200 batches."""
    with tempfile.TemporaryDirectory() as folder:
        write_synthetic_genome(folder, chromosome_sizes(size_mb), seed=0)
        start = time.perf_counter()
        config, experiment = experiment_of("deepsea", folder)
        built = time.perf_counter() - start
        read = pipeline_runner(config, experiment, 200)
        start = time.perf_counter()
        read()
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        windows = sum(len(s) for s in experiment.splits.values())
        print(
            f"{size_mb:g} Mb: {windows:,} windows, built in {built:.1f} s, 200 batches of 64 "
            f"in {seconds:.1f} s, peak RSS {peak:,.0f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", help="a generated genome (default: a 20-Mb one in a temp dir)")
    parser.add_argument("--models", default="basset,deepsea")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory", help="genome sizes in Mb, comma-separated")
    parser.add_argument("--memory-worker", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_worker:
        memory_worker(args.memory_worker)
        return
    print(machine())
    if args.memory:
        for size in args.memory.split(","):
            command = [sys.executable, __file__, "--memory-worker", size]
            subprocess.run(command, check=True)
        return
    if args.dir:
        rates(args.dir, args.repeats, args.models.split(","))
        return
    with tempfile.TemporaryDirectory() as folder:
        write_synthetic_genome(folder, chromosome_sizes(20), seed=0)
        rates(folder, args.repeats, args.models.split(","))


if __name__ == "__main__":
    main()
