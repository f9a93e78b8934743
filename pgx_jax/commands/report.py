"""`pgx report --workdir DIR`: a finished run's pictures as PNG and `DIR/report.html`.

Pictures: training curves (`metrics.jsonl`) and, from the test predictions the loop saved
(`test_predictions.npz`), ROC and precision-recall curves and a confusion matrix for
classification or a predicted-against-measured scatter for regression. The page also shows
where and when the run ran (`provenance.json`), its data (split sizes and label balance,
`data_summary.json`), the results grouped by split, the config and, if `pgx motifs` ran, the
filters in rank order with their logos. For a folder of runs (a cross-validation or sweep
parent) the page is a table of the children's results with each metric's mean and standard
deviation, linking each child's own report, which is written too.

example: pgx report --workdir runs/default
"""

from absl import flags

from pgx_jax.commands.flags import parse
from pgx_jax.errors import PgxError


def _define(flag_values: flags.FlagValues) -> None:
    flags.DEFINE_string(
        "workdir", None, "run directory, or a folder of runs (cross-validation, sweep)",
        flag_values=flag_values,
    )  # fmt: skip


def main(argv: list[str]) -> int:
    """Write the pictures and report.html of a run directory (or a folder of runs); print the
    page's path."""
    flag_values, _ = parse("report", argv, _define, with_config=False)
    if not flag_values.workdir:
        raise PgxError("--workdir is required")
    from pgx_jax.interpret.report import write_report

    path = write_report(flag_values.workdir)
    print(path)
    return 0
