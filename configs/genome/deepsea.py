"""DeepSEA (Zhou & Troyanskaya 2015) on a genome: the genome tiled every 200 bp, a 1000-bp
window around each 200-bp bin, labelled 1 for a track when its peaks cover half the bin.

python -m pgx_jax.data.genome_synthetic runs/genome --size-mb 20
pgx train --config configs/genome/deepsea.py:dir=runs/genome,steps=2000 --workdir runs/deepsea

A DeepSEA step is about 3 GFLOP a window: full epochs of millions of windows are for a GPU;
`steps=` sets a budget for a CPU.
"""

import ml_collections

from configs.genome.common import genome_config
from pgx_jax.configs import parse_arg


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = parse_arg(
        arg, dir="", genome="", tracks="", blacklist="", epochs=1, steps=0, eval_every=0
    )
    config = genome_config(arg, length=1000, windows="tile", batch_size=64, learning_rate=1e-3)
    config.data.jitter = 0  # tiles already cover every offset
    config.model = ml_collections.ConfigDict()
    config.model.name = "deepsea"
    config.model.filters = (320, 480, 960)
    config.model.width = 8
    config.model.pool = 4
    config.model.dropout_rates = (0.2, 0.2, 0.5)
    config.model.hidden = 925
    return config
