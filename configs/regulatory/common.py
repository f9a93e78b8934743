"""Pieces every regulatory config shares: optimiser, training, evaluation, protocol, mesh."""

import ml_collections


def base_config(
    *, learning_rate: float, num_epochs: int, batch_size: int
) -> ml_collections.ConfigDict:
    """A regulatory config without `data` fields or `model`; the caller adds those."""
    config = ml_collections.ConfigDict()
    config.experiment = "regulatory"
    config.seed = 0

    config.data = ml_collections.ConfigDict()
    config.data.batch_size = batch_size
    config.data.num_threads = 2
    config.data.tfds_dir = ""
    config.data.dir = ""

    config.optimizer = ml_collections.ConfigDict()
    config.optimizer.name = "adam"
    config.optimizer.learning_rate = learning_rate
    config.optimizer.schedule = "cosine"
    config.optimizer.warmup_steps = 0
    config.optimizer.weight_decay = 0.0
    config.optimizer.grad_clip_norm = 1.0

    config.train = ml_collections.ConfigDict()
    config.train.num_epochs = num_epochs
    config.train.num_steps = 0
    config.train.eval_every_steps = 0
    config.train.log_every_steps = 20
    config.train.checkpoint_every_steps = 0
    config.train.early_stopping = ml_collections.ConfigDict()
    config.train.early_stopping.metric = "validation/auroc"
    config.train.early_stopping.mode = "max"
    config.train.early_stopping.patience = 0

    config.eval = ml_collections.ConfigDict()
    config.eval.metrics = ("accuracy", "sensitivity", "specificity", "mcc", "auroc")

    config.protocol = ml_collections.ConfigDict()
    config.protocol.field = ""
    config.protocol.choices = ()

    config.mesh = ml_collections.ConfigDict()
    config.mesh.data = -1
    return config


def cross_validation(config: ml_collections.ConfigDict, num_folds: int, seed: int = 0) -> None:
    """Stratified `num_folds`-fold cross-validation over `config.data.fold`."""
    config.data.fold = 0
    config.data.num_folds = num_folds
    config.data.fold_seed = seed
    config.protocol.field = "data.fold"
    config.protocol.choices = tuple(range(num_folds))
