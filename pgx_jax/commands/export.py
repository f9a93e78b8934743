"""`pgx export --workdir RUN --output model.onnx|model.stablehlo [--format onnx|stablehlo]`: a
trained run's model as an ONNX graph (`jax2onnx`, checked with onnxruntime) or a serialized
StableHLO artifact (`jax.export`, runnable from JAX), either without pgx_jax, with `OUTPUT.json`
beside it: the inputs in order (name, shape with a symbolic batch, dtype), the output and task,
the class names, and the encoder's fixed choices (the run's fitted values and data config:
lengths, alphabet, vocabulary), since encoding is not in the graph. The graph includes the
trained variables and the task's link (probabilities for classification). Any batch size;
any length of at least the trained one where the model pools over positions (DeepBind, the
text CNN), else the trained length (`pgx_jax/export.py`). The format defaults from the
output's suffix; a model jax2onnx cannot convert stops with the op it lacks.

example: pgx export --workdir runs/default --output runs/default.onnx
"""

import sys

from absl import flags

from pgx_jax.commands.flags import parse
from pgx_jax.errors import PgxError
from pgx_jax.files import check_output


def _define(flag_values: flags.FlagValues) -> None:
    flags.DEFINE_string("workdir", None, "run directory of a finished run", flag_values=flag_values)
    flags.DEFINE_string("output", None, "the artifact to write", flag_values=flag_values)
    flags.DEFINE_enum(
        "format",
        None,
        ["onnx", "stablehlo"],
        "the artifact's format (default: by --output's suffix, .onnx or .stablehlo)",
        flag_values=flag_values,
    )


def main(argv: list[str]) -> int:
    """Export a finished run's model."""
    flag_values, _ = parse("export", argv, _define, with_config=False)
    if not flag_values.workdir or not flag_values.output:
        raise PgxError("--workdir and --output are required")
    check_output(flag_values.output, "--output")
    from pgx_jax.export import export
    from pgx_jax.runs import load_run

    paths = export(load_run(flag_values.workdir), flag_values.output, flag_values.format or "")
    print(f"export: {' and '.join(paths)}", file=sys.stderr)
    return 0
