"""DeepConv-DTI on Davis made binary at pKd >= 7, beside DeepDTA used as a classifier.

pgx train --config configs/dti/deepconv_dti.py --workdir runs/davis_binary_deepconv_dti
pgx train --config configs/dti/deepconv_dti.py:deepdta --workdir runs/davis_binary_deepdta
pgx train --config configs/dti/deepconv_dti.py:balance --workdir runs/davis_binary_balanced
    # batches with as many interacting as non-interacting pairs (DeepACTION's idea)

Labels: a pair interacts when pKd >= 7 (Kd <= 100 nM), the Davis threshold of SimBoost (He et
al., J Cheminform 2017), which DeepDTA (Öztürk et al. 2018) used to report AUPR on Davis;
`threshold=` changes it. Everything else is DeepDTA's setting-1 protocol of
`configs/dti/deepdta.py:davis` (the same folds, common test fold, batch 256 of whole-protein
blocks, Adam 1e-3 constant, parameter average 0.998), for `epochs` epochs (30 by default),
with binary cross-entropy and AUROC / AUPRC. Only the model differs between the two rows:
DeepConv-DTI (`pgx_jax.models.deepconv_dti`: ECFP4 2,048 bits through dense 128; protein
residues embedded 20-d through convolutions of widths 10-30, 64 filters each, max-pooled,
dense 128-64; dense 256) reads each drug's fingerprint, DeepDTA its SMILES. One fold:
`--config.protocol.field=`.
"""

import ml_collections

from configs.dti import deepdta
from pgx_jax.configs import parse_arg
from pgx_jax.data import smiles


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = parse_arg(arg, deepdta=False, balance=False, threshold=7.0, epochs=30)
    config = deepdta.get_config(f"davis,epochs={arg.epochs}")
    config.data.threshold = arg.threshold
    config.data.balance = arg.balance
    config.eval.metrics = ("auroc", "auprc", "accuracy", "mcc")
    config.model.task = "binary"
    if not arg.deepdta:
        deepconv_dti(config)
    return config


def deepconv_dti(config: ml_collections.ConfigDict) -> None:
    """DeepConv-DTI's model with the defaults of the authors' script, drugs as ECFP4."""
    config.data.drug_input = "ecfp"
    config.data.fingerprint_radius = 2
    config.data.fingerprint_bits = 2048
    config.data.fingerprint_length = 100  # Davis drugs set at most 78 of the 2,048 bits
    config.model = ml_collections.ConfigDict()
    config.model.name = "deepconv_dti"
    config.model.task = "binary"
    config.model.bits = 2048
    config.model.protein_vocab = smiles.vocab_size(smiles.PROTEIN_CHARS)
    config.model.protein_embed = 20
    config.model.windows = (10, 15, 20, 25, 30)
    config.model.num_filters = 64
    config.model.protein_hidden = (128, 64)
    config.model.drug_hidden = (128,)
    config.model.hidden = (256,)
    config.model.dropout_rate = 0.2
    config.model.spatial_dropout = 0.2
