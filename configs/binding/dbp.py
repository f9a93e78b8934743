"""DNA-binding proteins (DeepDBP-CNN style): train on PDB1075, test on PDB186.

pgx train --config configs/binding/dbp.py                 # the benchmark as published
pgx train --config configs/binding/dbp.py:exclude=1.0     # without test chains in training
pgx train --config configs/binding/dbp.py:homologs=0.3    # without their homologs either

`exclude=F` drops training chains sharing at least a fraction F of their 5-mers with a PDB186
chain (1.0: identical chains and exact fragments), since the benchmark leaks. `homologs=S` drops
training chains with a PDB186 homolog at local alignment similarity >= S (0.3: the homology
threshold below), standing in for the CD-HIT removal of training chains over 25 % identical to a
test chain that papers testing on PDB186 apply. `seeds=N` repeats the run over N seeds and
reports the mean and standard deviation. `kmer=K` adds the chain's 1- to K-mer residue
frequencies (amino-acid, dipeptide, ... composition) beside the pooled filters. `members=N`
trains N such networks at once (one vmapped ensemble, differing by initialisation and dropout)
and averages their probabilities. Every run also scores the test chains with a training homolog
(local alignment similarity >= `eval.homology_threshold`) apart from the novel ones, and
homology transfer with and without the network (docs/results.md).
"""

import ml_collections

from configs.base import base_config
from pgx_jax.configs import identical_members, parse_arg
from pgx_jax.data.alphabets import PROTEIN, vocab_size
from pgx_jax.data.homology import HOMOLOGY_THRESHOLD


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = parse_arg(arg, exclude=0.0, homologs=0.0, seeds=0, kmer=0, members=1)
    config = base_config(
        "dbp",
        batch_size=32,
        learning_rate=3e-3,
        num_epochs=20,
        metrics=("accuracy", "mcc", "auroc", "sensitivity", "specificity"),
        early_stopping="validation/loss",
        mode="min",
        patience=6,
    )
    config.optimizer.name = "adamw"
    config.optimizer.weight_decay = 0.05
    config.train.log_every_steps = 10
    config.protocol.field = "seed" if arg.seeds else ""
    config.protocol.choices = tuple(range(arg.seeds))
    data = config.data
    data.name = "dbp"
    data.dir = ""
    data.length = 512
    data.exclude_similar = arg.exclude
    data.exclude_homologs = arg.homologs
    data.validation_fraction = 0.1
    data.seed = 0

    config.eval.homology_threshold = HOMOLOGY_THRESHOLD  # experiments/dbp.py::leakage_report

    config.model = ml_collections.ConfigDict()
    config.model.name = "deepdbp"
    config.model.vocab_size = vocab_size(PROTEIN)
    config.model.embed_dim = 16
    config.model.num_filters = 256
    config.model.kernel_sizes = (5, 11, 21)
    config.model.hidden = 64
    config.model.pooling = "max_avg"
    config.model.kmer_sizes = tuple(range(1, arg.kmer + 1))
    config.model.dropout_rate = 0.5
    config.model = identical_members(config.model, arg.members)
    return config
