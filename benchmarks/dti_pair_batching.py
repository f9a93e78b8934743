"""Time per Davis training epoch of DeepDTA: naive pair batches vs factorised block batches.

  PGX_DATA_DIR=../shared/data python benchmarks/dti_pair_batching.py
  python benchmarks/dti_pair_batching.py --naive-steps 3 --factorised-steps 30 --json out.json

Four ways to feed the same model and train step (configs/dti/deepdta.py:davis, fold 0,
batch 256), timed in turn in one run (compilation and batch encoding are not timed):
  naive       random batches, both sequences encoded for every pair (what a plain
              pair-at-a-time pipeline does);
  factorised  random batches, each distinct drug and protein of the batch encoded once;
  block       block batches (proteins in random order, each with all its pairs), each
              distinct sequence encoded once (`davis,block=0`);
  block8      blocks of 8 pairs of a protein, shuffled: about 32 proteins per batch, which
              trains as well per epoch as random batches (the config's default).
The train step is the plain one (no parameter average) in every mode.
An epoch's time is the median step time times the steps per epoch (the remainder dropped, as
in training). XLA's FLOPs per step and the sequences encoded per batch (distinct ones, padded to a
multiple of 8) say where the time goes.
"""

import argparse
import functools
import json
import time

import jax
import numpy as np

from configs.dti import deepdta
from experiments import dti
from pgx_jax.data import pipeline, sampling
from pgx_jax.train import steps
from pgx_jax.train.optim import make_optimizer
from pgx_jax.train.state import create_train_state

MODES = {
    "naive": (False, "random", 0),
    "factorised": (True, "random", 0),
    "block": (True, "block", 0),
    "block8": (True, "block", 8),
}
"""mode -> (factorised encoding, sampling, block_pairs)"""


def _flops(compiled: jax.stages.Compiled) -> float:
    analysis = compiled.cost_analysis()
    analysis = [analysis] if isinstance(analysis, dict) else analysis
    return float(sum(module.get("flops", 0.0) for module in analysis))


def _shapes(batch: dict) -> tuple:
    return tuple(x.shape for x in jax.tree.leaves(batch))


def time_mode(
    experiment, config, factorised: bool, order_kind: str, block_pairs: int, num_steps: int
) -> dict:
    """Median seconds per train step and the step's FLOPs.

    The timed batches are drawn first; every batch shape among them is compiled before the
    clock starts (factorised random batches vary in shape), so only the steps are timed.
    """
    encode = functools.partial(experiment.encode.func, **experiment.encode.keywords)
    encode.keywords["factorised"] = factorised
    train = experiment.splits["train"]
    batch_size = config.data.batch_size
    order = sampling.pair_blocks(
        train.columns["protein_index"], batch_size, order_kind, block_pairs
    )
    stream = pipeline.train_batches(train, encode, batch_size, config.seed, order=order)
    batches = ({k: v for k, v in batch.items() if k != "id"} for batch in stream)
    first = next(batches)
    tx = make_optimizer(config.optimizer, 1000)
    state = create_train_state(experiment.predictor.model, tx, first["inputs"], config.seed)
    train_fn = jax.jit(functools.partial(steps.train_step, task="regression"), donate_argnums=0)
    compiled = train_fn.lower(state, first).compile()
    state, metrics = train_fn(state, first)
    jax.block_until_ready(metrics)
    timed = [next(batches) for _ in range(num_steps)]
    compiled_shapes = {_shapes(first)}
    for batch in timed:
        if _shapes(batch) not in compiled_shapes:
            compiled_shapes.add(_shapes(batch))
            state, metrics = train_fn(state, batch)
            jax.block_until_ready(metrics)
    times, drugs, proteins = [], [], []
    for batch in timed:
        start = time.perf_counter()
        state, metrics = train_fn(state, batch)
        jax.block_until_ready(metrics)
        times.append(time.perf_counter() - start)
        drugs.append(batch["inputs"]["drug_tokens"].shape[0])
        proteins.append(batch["inputs"]["protein_tokens"].shape[0])
    step = float(np.median(times))
    epoch_steps = max(len(train) // batch_size, 1)
    return {
        "seconds_per_step": step,
        "seconds_per_epoch": step * epoch_steps,
        "steps_per_epoch": epoch_steps,
        "gflops_per_step": _flops(compiled) / 1e9,
        "drugs_encoded_per_batch": float(np.mean(drugs)),
        "proteins_encoded_per_batch": float(np.mean(proteins)),
        "timed_steps": num_steps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--naive-steps", type=int, default=3)
    parser.add_argument("--factorised-steps", type=int, default=30)
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    config = deepdta.get_config("davis")
    experiment = dti.build(config)
    results = {}
    for name, (factorised, order_kind, block_pairs) in MODES.items():
        count = args.factorised_steps if name.startswith("block") else args.naive_steps
        results[name] = time_mode(experiment, config, factorised, order_kind, block_pairs, count)
        r = results[name]
        print(
            f"{name:>10}: {r['seconds_per_step']:.3f} s/step, {r['seconds_per_epoch']:.1f} s/epoch "
            f"({r['steps_per_epoch']} steps), {r['gflops_per_step']:.1f} GFLOP/step, "
            f"{r['drugs_encoded_per_batch']:.0f} drugs and "
            f"{r['proteins_encoded_per_batch']:.0f} proteins encoded per batch"
        )
    ratio = results["naive"]["seconds_per_epoch"] / results["block"]["seconds_per_epoch"]
    results["naive_over_block"] = ratio
    print(f"epoch time naive / block factorised: {ratio:.1f}x")
    ratio8 = results["naive"]["seconds_per_epoch"] / results["block8"]["seconds_per_epoch"]
    results["naive_over_block8"] = ratio8
    print(f"epoch time naive / blocks of 8 pairs factorised: {ratio8:.1f}x")
    print(
        f"100 epochs: naive {100 * results['naive']['seconds_per_epoch'] / 60:.0f} min, "
        f"block factorised {100 * results['block']['seconds_per_epoch'] / 60:.0f} min per run"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
