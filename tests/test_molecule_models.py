"""Fingerprint models learn: a tiny FP2VEC tells molecules with chlorine from those without on
held-out molecules, and `configs/dti/deepconv_dti.py` (DeepConv-DTI, binary labels at a pKd
threshold, balanced batches) classifies held-out pairs of a small Davis-layout set."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
from conftest import read_json, run_pgx
from test_dti_data import write_matrix_dir

from pgx_jax.data import fingerprints
from pgx_jax.data.example_tables import toy_smiles
from pgx_jax.metrics import auroc
from pgx_jax.models import create_model

AMINO = "ACDEFGHIKLMNPQRSTVY"  # no W: the motif is the only tryptophan


def test_fp2vec_learns_a_substructure_on_held_out_molecules():
    smiles = toy_smiles(range(1, 13))  # 96 molecules, half ending in chlorine
    words = fingerprints.fingerprint_words(smiles, smiles, length=40, bits=256)
    labels = np.array(["Cl" in s for s in smiles], np.float32)
    test = np.arange(len(smiles)) % 3 == 0  # 16 of each class
    model = create_model(
        "fp2vec",
        bits=256,
        embed_dim=8,
        num_filters=16,
        kernel_size=3,
        dropout_rate=0.0,
        task="binary",
    )
    params = model.init(jax.random.key(0), words[:2])["params"]
    optimizer = optax.adam(1e-2)

    @jax.jit
    def step(params, state):
        def loss(p):
            logits = model.apply({"params": p}, words[~test])
            return optax.sigmoid_binary_cross_entropy(logits, labels[~test]).mean()

        updates, state = optimizer.update(jax.grad(loss)(params), state)
        return optax.apply_updates(params, updates), state

    state = optimizer.init(params)
    for _ in range(60):
        params, state = step(params, state)
    scores = model.apply({"params": params}, jnp.asarray(words[test]))
    assert auroc(labels[test], np.asarray(scores)) > 0.95


def write_small_davis(root: str, seed: int = 0) -> None:
    """24 drugs x 30 proteins in Davis's layout (Kd in nM): a pair binds (Kd 10 nM, pKd 8)
    when the drug carries chlorine and the protein a WWH motif, else Kd 10 uM (pKd 5), so a
    quarter of the pairs interact at the pKd-7 threshold."""
    rng = np.random.default_rng(seed)
    smiles = toy_smiles(range(1, 4))
    proteins = []
    for j in range(30):
        chars = rng.choice(list(AMINO), rng.integers(60, 120))
        if j % 2:
            position = rng.integers(0, chars.size - 3)
            chars[position : position + 3] = list("WWH")
        proteins.append("".join(chars))
    chlorine = np.array(["Cl" in s for s in smiles])
    motif = np.array(["WWH" in p for p in proteins])
    kd = np.where(chlorine[:, None] & motif[None, :], 10.0, 10_000.0)
    parts = np.array_split(rng.permutation(kd.size), 6)
    write_matrix_dir(
        os.path.join(root, "davis"),
        {f"CID{i}": s for i, s in enumerate(smiles)},
        {f"P{j}": p for j, p in enumerate(proteins)},
        kd,
        parts[1:],
        parts[0],
    )


def test_deepconv_dti_classifies_held_out_pairs_with_balanced_batches(tmp_path):
    write_small_davis(str(tmp_path))
    workdir = tmp_path / "run"
    result = run_pgx(
        [
            "train",
            "--config",
            "configs/dti/deepconv_dti.py:balance,epochs=15",
            "--workdir",
            str(workdir),
            "--config.protocol.field=",
            "--config.data.batch_size=16",
            "--config.data.protein_length=120",
            "--config.data.fingerprint_bits=256",
            "--config.model.bits=256",
            "--config.model.windows=(3, 5)",
            "--config.model.num_filters=8",
            "--config.model.protein_hidden=(16,)",
            "--config.model.drug_hidden=(16,)",
            "--config.model.hidden=(16,)",
            "--config.model.dropout_rate=0.0",
            "--config.model.spatial_dropout=0.0",
            "--config.train.ema_decay=0.0",
            "--config.train.eval_every_steps=0",
        ],
        env={"PGX_DATA_DIR": str(tmp_path)},
    )
    assert "positives" in result.stdout and "balanced between the classes" in result.stdout
    results = read_json(str(workdir / "results.json"))
    assert results["test/auroc"] > 0.9, results
