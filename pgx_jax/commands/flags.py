"""Flag parsing shared by subcommands: a config file with overrides, and plain flags."""

import os
from collections.abc import Callable

import ml_collections
from absl import flags
from ml_collections import config_flags

from pgx_jax.errors import PgxError

DEFAULT_CONFIG = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "configs",
    "binding",
    "deepbind.py",
)


def _one_line(err: Exception) -> str:
    """The message of a config-flags error, unwrapped from the errors around it (and from a
    KeyError's repr quoting), on one line."""
    while len(err.args) == 1 and isinstance(err.args[0], Exception):
        err = err.args[0]
    message = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    return " ".join(message.split())


def parse(
    command: str,
    argv: list[str],
    define: Callable[[flags.FlagValues], None],
    with_config: bool = True,
) -> tuple[flags.FlagValues, ml_collections.ConfigDict | None]:
    """Parse `argv` with the flags `define` adds (and `--config` with overrides if asked).

    Every parse problem (unknown flag, missing config file, misspelt override, bad value)
    becomes one PgxError line.
    """
    flag_values = flags.FlagValues()
    argv = [f"pgx {command}", *argv]
    try:
        if with_config:
            config_flags.DEFINE_config_file(
                "config",
                DEFAULT_CONFIG,
                "config file, optionally with :ARG",
                flag_values=flag_values,
                lock_config=True,
                sys_argv=argv,
            )
        define(flag_values)
        flag_values(argv)
        config = flag_values.config if with_config else None
        if config is not None:
            config.experiment  # noqa: B018 - forces the lazily loaded config file to load
    except (flags.Error, OSError, KeyError, AttributeError, TypeError, ValueError) as err:
        raise PgxError(f"bad flags or config: {_one_line(err)}") from None
    return flag_values, config
