"""Pieces every regulatory config shares: the base config and cross-validation folds."""

import ml_collections

from configs.base import base_config


def regulatory_config(
    *, learning_rate: float, num_epochs: int, batch_size: int
) -> ml_collections.ConfigDict:
    """A regulatory config without domain `data` fields or `model`; the caller adds those."""
    config = base_config(
        "regulatory",
        batch_size=batch_size,
        learning_rate=learning_rate,
        num_epochs=num_epochs,
        metrics=("accuracy", "sensitivity", "specificity", "mcc", "auroc"),
        early_stopping="validation/auroc",
    )
    config.data.dir = ""
    config.data.max_shift = 0  # > 0: shifted copies of the training sequences
    return config


def cross_validation(config: ml_collections.ConfigDict, num_folds: int, seed: int = 0) -> None:
    """Stratified `num_folds`-fold cross-validation over `config.data.fold`."""
    config.data.fold = 0
    config.data.num_folds = num_folds
    config.data.fold_seed = seed
    config.protocol.field = "data.fold"
    config.protocol.choices = tuple(range(num_folds))
