"""RBP binding on RBP-24 CLIP experiments, iDeepE style (global + local CNN, averaged).

pgx train --config configs/binding/rbp.py:rbp=PARCLIP_PUM2
pgx train --config configs/binding/rbp.py:rbp=ALKBH5,case=viewpoint

`rbp=<prefix>` names an experiment in $PGX_DATA_DIR/rbp24_graphprot by a prefix of its file
names; it is trained on its `train` files and tested on its `ls` files. `case=viewpoint` adds a
channel marking the upper-case binding site; `branches=global` or `local` keeps one branch.
"""

import ml_collections

from pgx_jax.configs import parse_arg


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = parse_arg(arg, rbp="PARCLIP_PUM2", case="ignore", branches="global+local")
    config = ml_collections.ConfigDict()
    config.experiment = "rbp"
    config.seed = 0

    config.data = ml_collections.ConfigDict()
    config.data.name = "rbp24"
    config.data.experiment = arg.rbp
    config.data.dir = ""
    config.data.case = arg.case
    config.data.length = 0
    config.data.validation_fraction = 0.1
    config.data.seed = 0
    config.data.batch_size = 128
    config.data.num_threads = 2
    config.data.tfds_dir = ""

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

    config.optimizer = ml_collections.ConfigDict()
    config.optimizer.name = "adam"
    config.optimizer.learning_rate = 3e-3
    config.optimizer.schedule = "cosine"
    config.optimizer.warmup_steps = 0
    config.optimizer.weight_decay = 0.0
    config.optimizer.grad_clip_norm = 1.0

    config.train = ml_collections.ConfigDict()
    config.train.num_epochs = 5
    config.train.num_steps = 0
    config.train.eval_every_steps = 0
    config.train.log_every_steps = 20
    config.train.checkpoint_every_steps = 0
    config.train.early_stopping = ml_collections.ConfigDict()
    config.train.early_stopping.metric = "validation/auroc"
    config.train.early_stopping.mode = "max"
    config.train.early_stopping.patience = 2

    config.eval = ml_collections.ConfigDict()
    config.eval.metrics = ("auroc", "auprc", "accuracy", "mcc")

    config.protocol = ml_collections.ConfigDict()
    config.protocol.field = ""
    config.protocol.choices = ()

    config.mesh = ml_collections.ConfigDict()
    config.mesh.data = -1
    return config
