"""Multi-task accessibility head (Basset / Deopen style) on planted motifs: four tasks, two
JASPAR motifs each, 20 % of labels missing (weight 0).

pgx train --config configs/regulatory/accessibility.py
"""

import ml_collections

from configs.regulatory.common import base_config
from pgx_jax.configs import parse_arg

TASK_MOTIFS = (
    ("MA0139", "MA0035"),  # CTCF, GATA1
    ("MA0079", "MA0148"),  # SP1, FOXA1
    ("MA0138", "MA0105"),  # REST, NFKB1
    ("MA0114", "MA0080"),  # HNF4A, Spi1
)


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = parse_arg(arg, num_examples=6000, missing=0.2)
    config = base_config(learning_rate=3e-3, num_epochs=10, batch_size=128)
    config.data.name = "planted_tasks"
    config.data.task_motifs = TASK_MOTIFS
    config.data.num_examples = arg.num_examples
    config.data.length = 200
    config.data.positive_rate = 0.3
    config.data.missing_rate = arg.missing
    config.data.seed = 0

    config.model = ml_collections.ConfigDict()
    config.model.name = "multitask_cnn"
    config.model.num_tasks = len(TASK_MOTIFS)
    config.model.num_filters = 64
    config.model.kernel_size = 15
    config.model.depth = 2
    config.eval.metrics = ("auroc", "auprc")
    config.train.early_stopping.metric = "validation/auroc"
    config.train.early_stopping.patience = 3
    return config
