"""The fields every config shares: seed, optimiser, training, evaluation, protocol, mesh.

A domain config starts from `base_config(...)`, adds its `data` fields and `model`, and
overrides what differs (`config.optimizer.name = "adamw"`), so every run has the same knobs:
mixed precision (`train.compute_dtype`), fine-tuning (`train.init_from`, `train.init_head`,
`train.init_skip`, `optimizer.freeze`), the mesh (`mesh.data`, `mesh.model`, `mesh.rules`) and
the protocol (`protocol.field` over `protocol.choices`).
"""

from collections.abc import Sequence

import ml_collections


def base_config(
    experiment: str,
    *,
    batch_size: int,
    learning_rate: float,
    num_epochs: int,
    metrics: Sequence[str],
    early_stopping: str = "",
    mode: str = "max",
    patience: int = 0,
) -> ml_collections.ConfigDict:
    """A config for `experiments/<experiment>.py` without model or domain data fields."""
    config = ml_collections.ConfigDict()
    config.experiment = experiment
    config.seed = 0

    config.data = ml_collections.ConfigDict()
    config.data.batch_size = batch_size
    config.data.num_threads = 2
    config.data.tfds_dir = ""
    config.data.bad_records = "error"  # or "skip": leave bad records out, count and list them

    config.optimizer = ml_collections.ConfigDict()
    config.optimizer.name = "adam"
    config.optimizer.learning_rate = learning_rate
    config.optimizer.schedule = "cosine"
    config.optimizer.warmup_steps = 0
    config.optimizer.weight_decay = 0.0
    config.optimizer.grad_clip_norm = 1.0
    config.optimizer.freeze = ()

    config.train = ml_collections.ConfigDict()
    config.train.num_epochs = num_epochs
    config.train.num_steps = 0
    config.train.eval_every_steps = 0
    config.train.log_every_steps = 20
    config.train.checkpoint_every_steps = 0
    config.train.compute_dtype = "float32"
    config.train.ema_decay = 0.0  # > 0: evaluate, test and save a moving average of the params
    config.train.class_weight = ""  # "balanced", "balanced:A" or "w0,w1,...": class loss weights
    config.train.focal_gamma = 0.0  # > 0: the focal loss (binary, multiclass) instead of CE
    config.train.focal_alpha = -1.0  # its positive-class weight (negative: none)
    config.train.init_from = ""
    config.train.init_head = True
    config.train.init_skip = ()
    config.train.early_stopping = ml_collections.ConfigDict()
    config.train.early_stopping.metric = early_stopping
    config.train.early_stopping.mode = mode
    config.train.early_stopping.patience = patience

    config.eval = ml_collections.ConfigDict()
    config.eval.metrics = tuple(metrics)
    config.eval.tune_threshold = ""  # binary: also test at a threshold picked on validation:
    # "mcc" (its best MCC) or "balanced" (equal sensitivity and specificity)

    config.protocol = ml_collections.ConfigDict()
    config.protocol.field = ""
    config.protocol.choices = ()

    config.mesh = ml_collections.ConfigDict()
    config.mesh.data = -1
    config.mesh.model = 1
    config.mesh.rules = ()
    return config
