"""The `pgx` command: `pgx train --config CONFIG[:ARG] --workdir DIR [--config.field=value ...]`."""

import os
import sys
import time

from absl import flags, logging
from ml_collections import config_flags

from pgx_jax.errors import PgxError

DEFAULT_CONFIG = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs", "binding", "deepbind.py"
)
COMMANDS = {"train": "train a model from a config (the default: DeepBind on a planted motif)"}
USAGE = "usage: pgx <command> [flags]\n\ncommands:\n" + "\n".join(
    f"  {name:<8} {text}" for name, text in COMMANDS.items()
)


def _define_train_flags(flag_values: flags.FlagValues, argv: list[str]) -> None:
    config_flags.DEFINE_config_file(
        "config",
        DEFAULT_CONFIG,
        "config file, optionally with :ARG",
        flag_values=flag_values,
        lock_config=True,
        sys_argv=argv,
    )
    flags.DEFINE_string(
        "workdir", None, "run directory (resumed if it holds a checkpoint)", flag_values=flag_values
    )


def _one_line(err: Exception) -> str:
    """The message of a config-flags error without repr quoting, newlines or the cause chain."""
    message = str(err).replace("\\n", " ").replace("\n", " ").replace("\\'", "'")
    return " ".join(message.strip("'\"").split())


def _default_workdir(config_path: str) -> str:
    name = os.path.splitext(os.path.basename(config_path.split(":")[0]))[0]
    return os.path.join("runs", f"{name}-{time.strftime('%Y%m%d-%H%M%S')}")


def train(argv: list[str]) -> int:
    """Parse train flags, build the experiment named by the config, and fit it."""
    flag_values = flags.FlagValues()
    argv = ["pgx train", *argv]
    try:
        _define_train_flags(flag_values, argv)
        flag_values(argv)
        config = flag_values.config
        experiment_name = config.experiment
    except (flags.Error, OSError, KeyError, AttributeError, TypeError, ValueError) as err:
        raise PgxError(f"bad --config or override: {_one_line(err)}") from None
    workdir = flag_values.workdir or _default_workdir(flag_values["config"].config_filename)

    from pgx_jax import parallel
    from pgx_jax.experiment import load_experiment_module
    from pgx_jax.train import protocol

    parallel.initialize_distributed()
    load_experiment_module(experiment_name)
    print(f"workdir: {workdir}")
    results = protocol.run(config, workdir)
    for key in sorted(results):
        if key.startswith("test/") or key.startswith("motif/"):
            value = results[key]
            print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    logging.set_verbosity(logging.ERROR)
    if command not in COMMANDS:
        print(f"pgx: unknown command {command!r}\n{USAGE}", file=sys.stderr)
        return 2
    from pgx_jax.train.loop import Preempted

    try:
        return {"train": train}[command](rest)
    except PgxError as err:
        print(f"pgx {command}: error: {err}", file=sys.stderr)
        return 1
    except Preempted as err:
        print(f"pgx {command}: {err}", file=sys.stderr)
        return 143


if __name__ == "__main__":
    sys.exit(main())
