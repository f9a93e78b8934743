"""The `pgx` command: `pgx <command> [flags]`; each command lives in `pgx_jax/commands/`."""

import importlib
import sys

from absl import logging

from pgx_jax.errors import PgxError

COMMANDS = {
    "train": "train a model from a config (the default: DeepBind on a planted motif)",
    "sweep": "run a grid or list of config overrides, one run per point, one results table",
    "tune": "hyperparameter search (Optuna) over a space file, populations trained as one",
    "motifs": "motifs of a run (first-layer filters or TF-MoDISco patterns), JASPAR matches",
    "report": "pictures of a finished run and one HTML page with config, results, pictures",
    "predict": "a run's predictions on new data (FASTA, CSV/TSV tables, [[marked]] sentences)",
    "score-variants": "effect of VCF variants on a run's output (ref/alt windows), as TSV",
    "call-variants": "germline or somatic variant calls of a pileup run on a BAM, as VCF",
    "mutagenesis": "in-silico mutagenesis map, gradient x input and integrated gradients",
    "export": "a run's model as a StableHLO artifact (jax.export) with a note of its inputs",
    "design": "sequences edited (at most k) to raise or lower a run's output: evolve, gradient",
    "grammar": "a motif planted in shuffled backgrounds; a pair's spacing/orientation curves",
}
ALIASES = {"predict-ddi": "predict"}
"""Old command names: `pgx predict-ddi` is `pgx predict` on a DDI run."""
USAGE = (
    "usage: pgx <command> [flags]   (pgx <command> --help, or pgx help <command>, for one)"
    "\n\ncommands:\n" + "\n".join(f"  {name:<15} {text}" for name, text in COMMANDS.items())
)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["help"] and len(argv) > 1:
        argv = [argv[1], "--help"]
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = ALIASES.get(argv[0], argv[0]), argv[1:]
    if command not in COMMANDS:
        print(f"pgx: unknown command {command!r}\n{USAGE}", file=sys.stderr)
        return 2
    logging.set_verbosity(logging.ERROR)
    from pgx_jax.commands.flags import HelpRequested
    from pgx_jax.train.loop import Preempted

    module = importlib.import_module(f"pgx_jax.commands.{command.replace('-', '_')}")
    try:
        return module.main(rest)
    except HelpRequested as text:
        print(text)
        return 0
    except PgxError as err:
        print(f"pgx {command}: error: {err}", file=sys.stderr)
        return 1
    except Preempted as err:
        print(f"pgx {command}: {err}", file=sys.stderr)
        return 143


if __name__ == "__main__":
    sys.exit(main())
