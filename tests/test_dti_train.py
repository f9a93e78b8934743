"""End to end: `pgx train --config configs/dti/deepdta.py:kiba` on a small KIBA-layout set.

The set is written here: scores as given (no log transform), NaN entries as unlabelled pairs,
SMILES that RDKit must canonicalise, and an affinity a CNN can learn (a chlorine on the drug
and a WWH motif in the protein each add to the score), so held-out CI must beat chance.
Dropout is off: with hidden layers this narrow, dropout's train/eval variance shift biased
the evaluated outputs by about 10 %.
"""

import json
import os

import numpy as np
import pytest
from conftest import read_json, run_pgx
from test_dti_data import write_matrix_dir

from pgx_jax.data.example_tables import toy_smiles

AMINO = "ACDEFGHIKLMNPQRSTVY"  # no W: the motif is the only tryptophan


def write_small_kiba(root: str, seed: int = 0) -> int:
    """A 24 x 30 affinity matrix with about 15 % NaN in `root`/kiba; returns labelled pairs."""
    rng = np.random.default_rng(seed)
    smiles = toy_smiles(range(1, 4))
    proteins = []
    for j in range(30):
        chars = rng.choice(list(AMINO), rng.integers(80, 200))
        if j % 2:
            position = rng.integers(0, chars.size - 3)
            chars[position : position + 3] = list("WWH")
        proteins.append("".join(chars))
    chlorine = np.array(["Cl" in s for s in smiles], float)
    motif = np.array(["WWH" in p for p in proteins], float)
    y = 11.0 + chlorine[:, None] + motif[None, :] + rng.normal(0, 0.1, (24, 30))
    y[rng.random(y.shape) < 0.15] = np.nan
    num_pairs = int(np.sum(~np.isnan(y)))
    parts = np.array_split(rng.permutation(num_pairs), 6)
    write_matrix_dir(
        os.path.join(root, "kiba"),
        {f"CID{i}": s for i, s in enumerate(smiles)},
        {f"P{j}": p for j, p in enumerate(proteins)},
        y,
        parts[1:],
        parts[0],
    )
    return num_pairs


@pytest.mark.slow
def test_kiba_layout_trains_by_config_alone(tmp_path):
    num_pairs = write_small_kiba(str(tmp_path))
    workdir = tmp_path / "run"
    result = run_pgx(
        [
            "train",
            "--config",
            "configs/dti/deepdta.py:kiba",
            "--workdir",
            str(workdir),
            "--config.data.batch_size=16",
            "--config.train.num_epochs=30",
            "--config.optimizer.learning_rate=3e-3",
            "--config.optimizer.schedule=cosine",
            "--config.model.dropout_rate=0.0",
            "--config.model.embed_dim=16",
            "--config.model.num_filters=8",
            "--config.model.hidden=(64, 64, 32)",
            "--config.protocol.choices=(0,)",
        ],
        env={"PGX_DATA_DIR": str(tmp_path)},
    )
    run = workdir / "data.fold=0"
    config = read_json(str(run / "config.json"))
    assert config["data"]["folder"] == "kiba" and config["data"]["log_transform"] is False
    assert (config["data"]["smiles_length"], config["data"]["protein_length"]) == (100, 1000)
    counts = json.loads(result.stdout.split("fold 0: ")[1].splitlines()[0].replace("'", '"'))
    assert sum(counts.values()) == num_pairs and counts["dropped"] == 0
    results = read_json(str(workdir / "results.json"))
    # The mean predicts with MSE 0.5 and CI 0.5; one of the two effects alone gives MSE 0.25.
    # Pairs within one of the 4 (chlorine, motif) groups differ by noise only, so CI tops out
    # near 0.87.
    assert results["test/ci"] > 0.7, results
    assert results["test/mse"] < 0.2, results
