"""`pgx call-variants --workdir RUN --bam READS.bam --fasta REF.fa --output CALLS.vcf
[--normal NORMAL.bam] [--chroms chr4,chr5]`: variant calls of a trained pileup run as VCF.

A germline run (`configs/variants/pileup.py:germline`) finds the candidate alleles of the
BAM with the thresholds it trained with, classes each hom-ref, het or hom-alt, and writes
every allele not called hom-ref with GT, GQ and QUAL; a somatic run
(`configs/variants/pileup.py:somatic`) reads the tumour `--bam` beside `--normal` and writes
the alleles it calls somatic, with their type and length (`pgx_jax/variants/calling.py`).

example: pgx call-variants --workdir runs/dv --bam runs/reads/sample_30x.bam
         --fasta runs/reads/genome.fa --output calls.vcf
"""

import os
import sys

from absl import flags

from pgx_jax.commands.flags import parse
from pgx_jax.errors import PgxError
from pgx_jax.files import check_output


def _define(flag_values: flags.FlagValues) -> None:
    flags.DEFINE_string("workdir", None, "run directory of a pileup run", flag_values=flag_values)
    flags.DEFINE_string("bam", None, "sorted, indexed BAM (the tumour's)", flag_values=flag_values)
    flags.DEFINE_string(
        "fasta", None, "the reference FASTA the BAM is aligned to", flag_values=flag_values
    )
    flags.DEFINE_string("output", None, "VCF of the calls", flag_values=flag_values)
    flags.DEFINE_string(
        "normal", None, "the matched normal's BAM (somatic runs)", flag_values=flag_values
    )
    flags.DEFINE_list("chroms", [], "contigs to call (default: all)", flag_values=flag_values)
    flags.DEFINE_integer(
        "batch_size", 0, "candidates per batch (default: the run's)", flag_values=flag_values
    )


def main(argv: list[str]) -> int:
    """Call the variants of a BAM with a finished pileup run."""
    flag_values, _ = parse("call-variants", argv, _define, with_config=False)
    for name in ("workdir", "bam", "fasta", "output"):
        if not flag_values[name].value:
            raise PgxError("--workdir, --bam, --fasta and --output are required")
    for name in ("bam", "fasta", "normal"):
        path = flag_values[name].value
        if path and not os.path.isfile(path):
            raise PgxError(f"--{name}: file not found: {path}")
    check_output(flag_values.output, "--output")
    from pgx_jax.runs import load_run
    from pgx_jax.variants.calling import call_variants

    run = load_run(flag_values.workdir)
    if run.config.experiment != "pileup":
        raise PgxError(
            f"{flag_values.workdir}: experiment {run.config.experiment!r} is not a pileup run"
        )
    calls = call_variants(
        run,
        flag_values.bam,
        flag_values.fasta,
        flag_values.output,
        normal=flag_values.normal,
        chroms=flag_values.chroms,
        batch_size=flag_values.batch_size,
    )
    print(
        f"call-variants: {calls} calls written to {flag_values.output} "
        f"({run.kind} checkpoint, step {run.step})",
        file=sys.stderr,
    )
    return 0
