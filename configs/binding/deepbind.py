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

from configs.base import base_config
from pgx_jax.configs import parse_arg


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = parse_arg(arg, motif="MA0139", rc=False, tf="", rcaug=False, rcavg=False)
    config = base_config(
        "binding",
        batch_size=256,
        learning_rate=3e-3,
        num_epochs=15,
        metrics=("auroc", "auprc", "accuracy", "mcc", "sensitivity", "specificity"),
        early_stopping="validation/auroc",
        patience=5,
    )
    data = config.data
    data.name = "synthetic_motif"
    data.motif_id = arg.motif
    data.length = 101
    data.num_examples = 20000
    data.instances = 1
    data.seed = 0
    data.alphabet = "dna"
    data.unknown = "uniform"
    data.pre_encode = True

    config.model = ml_collections.ConfigDict()
    config.model.name = "deepbind"
    config.model.num_filters = 16
    config.model.filter_width = 24
    config.model.hidden = 32
    config.model.dropout_rate = 0.5
    config.model.pooling = "max"
    config.model.reverse_complement = arg.rc
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
