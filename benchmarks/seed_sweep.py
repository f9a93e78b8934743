"""Seed sweep wall time: the points of one seed group trained as one vmapped program
(`pgx sweep`'s default) against the same points trained one after another
(`--novmap_seeds`), as a ratio.

  python benchmarks/seed_sweep.py                       # 3 seeds, 100 steps of DeepBind
  python benchmarks/seed_sweep.py --seeds 5 --steps 300 --json seed_sweep.json

Both sides run `pgx_jax.train.sweep.run` end to end on the embedded default DeepBind config
(`configs/binding/deepbind.py`, a planted motif) in fresh workdirs: building the experiments,
compilation, training, validation, checkpoints, test evaluation and the motif report, so the
ratio is what a user waits for. The data set is prepared in an untimed warm-up. The 1-minute
load average is printed beside the times: on a shared machine compare ratios only at low load.
"""

import argparse
import datetime
import json
import os
import platform
import tempfile
import time

from configs.binding.deepbind import get_config
from experiments import binding
from pgx_jax.train import sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--num-examples", type=int, default=5000)
    parser.add_argument("--json", help="write every number to this file")
    args = parser.parse_args()

    config = sweep.apply_overrides(
        get_config(),
        {
            "data.num_examples": args.num_examples,
            "train.num_steps": args.steps,
            "train.eval_every_steps": max(args.steps // 4, 1),
        },
    )
    binding.build(config)  # prepares the data set outside the timing
    points = [{"seed": s} for s in range(args.seeds)]
    seconds, load = {}, [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as root:
        for name, vmap_seeds in (("vmapped", True), ("sequential", False)):
            started = time.perf_counter()
            sweep.run(config, points, os.path.join(root, name), vmap_seeds=vmap_seeds)
            seconds[name] = time.perf_counter() - started
            load.append(os.getloadavg()[0])
    report = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "seeds": args.seeds,
        "steps": args.steps,
        "num_examples": args.num_examples,
        "vmapped group seconds": seconds["vmapped"],
        "sequential runs seconds": seconds["sequential"],
        "sequential / vmapped": seconds["sequential"] / seconds["vmapped"],
        "load average (start, after vmapped, after sequential)": ", ".join(
            f"{x:.1f}" for x in load
        ),
    }
    for key, value in report.items():
        print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
