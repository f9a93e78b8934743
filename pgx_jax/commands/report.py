"""`pgx report --workdir DIR`: a finished run's pictures as PNG and `DIR/report.html`.

Pictures: training curves (`metrics.jsonl`) and, from the test predictions the loop saved
(`test_predictions.npz`), ROC and precision-recall curves and a confusion matrix for
classification or a predicted-against-measured scatter for regression. The page also shows
the results, the config and, if `pgx motifs` ran, the filters' motifs.

example: pgx report --workdir runs/default
"""

from absl import flags

from pgx_jax.commands.flags import parse
from pgx_jax.errors import PgxError


def _define(flag_values: flags.FlagValues) -> None:
    flags.DEFINE_string("workdir", None, "run directory of a finished run", flag_values=flag_values)


def main(argv: list[str]) -> int:
    """Write the pictures and report.html of a run directory; print the page's path."""
    flag_values, _ = parse("report", argv, _define, with_config=False)
    if not flag_values.workdir:
        raise PgxError("--workdir is required")
    from pgx_jax.interpret.report import write_report

    path = write_report(flag_values.workdir)
    print(path)
    return 0
