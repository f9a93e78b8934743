"""RBP binding on RBP-24 CLIP experiments, iDeepE style (global + local CNN, averaged).

pgx train --config configs/binding/rbp.py:rbp=PARCLIP_PUM2
pgx train --config configs/binding/rbp.py:rbp=ALKBH5,case=viewpoint
pgx train --config configs/binding/rbp.py:rbp=ALKBH5,ideeps   # sequence + structure, CNN + BiLSTM

`rbp=<prefix>` names an experiment in $PGX_DATA_DIR/rbp24_graphprot by a prefix of its file
names; it is trained on its `train` files and tested on its `ls` files. `case=viewpoint` adds a
channel marking the upper-case binding site; `branches=global` or `local` keeps one branch.
`ideeps` reads the sequence and its predicted secondary structure (ViennaRNA, folded once into
a cache; slow the first time) with a CNN + BiLSTM (iDeepS-style).
"""

import ml_collections

from configs.base import base_config
from pgx_jax.configs import parse_arg


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = parse_arg(arg, rbp="PARCLIP_PUM2", case="ignore", branches="global+local", ideeps=False)
    config = base_config(
        "rbp",
        batch_size=128,
        learning_rate=3e-3,
        num_epochs=30,  # the small experiments (ALKBH5: 2,400 sequences) need many epochs
        metrics=("auroc", "auprc", "accuracy", "mcc"),
        early_stopping="validation/auroc",
        patience=6,
    )
    data = config.data
    data.name = "rbp24"
    data.experiment = arg.rbp
    data.dir = ""
    data.case = arg.case
    data.length = 0
    data.validation_fraction = 0.1
    data.seed = 0

    config.model = ml_collections.ConfigDict()
    config.model.name = "ideepe"
    config.model.num_filters = 32
    config.model.filter_width = 10
    config.model.pool_size = 3
    config.model.hidden = 64
    config.model.dropout_rate = 0.25
    config.model.window = 101
    config.model.window_stride = 81
    config.model.branches = tuple(arg.branches.split("+"))
    data.structure = arg.ideeps
    if arg.ideeps:
        config.model = ml_collections.ConfigDict()
        config.model.name = "conv_recurrent"
        config.model.num_filters = 32
        config.model.filter_width = 10
        config.model.structure_filters = 16
        config.model.pool_size = 3
        config.model.cell = "lstm"
        config.model.rnn_hidden = 32
        config.model.pooling = "attention"
        config.model.attention_dim = 32
        config.model.hidden = 64
        config.model.dropout_rate = 0.25

    return config
