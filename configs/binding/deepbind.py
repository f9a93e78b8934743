"""DeepBind on the binding domain.

pgx train --config configs/binding/deepbind.py            # embedded default: planted JASPAR motif
pgx train --config configs/binding/deepbind.py:motif=MA0138   # plant another JASPAR motif
pgx train --config configs/binding/deepbind.py:tf=GABPA       # an ENCODE ChIP-seq experiment

`tf=<prefix>` names a ChIP-seq experiment in $PGX_DATA_DIR/deepbind_encode_chipseq by a prefix of
its file names; negatives are dinucleotide shuffles of the positives, the test set is its `_B`
file. Reverse-complement switches: `rc` (filters shared across strands, max over strands),
`rcaug` (reverse-complement copies of the training sequences), `rcavg` (mean over strands at
evaluation).
"""

import ml_collections

from pgx_jax.configs import parse_arg


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = parse_arg(arg, motif="MA0139", rc=False, tf="", rcaug=False, rcavg=False)
    config = ml_collections.ConfigDict()
    config.experiment = "binding"
    config.seed = 0

    config.data = ml_collections.ConfigDict()
    config.data.name = "synthetic_motif"
    config.data.motif_id = arg.motif
    config.data.length = 101
    config.data.num_examples = 20000
    config.data.instances = 1
    config.data.seed = 0
    config.data.alphabet = "dna"
    config.data.unknown = "uniform"
    config.data.batch_size = 256
    config.data.num_threads = 2
    config.data.pre_encode = True
    config.data.tfds_dir = ""

    config.model = ml_collections.ConfigDict()
    config.model.name = "deepbind"
    config.model.num_filters = 16
    config.model.filter_width = 24
    config.model.hidden = 32
    config.model.dropout_rate = 0.5
    config.model.pooling = "max"
    config.model.reverse_complement = arg.rc

    config.optimizer = ml_collections.ConfigDict()
    config.optimizer.name = "adam"
    config.optimizer.learning_rate = 3e-3
    config.optimizer.schedule = "cosine"
    config.optimizer.warmup_steps = 0
    config.optimizer.weight_decay = 0.0
    config.optimizer.grad_clip_norm = 1.0
    config.optimizer.freeze = ()

    config.train = ml_collections.ConfigDict()
    config.train.num_epochs = 15
    config.train.num_steps = 0
    config.train.eval_every_steps = 0
    config.train.log_every_steps = 20
    config.train.checkpoint_every_steps = 0
    config.train.compute_dtype = "float32"
    config.train.init_from = ""
    config.train.init_head = True
    config.train.init_skip = ()
    config.train.early_stopping = ml_collections.ConfigDict()
    config.train.early_stopping.metric = "validation/auroc"
    config.train.early_stopping.mode = "max"
    config.train.early_stopping.patience = 5

    config.eval = ml_collections.ConfigDict()
    config.eval.metrics = ("auroc", "auprc", "accuracy", "mcc", "sensitivity", "specificity")

    config.protocol = ml_collections.ConfigDict()
    config.protocol.field = ""
    config.protocol.choices = ()

    config.mesh = ml_collections.ConfigDict()
    config.mesh.data = -1
    config.mesh.model = 1
    config.mesh.rules = ()
    if arg.tf:
        _chipseq(config, arg)
    return config


def _chipseq(config: ml_collections.ConfigDict, arg) -> None:
    """DeepBind on the ENCODE ChIP-seq experiment `arg.tf` names."""
    data = config.data
    for field in ("motif_id", "num_examples", "instances"):
        del data[field]
    data.name = "chipseq"
    data.experiment = arg.tf
    data.dir = ""
    data.negatives = 1
    data.validation_fraction = 0.1
    data.rc_augment = arg.rcaug
    data.rc_average = arg.rcavg
