"""`pgx tune` wall time: 16 shape-preserving trials (learning rate x weight decay) trained as
populations (vmapped programs of K members) against the same trials one by one, as a ratio.

  python benchmarks/tune_populations.py                     # 16 trials, K 8, 100 DeepBind steps
  python benchmarks/tune_populations.py --population 16 --steps 300 --json tune_pop.json

Both sides run `pgx_jax.tune.search` end to end on the embedded default DeepBind config
(`configs/binding/deepbind.py`, a planted motif) in fresh workdirs, with the grid sampler over
4 learning rates x 4 weight decays (the same 16 trials on both sides) and no pruning (so both
train the same steps): building the experiments, compilation, training, validation,
checkpoints, test evaluation, the table and Optuna's plots. The data set is prepared in an
untimed warm-up. The 1-minute load average is printed beside the times: on a shared machine
compare ratios only, measured in turn in one run.
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
from pgx_jax import tune
from pgx_jax.train import sweep

SPACE = {
    "optimizer.learning_rate": ("choice", [1e-3, 2e-3, 4e-3, 8e-3]),
    "optimizer.weight_decay": ("choice", [1e-6, 1e-5, 1e-4, 1e-3]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--population", type=int, default=8)
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
    seconds, load = {}, [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as root:
        for name, population in (("populations", args.population), ("one by one", 1)):
            started = time.perf_counter()
            tune.search(
                config,
                SPACE,
                os.path.join(root, str(population)),
                16,
                sampler="grid",
                population=population,
                pruning=False,
            )
            seconds[name] = time.perf_counter() - started
            load.append(os.getloadavg()[0])
    report = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "trials": 16,
        "population": args.population,
        "steps": args.steps,
        "num_examples": args.num_examples,
        "populations seconds": seconds["populations"],
        "one by one seconds": seconds["one by one"],
        "one by one / populations": seconds["one by one"] / seconds["populations"],
        "load average (start, after populations, after one by one)": ", ".join(
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
