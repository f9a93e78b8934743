"""Multi-task accessibility head (Basset / Deopen style) on planted motifs: four tasks, two
JASPAR motifs each, 20 % of labels missing (weight 0).

pgx train --config configs/regulatory/accessibility.py
"""

import ml_collections

from configs.regulatory.common import regulatory_config
from pgx_jax.configs import parse_arg

TASK_MOTIFS = (
    ("MA0139", "MA0112"),  # CTCF, ESR1
    ("MA0079", "MA0007"),  # SP1, Ar
    ("MA0138", "MA0080"),  # REST, Spi1
    ("MA0105", "MA0506"),  # NFKB1, Nrf1
)


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = parse_arg(arg, num_examples=8000, missing=0.2)
    config = regulatory_config(learning_rate=3e-3, num_epochs=12, batch_size=64)
    config.data.name = "planted_tasks"
    config.data.task_motifs = TASK_MOTIFS
    config.data.num_examples = arg.num_examples
    config.data.length = 100
    config.data.positive_rate = 0.3
    config.data.missing_rate = arg.missing
    config.data.seed = 0

    config.model = ml_collections.ConfigDict()
    config.model.name = "multitask_cnn"
    config.model.num_tasks = len(TASK_MOTIFS)
    config.model.num_filters = 64
    config.model.kernel_size = 15
    config.model.depth = 1
    config.model.reverse_complement = True
    config.eval.metrics = ("auroc", "auprc")
    config.train.early_stopping.metric = "validation/auroc"
    config.train.early_stopping.patience = 3
    return config
