"""Ensemble training time per epoch: members stacked with vmap in one jitted step, against the
same members trained one after another (one jitted step each), as a ratio; and the ensemble
with its members unrolled (`Ensemble(unroll=True)`: still one jitted step, members computed one
after another inside it).

  python benchmarks/ensemble_training.py                 # iEnhancer layer 1, the committed config
  python benchmarks/ensemble_training.py --kernel-sizes 9,9,9,9,9   # one vmapped stack
  python benchmarks/ensemble_training.py --repeats 5 --json ensemble.json

Both sides run the step `pgx_jax.train.loop.fit` runs (`steps.train_step`, jitted, state
donated) over the same pre-encoded batches of one epoch of the training set, already on the
device, so the numbers cover training alone. The sides alternate within each repeat so
all see the same machine load; the median over repeats is reported.
"""

import argparse
import datetime
import functools
import json
import os
import platform
import time

import jax
import numpy as np

from configs.regulatory import enhancer as enhancer_config
from experiments import regulatory
from pgx_jax.data import pipeline
from pgx_jax.models import create_model
from pgx_jax.train import steps
from pgx_jax.train.optim import make_optimizer
from pgx_jax.train.state import create_train_state


def _arrays(batch: dict) -> dict:
    """The batch without its record ids (which never go to the device)."""
    return {k: v for k, v in batch.items() if k != "id"}


def epoch_batches(experiment, batch_size: int) -> list[dict]:
    """One epoch of training batches, encoded and placed on the device."""
    source = experiment.splits["train"]
    batches = pipeline.train_batches(source, experiment.encode_split, batch_size, seed=0)
    steps = max(len(source) // batch_size, 1)
    return [jax.device_put(_arrays(next(batches))) for _ in range(steps)]


def time_epoch(step, state, batches: list[dict]):
    """Seconds to run every batch once through `step` (blocking on the result)."""
    started = time.perf_counter()
    for batch in batches:
        state, metrics = step(state, batch)
    jax.block_until_ready(metrics["loss"])
    return time.perf_counter() - started, state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config-arg", default="layer=1", help="configs/regulatory/enhancer.py ARG"
    )
    parser.add_argument("--kernel-sizes", default="", help="e.g. 9,9,9,9 (default: the config's)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default="", help="write the results to this file")
    args = parser.parse_args()

    config = enhancer_config.get_config(args.config_arg)
    config.data.fold = -1
    if args.kernel_sizes:
        config.model.kernel_sizes = tuple(int(k) for k in args.kernel_sizes.split(","))
    experiment = regulatory.build(config)
    batches = epoch_batches(experiment, config.data.batch_size)
    tx = make_optimizer(config.optimizer, 1000)
    train_step = jax.jit(functools.partial(steps.train_step, task="binary"), donate_argnums=0)

    ensemble_state = create_train_state(
        experiment.predictor.model, tx, batches[0]["inputs"], config.seed
    )
    unrolled_model = create_model(**{**config.model.to_dict(), "unroll": True})
    unrolled_state = create_train_state(unrolled_model, tx, batches[0]["inputs"], config.seed)
    member = {k: v for k, v in config.model.member.to_dict().items() if k != "name"}
    member_states = [
        create_train_state(
            create_model(config.model.member.name, **member, kernel_size=size),
            tx,
            batches[0]["inputs"],
            config.seed + index,
        )
        for index, size in enumerate(config.model.kernel_sizes)
    ]
    # compile and warm up every side
    _, ensemble_state = time_epoch(train_step, ensemble_state, batches[:2])
    _, unrolled_state = time_epoch(train_step, unrolled_state, batches[:2])
    member_states = [time_epoch(train_step, s, batches[:2])[1] for s in member_states]

    vmapped, unrolled, sequential = [], [], []
    for _ in range(args.repeats):
        seconds, ensemble_state = time_epoch(train_step, ensemble_state, batches)
        vmapped.append(seconds)
        seconds, unrolled_state = time_epoch(train_step, unrolled_state, batches)
        unrolled.append(seconds)
        total = 0.0
        for index, state in enumerate(member_states):
            seconds, member_states[index] = time_epoch(train_step, state, batches)
            total += seconds
        sequential.append(total)
    results = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "devices": [str(d) for d in jax.devices()],
        "members": len(config.model.kernel_sizes),
        "kernel_sizes": list(config.model.kernel_sizes),
        "steps_per_epoch": len(batches),
        "batch_size": config.data.batch_size,
        "vmapped_seconds_per_epoch": float(np.median(vmapped)),
        "sequential_seconds_per_epoch": float(np.median(sequential)),
        "ratio_sequential_over_vmapped": float(np.median(sequential) / np.median(vmapped)),
        "unrolled_seconds_per_epoch": float(np.median(unrolled)),
        "ratio_sequential_over_unrolled": float(np.median(sequential) / np.median(unrolled)),
        "repeats": args.repeats,
    }
    for key, value in results.items():
        print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
