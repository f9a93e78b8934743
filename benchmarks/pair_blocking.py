"""Whole-protein blocks, blocks of 8 pairs and random batches, at equal steps, on a generated
drug-target table with many pairs per protein (the shape where whole-protein blocks hold one
protein per batch).

    python benchmarks/pair_blocking.py --workdir /tmp/pair_blocking [--steps 1500]

Writes `pairs.csv`: `proteins` random proteins, each carrying one of four motifs, against
`drugs` toy molecules in four groups; the affinity rises by 1 where a drug's group matches its
protein's motif, by 0.5 with a chlorine, plus noise, so the model must learn which proteins go
with which drugs. Then trains `configs/table.py:path=pairs.csv` (DeepDTA, factorised pair
batches) three ways for the same number of steps and prints each run's test metrics.
"""

import argparse
import csv
import json
import os
import time

import numpy as np

from pgx_jax import cli
from pgx_jax.data.example_tables import AMINO, toy_smiles
from pgx_jax.train.writers import read_metrics

MOTIFS = ("WWH", "KRK", "DEE", "FYF")
WAYS = {
    "whole proteins": ["--config.data.block_pairs=0"],
    "blocks of 8 pairs": ["--config.data.block_pairs=8"],
    "random pairs": ["--config.data.pair_order=random"],
}


def write_pairs(path: str, proteins: int, drugs: int, seed: int = 0) -> int:
    """The generated table; returns its number of pairs."""
    rng = np.random.default_rng(seed)
    molecules = toy_smiles(range(1, drugs // 8 + 1))[:drugs]
    sequences, motif_of = [], []
    for _ in range(proteins):
        chars = rng.choice(list(AMINO), int(rng.integers(120, 180)))
        motif = int(rng.integers(len(MOTIFS)))
        start = int(rng.integers(0, len(chars) - 3))
        chars[start : start + 3] = list(MOTIFS[motif])
        sequences.append("".join(chars))
        motif_of.append(motif)
    rows = []
    for i, drug in enumerate(molecules):
        group = drug.count("C") % len(MOTIFS)
        for j, protein in enumerate(sequences):
            value = 5.0 + (group == motif_of[j]) + 0.5 * ("Cl" in drug) + rng.normal(0, 0.2)
            rows.append([f"d{i}p{j}", drug, protein, f"{value:.3f}"])
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "smiles", "protein", "affinity"])
        writer.writerows(rows)
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--proteins", type=int, default=40)
    parser.add_argument("--drugs", type=int, default=400)
    parser.add_argument("--steps", type=int, default=1500)
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    table = os.path.join(args.workdir, "pairs.csv")
    pairs = write_pairs(table, args.proteins, args.drugs)
    print(f"{pairs} pairs, {pairs // args.proteins} per protein; {args.steps} steps of 256")
    results = {}
    for name, overrides in WAYS.items():
        workdir = os.path.join(args.workdir, name.replace(" ", "_"))
        started = time.perf_counter()
        status = cli.main(
            [
                "train",
                f"--config=configs/table.py:path={table}",
                f"--workdir={workdir}",
                f"--config.train.num_steps={args.steps}",
                f"--config.train.eval_every_steps={args.steps // 5}",
                "--config.train.early_stopping.metric=",
                "--config.eval.metrics=('ci', 'mse', 'pearson')",
                *overrides,
            ]
        )
        if status:
            raise SystemExit(f"{name}: pgx train failed")
        curve = [m for m in read_metrics(workdir) if "validation/ci" in m]
        results[name] = (curve, time.perf_counter() - started, workdir)
    for name, (curve, seconds, _) in results.items():
        validation = ", ".join(f"{m['step']}: {m['validation/ci']:.3f}" for m in curve)
        print(f"{name:<18} validation CI by step {validation}; {seconds:.0f} s")
    for name, (_, _, workdir) in results.items():
        with open(os.path.join(workdir, "results.json")) as f:
            test = json.load(f)
        print(
            f"{name:<18} test CI {test['test/ci']:.3f}, MSE {test['test/mse']:.3f}, "
            f"Pearson {test['test/pearson']:.3f}"
        )


if __name__ == "__main__":
    main()
