"""Variant calling from read pileups: a DeepVariant-style CNN classing each candidate allele's
genotype (germline), or a NeuSomatic-style residual net classing a tumour/normal candidate's
type and length (somatic), on reads with a known truth.

python -m pgx_jax.data.reads_synthetic runs/reads --size-mb 3 --coverage 10 30 60 --somatic
pgx train --config configs/variants/pileup.py:germline,dir=runs/reads,coverage=30 --workdir runs/dv
pgx call-variants --workdir runs/dv --bam runs/reads/sample_30x.bam --fasta runs/reads/genome.fa \
    --output calls.vcf
pgx train --config configs/variants/pileup.py:somatic,dir=runs/reads,coverage=30 --workdir runs/ns

`dir=` holds what `pgx_jax.data.reads_synthetic` writes (genome.fa, truth.vcf.gz,
sample_<C>x.bam; somatic_truth.vcf.gz, tumour_<C>x.bam, normal_<C>x.bam); or give `fasta=`,
`bam=`, `truth=` (and `normal=`). chr4 is held out for validation, chr5 for test. `steps=`
caps training (a budget for this CPU).
"""

import ml_collections

from configs.base import base_config
from pgx_jax.configs import parse_arg


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = parse_arg(
        arg,
        germline=False,
        somatic=False,
        dir="",
        coverage=30,
        fasta="",
        bam="",
        normal="",
        truth="",
        epochs=10,
        steps=0,
    )
    somatic = arg.somatic
    config = base_config(
        "pileup",
        batch_size=64,
        learning_rate=1e-3,
        num_epochs=arg.epochs,
        metrics=("micro_f1", "micro_precision", "micro_recall", "accuracy"),
        early_stopping="validation/micro_f1",
        patience=3,
    )
    config.train.num_steps = arg.steps
    data = config.data
    data.task = "somatic" if somatic else "germline"
    sample = "tumour" if somatic else "sample"
    data.fasta = arg.fasta or f"{arg.dir}/genome.fa"
    data.bam = arg.bam or f"{arg.dir}/{sample}_{arg.coverage}x.bam"
    data.normal = arg.normal or (f"{arg.dir}/normal_{arg.coverage}x.bam" if somatic else "")
    data.truth = arg.truth or f"{arg.dir}/{'somatic_truth' if somatic else 'truth'}.vcf.gz"
    data.validation_chroms = ("chr4",)
    data.test_chroms = ("chr5",)
    data.width = 33  # positions of a pileup, centred on the candidate
    data.height = 64  # rows of a pileup image: the reference and up to 63 reads
    data.region_size = 100_000  # candidates are found region by region
    data.min_mapq = 10
    data.min_base_quality = 10
    data.min_count = 2  # reads with the ALT for a candidate
    data.min_fraction = 0.03 if somatic else 0.05  # of the depth

    config.model = ml_collections.ConfigDict()
    if somatic:
        config.model.name = "somatic_resnet"
        config.model.filters = 64
        config.model.blocks = 3
        config.model.kernel_size = 3
    else:
        config.model.name = "pileup_cnn"
        config.model.filters = (16, 32, 64)
    config.model.hidden = 64
    config.model.dropout_rate = 0.1
    return config
