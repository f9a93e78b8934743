"""Basset (Kelley et al. 2016) on a genome: 600-bp windows at the summits of each track's peaks
and as many GC-matched background windows, one task per peak file.

python -m pgx_jax.data.genome_synthetic runs/genome --size-mb 20      # a generated genome
pgx train --config configs/genome/basset.py:dir=runs/genome --workdir runs/basset
pgx train --config configs/genome/basset.py:genome=hg38.fa,tracks=tracks.tsv,blacklist=bl.bed

`dir=` is a folder holding `genome.fa` and `tracks.tsv` (id, file, kind, description; the peak
files are BED or narrowPeak); or give `genome=` and `tracks=`. chr7 is held out for validation,
chr8 and chr9 for test. `steps=` caps training (a budget for this CPU).
"""

import ml_collections

from configs.genome.common import genome_config
from pgx_jax.configs import parse_arg


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = parse_arg(
        arg, dir="", genome="", tracks="", blacklist="", epochs=10, steps=0, eval_every=0
    )
    config = genome_config(arg, length=600, windows="peaks", batch_size=64, learning_rate=2e-3)
    config.model = ml_collections.ConfigDict()
    config.model.name = "basset"
    config.model.filters = (300, 200, 200)
    config.model.widths = (19, 11, 7)
    config.model.pools = (3, 4, 4)
    config.model.hidden = (1000, 1000)
    config.model.dropout_rate = 0.3
    return config
