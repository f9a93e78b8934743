"""The fields every genome-scale config shares: the genome, its tracks, windows, holdouts."""

import ml_collections

from configs.base import base_config


def genome_config(
    arg, *, length: int, windows: str, batch_size: int, learning_rate: float
) -> ml_collections.ConfigDict:
    """A config for `experiments/genome.py` over `arg.dir` (a folder with `genome.fa` and
    `tracks.tsv`, as `python -m pgx_jax.data.genome_synthetic` writes) or `arg.genome` and
    `arg.tracks`; the caller adds the model."""
    config = base_config(
        "genome",
        batch_size=batch_size,
        learning_rate=learning_rate,
        num_epochs=arg.epochs,
        metrics=("auroc", "auprc"),
        early_stopping="validation/auroc",
        patience=5,
    )
    config.train.num_steps = arg.steps
    config.train.eval_every_steps = arg.eval_every
    data = config.data
    data.genome = arg.genome or f"{arg.dir}/genome.fa"
    data.tracks = arg.tracks or f"{arg.dir}/tracks.tsv"
    data.windows = windows  # "peaks" (summits, GC-matched negatives) or "tile"
    data.length = length
    data.bin_size = 200
    data.stride = 200
    data.min_overlap = 0.5
    data.negatives = 1.0  # GC-matched background windows per peak window ("peaks")
    data.blacklist = arg.blacklist
    data.validation_chroms = ("chr7",)
    data.test_chroms = ("chr8", "chr9")
    data.jitter = 20
    data.rc_augment = True
    data.eval_windows = 0  # > 0: validation and test on that many evenly spaced windows
    data.target = "peaks"  # labels: "peaks" (binary), "counts" or "profile" (bigWig coverage)
    data.profile_length = 0  # "profile": the central bases whose coverage is predicted
    data.seed = 0
    data.pre_encode = False
    return config
