"""iEnhancer-2L with an ECNN-style ensemble: 5-fold CV on the training set, then the whole
training set against the independent test set (`final/test/<metric>` in results.json).

pgx train --config configs/regulatory/enhancer.py:layer=1
pgx train --config configs/regulatory/enhancer.py:layer=2
pgx train --config configs/regulatory/enhancer.py:layer=2,dedup   # without the 100 leaked

pgx train --config configs/regulatory/enhancer.py:layer=1,biren  # CNN + BiGRU (BiRen-style)

`kmer=K` gives each member the input's 1- to K-mer frequencies beside its pooled filters
(default: 6 for layer 1, none for layer 2, each chosen on cross-validation).
"""

import ml_collections

from configs.regulatory.common import cross_validation, regulatory_config
from pgx_jax.configs import parse_arg


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = parse_arg(arg, layer=1, dedup=False, folds=5, kmer=-1, biren=False)
    config = regulatory_config(learning_rate=1e-3, num_epochs=10, batch_size=64)
    config.data.name = "ienhancer"
    config.data.layer = arg.layer
    config.data.drop_test_duplicates = arg.dedup
    config.data.validation_fraction = 0.0
    cross_validation(config, arg.folds)
    config.protocol.final = -1

    config.model = ml_collections.ConfigDict()
    config.model.name = "ensemble"
    config.model.kernel_sizes = (5, 7, 9, 11, 13)
    config.model.kernel_field = "kernel_size"
    config.model.member = ml_collections.ConfigDict()
    config.model.member.name = "enhancer_cnn"
    config.model.member.num_filters = 16
    config.model.member.hidden = 32
    config.model.member.conv_dropout = 0.2
    config.model.member.pooling = "max_avg" if arg.layer == 1 else "max"  # chosen on CV
    kmer = arg.kmer if arg.kmer >= 0 else (6 if arg.layer == 1 else 0)
    config.model.member.kmer_sizes = tuple(range(1, kmer + 1))
    config.model.member.dropout_rate = 0.5
    config.model.member.reverse_complement = False
    config.optimizer.weight_decay = 1e-4
    config.optimizer.name = "adamw"
    config.train.early_stopping.metric = ""
    if arg.biren:
        config.model = biren_model()
    if arg.layer == 2:  # a fifth of the steps per epoch of layer 1 and a subtler task
        config.train.num_epochs = 30
        config.optimizer.learning_rate = 3e-3
    return config


def biren_model() -> ml_collections.ConfigDict:
    """BiRen-style (Yang et al. 2017): one network, convolution and max pooling, then a
    bidirectional GRU pooled by attention, instead of the ensemble of CNNs."""
    model = ml_collections.ConfigDict()
    model.name = "conv_recurrent"
    model.num_filters = 64
    model.filter_width = 9
    model.pool_size = 3
    model.cell = "gru"
    model.rnn_hidden = 32
    model.pooling = "attention"
    model.attention_dim = 32
    model.hidden = 32
    model.dropout_rate = 0.3
    return model
