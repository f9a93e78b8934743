"""Run by tests/test_sampling.py, in one process or as one of two under `jax.distributed`: draws
the first training batches of every training order and writes this process's rows to JSON.

argv: output path, then (for two processes) coordinator address and process id.
"""

import json
import os
import sys

import jax
import numpy as np

BATCH, STEPS, SEED = 8, 9, 4


def _orders() -> dict:
    """(source, encode, order) of each training order, on small sources."""
    from experiments.ddi import sentence_lengths
    from pgx_jax.data import pair_batches, sampling
    from pgx_jax.data.builders.promoters import WithGeneratedNegatives
    from pgx_jax.data.sources import InMemorySource

    rng = np.random.default_rng(0)
    n = 30
    table = InMemorySource(
        {
            "id": np.array([f"r{i}" for i in range(n)]),
            "sequence": np.array(["".join(rng.choice(list("ACGT"), 40)) for _ in range(n)]),
            "tokens": np.array([" ".join(["w"] * int(k)) for k in rng.integers(1, 20, n)]),
            "label": np.arange(n) % 2,
        }
    )
    pairs = InMemorySource(
        {
            "id": np.array([f"p{i}" for i in range(60)]),
            "drug_index": rng.integers(0, 6, 60),
            "protein_index": np.repeat(np.arange(10), 6),
            "label": rng.random(60).astype(np.float32),
        }
    )
    drugs, proteins = rng.integers(1, 9, (6, 5)), rng.integers(1, 9, (10, 7))

    def rows(records: dict) -> dict:
        return {"label": np.asarray(records["label"], np.float32)}

    encode_pairs = lambda records: pair_batches.encode_pairs(  # noqa: E731
        records,
        drug_tokens=drugs,
        protein_tokens=proteins,
        factorised=True,
        bucket=4,
        process_rows=BATCH // jax.process_count(),
    )
    negatives = WithGeneratedNegatives(table, parts=4, keep=2, seed=1)
    return {
        "shuffled": (table, rows, sampling.shuffled(n)),
        "length_bucketed": (table, rows, sampling.length_bucketed(sentence_lengths(table), BATCH)),
        "pair_blocks": (
            pairs,
            encode_pairs,
            sampling.pair_blocks(pairs.columns["protein_index"], BATCH),
        ),
        "generated_negatives": (
            negatives,
            lambda records: {"label": records["label"], "sequence": records["sequence"]},
            sampling.positives_with_negatives(n, BATCH),
        ),
        "genome_windows": _genome_windows(),
    }


def _genome_windows() -> tuple:
    """Windows of a small generated genome (the same in every process: a fixed seed), jittered
    and reverse-complemented from (seed, index), read from the FASTA batch by batch; 33
    training windows, so the 72 rows read run into the augmented epochs."""
    from configs.genome import basset
    from experiments import genome as genome_experiment
    from pgx_jax.data.genome_synthetic import write_synthetic_genome

    folder = os.path.join(
        os.path.dirname(os.path.abspath(sys.argv[1])), f"genome{jax.process_index()}"
    )
    write_synthetic_genome(folder, [200_000] * 10, seed=5, sites_per_mb=10)
    config = basset.get_config(f"dir={folder}")
    config.data.length, config.data.bin_size, config.seed = 100, 50, SEED
    experiment = genome_experiment.build(config)

    def rows(records: dict) -> dict:
        return {"label": np.asarray(records["labels"], np.float32), "codes": records["codes"]}

    return experiment.splits["train"], rows, experiment.order


def main() -> None:
    if len(sys.argv) > 2:
        jax.distributed.initialize(sys.argv[2], num_processes=2, process_id=int(sys.argv[3]))
    from pgx_jax.data import pipeline

    found = {}
    for name, (source, encode, order) in _orders().items():
        stream = pipeline.train_batches(source, encode, BATCH, SEED, order=order)
        batches = [next(stream) for _ in range(STEPS)]
        found[name] = [jax.tree.map(lambda x: np.asarray(x).tolist(), b) for b in batches]
    with open(sys.argv[1], "w") as f:
        json.dump(found, f)


if __name__ == "__main__":
    main()
