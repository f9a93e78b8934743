"""DNA-binding proteins (DeepDBP-CNN style): train on PDB1075, test on PDB186.

pgx train --config configs/binding/dbp.py                 # the benchmark as published
pgx train --config configs/binding/dbp.py:exclude=1.0     # without test chains in training

`exclude=F` drops training chains sharing at least a fraction F of their 5-mers with a PDB186
chain (1.0: identical chains and exact fragments), since the benchmark leaks. `seeds=N` repeats
the run over N seeds and reports the mean and standard deviation.
"""

import ml_collections

from pgx_jax.configs import parse_arg
from pgx_jax.data.alphabets import PROTEIN, vocab_size


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = parse_arg(arg, exclude=0.0, seeds=0)
    config = ml_collections.ConfigDict()
    config.experiment = "dbp"
    config.seed = 0

    config.data = ml_collections.ConfigDict()
    config.data.name = "dbp"
    config.data.dir = ""
    config.data.length = 512
    config.data.exclude_similar = arg.exclude
    config.data.validation_fraction = 0.1
    config.data.seed = 0
    config.data.batch_size = 32
    config.data.num_threads = 2
    config.data.tfds_dir = ""

    config.model = ml_collections.ConfigDict()
    config.model.name = "deepdbp"
    config.model.vocab_size = vocab_size(PROTEIN)
    config.model.embed_dim = 16
    config.model.num_filters = 64
    config.model.kernel_sizes = (3, 7, 15)
    config.model.hidden = 64
    config.model.pooling = "max_avg"
    config.model.dropout_rate = 0.5

    config.optimizer = ml_collections.ConfigDict()
    config.optimizer.name = "adamw"
    config.optimizer.learning_rate = 3e-3
    config.optimizer.schedule = "cosine"
    config.optimizer.warmup_steps = 0
    config.optimizer.weight_decay = 0.05
    config.optimizer.grad_clip_norm = 1.0

    config.train = ml_collections.ConfigDict()
    config.train.num_epochs = 20
    config.train.num_steps = 0
    config.train.eval_every_steps = 0
    config.train.log_every_steps = 10
    config.train.checkpoint_every_steps = 0
    config.train.early_stopping = ml_collections.ConfigDict()
    config.train.early_stopping.metric = "validation/loss"
    config.train.early_stopping.mode = "min"
    config.train.early_stopping.patience = 6

    config.eval = ml_collections.ConfigDict()
    config.eval.metrics = ("accuracy", "mcc", "auroc", "sensitivity", "specificity")

    config.protocol = ml_collections.ConfigDict()
    config.protocol.field = "seed" if arg.seeds else ""
    config.protocol.choices = tuple(range(arg.seeds))

    config.mesh = ml_collections.ConfigDict()
    config.mesh.data = -1
    return config
