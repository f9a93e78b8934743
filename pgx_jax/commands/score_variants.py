"""`pgx score-variants --workdir RUN --fasta REF.fa --vcf VARIANTS.vcf[.gz] --output out.tsv`:
the effect of each VCF variant on a trained sequence model's output.

For each ALT allele (SNV, MNV, deletion, insertion or complex change), reference and
alternative windows of the model's input length are each centred on their own allele
(`pgx_jax/variants/windows.py`), encoded by the run's Predictor and scored in fixed-size
jitted batches. The TSV has one line per ALT: chrom, pos, id, ref, alt, kind, ref_score,
alt_score, diff (alt - ref), log_odds_change (logit(alt) - logit(ref); not for regression),
one such set per output (task, track) of a multi-output model, then status and detail.
`--vcf_output` writes the input VCF again with the same numbers as INFO fields.

Alleles that are not scored keep a line with empty scores and their status: a REF that
disagrees with the FASTA (`ref_mismatch`), a contig the FASTA lacks (`unknown_contig`), a
POS past the contig's end (`outside_contig`), symbolic alleles (`<DEL>`, `*`, `.`), an N in
an allele (`ambiguous`). Their counts and
the first five of each, with file and line, go to stderr. The command fails (exit 1, after
writing the outputs) when no allele could be scored, or with `--strict` when any REF
mismatches, a contig is unknown or a POS lies outside it.

example: pgx score-variants --workdir runs/default --fasta ref.fa --vcf variants.vcf.gz
         --output scores.tsv
"""

import os
import sys

from absl import flags

from pgx_jax.commands.flags import define_windows, parse
from pgx_jax.errors import PgxError
from pgx_jax.files import check_output


def _define(flag_values: flags.FlagValues) -> None:
    flags.DEFINE_string("workdir", None, "run directory of a finished run", flag_values=flag_values)
    flags.DEFINE_string("fasta", None, "reference FASTA (pyfaidx index)", flag_values=flag_values)
    flags.DEFINE_string("vcf", None, "VCF (plain or bgzip)", flag_values=flag_values)
    flags.DEFINE_string("output", None, "TSV output", flag_values=flag_values)
    flags.DEFINE_string(
        "vcf_output", None, "optional VCF with INFO fields", flag_values=flag_values
    )
    flags.DEFINE_integer("batch_size", 256, "windows per jitted batch", flag_values=flag_values)
    define_windows(flag_values, stride=False)
    flags.DEFINE_bool(
        "average_strands",
        False,
        "average the outputs of both strands (default: as the run evaluates)",
        flag_values=flag_values,
    )
    flags.DEFINE_bool(
        "strict", False, "fail on any REF mismatch or unknown contig", flag_values=flag_values
    )


def main(argv: list[str]) -> int:
    """Score the variants of a VCF with a finished run."""
    flag_values, _ = parse("score-variants", argv, _define, with_config=False)
    for name in ("workdir", "fasta", "vcf", "output"):
        if not flag_values[name].value:
            raise PgxError("--workdir, --fasta, --vcf and --output are required")
    if flag_values.batch_size <= 0:
        raise PgxError(f"--batch_size must be positive, got {flag_values.batch_size}")
    from pgx_jax.runs import load_run
    from pgx_jax.variants import scoring
    from pgx_jax.variants.vcf import Reference, read_vcf

    check_output(flag_values.output, "--output")
    if flag_values.vcf_output:
        check_output(flag_values.vcf_output, "--vcf_output")
    records = list(read_vcf(flag_values.vcf))
    if not os.path.isfile(flag_values.fasta):
        raise PgxError(f"file not found: {flag_values.fasta}")
    run = load_run(flag_values.workdir)
    if run.predictor.reads != ("sequence",):
        raise PgxError(
            f"{flag_values.workdir}: experiment {run.config.experiment!r} does not read "
            "records; score-variants needs a sequence model"
        )
    length = scoring.model_input_length(run, flag_values.window)
    with Reference(flag_values.fasta) as reference:
        rows = scoring.plan(records, reference, length)
    scoring.score_rows(run, rows, flag_values.batch_size, flag_values.average_strands)
    task = run.predictor.task
    scoring.write_tsv(rows, task, flag_values.output)
    if flag_values.vcf_output:
        scoring.write_vcf(rows, task, flag_values.vcf, flag_values.vcf_output)
    strands = "both strands averaged" if flag_values.average_strands else "as the run evaluates"
    print(
        f"score-variants: {length}-bp windows, {run.kind} checkpoint (step {run.step}), {strands}",
        file=sys.stderr,
    )
    for line in scoring.summary(rows, flag_values.vcf):
        print(f"score-variants: {line}", file=sys.stderr)
    scored = sum(row.status == scoring.SCORED for row in rows)
    problems = sum(row.status in scoring.PROBLEMS for row in rows)
    if not scored:
        raise PgxError(f"{flag_values.vcf}: no variant could be scored (see the list above)")
    if flag_values.strict and problems:
        raise PgxError(
            f"{flag_values.vcf}: {problems} alleles with a REF mismatch or unknown contig "
            "(--strict)"
        )
    return 0
