"""BPNet (Avsec et al. 2021) on a genome: base-resolution coverage of each bigWig track over
1,000-bp windows at the peak summits (and as many GC-matched background windows), with the
multinomial profile loss and the squared error of log(1 + total count).

python -m pgx_jax.data.genome_synthetic runs/genome --size-mb 20      # a generated genome
pgx train --config configs/genome/bpnet.py:dir=runs/genome,steps=1500 --workdir runs/bpnet

The tracks table's `coverage` rows are the targets (its `peaks` rows place the windows).
Metrics per track and their mean: Pearson of log(1 + total count) over test windows, and the
mean per-window profile Pearson and Jensen-Shannon distance. `counts` (the variant
`:dir=...,target=counts`) predicts each track's total over the central 200 bp with a Poisson
loss instead.
"""

import ml_collections

from configs.genome import basset
from configs.genome.common import genome_config
from pgx_jax.configs import parse_arg


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = parse_arg(
        arg,
        dir="",
        genome="",
        tracks="",
        blacklist="",
        epochs=10,
        steps=0,
        eval_every=0,
        target="profile",
    )
    config = genome_config(arg, length=1000, windows="peaks", batch_size=64, learning_rate=1e-3)
    config.data.target = arg.target
    config.data.profile_length = 1000 if arg.target == "profile" else 0
    config.eval.metrics = (
        ("count_pearson", "profile_pearson", "profile_jsd")
        if arg.target == "profile"
        else ("log_pearson", "pearson")
    )
    config.train.early_stopping.metric = (
        "validation/count_pearson" if arg.target == "profile" else "validation/log_pearson"
    )
    if arg.target != "profile":  # Basset's tower, one log rate per track
        config.model = basset.get_config(f"dir={arg.dir}").model
        return config
    config.model = ml_collections.ConfigDict()
    config.model.name = "bpnet"
    config.model.filters = 64
    config.model.layers = 8
    config.model.first_width = 21
    config.model.profile_width = 75
    return config
