"""Flag parsing shared by subcommands: a config file with overrides, and plain flags.

Where a config (or sweep) file is found, one rule: `PATH` itself if that file exists (absolute,
or relative to the current directory); otherwise the same relative path in the project's
`configs/` folder, written `configs/binding/deepbind.py` or `binding/deepbind.py`, found through
the installed `configs` package, so it works the same from any directory and from a
non-editable install.
"""

import importlib
import importlib.util
import os
from collections.abc import Callable

import ml_collections
from absl import flags
from ml_collections import config_flags

from pgx_jax.errors import PgxError

DEFAULT_CONFIG = "configs/binding/deepbind.py"  # found by the same rule as `--config`
HELP_FLAGS = ("--help", "-h", "--helpfull", "-?")


class HelpRequested(Exception):
    """Raised by `parse` for `--help`: the text to print (the CLI prints it and exits 0)."""


def project_config_dirs() -> list[str]:
    """The folders of the importable `configs` package (the one the config files import
    `configs.base` from); empty if there is none."""
    try:
        spec = importlib.util.find_spec("configs")
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    return [os.path.abspath(folder) for folder in spec.submodule_search_locations]


def find_config(path: str, what: str = "config file") -> str:
    """The file `path` names, by the one rule (module docstring): `path` unchanged if it is a
    file, else its place in the project's `configs/` folder. Found nowhere: one PgxError line
    naming the path and the places looked."""
    if os.path.isfile(path):
        return path
    if not path:
        raise PgxError(f"{what}: the path is empty")
    looked = [os.path.abspath(path)]
    relative = os.path.normpath(path)
    if not os.path.isabs(relative):
        parts = relative.split(os.sep)
        if parts[0] == "configs" and len(parts) > 1:
            parts = parts[1:]  # `configs/binding/x.py` and `binding/x.py` alike
        if parts[0] != os.pardir:
            folders = project_config_dirs()
            for folder in folders:
                candidate = os.path.join(folder, *parts)
                if os.path.isfile(candidate):
                    return candidate
            looked.append(
                os.path.join(folders[0], *parts) if folders else "configs/ (no `configs` package)"
            )
    raise PgxError(f"{what} not found: {path!r} (looked for {' and '.join(looked)})")


def find_config_spec(spec: str, what: str = "config file") -> str:
    """`PATH[:ARG]` with PATH found by `find_config`; the `:ARG` suffix kept as it was."""
    path, sep, arg = spec.partition(":")
    return find_config(path, what) + sep + arg


def call_file_function(spec: str, function: str, what: str):
    """`function(arg)` of the Python file `PATH[:ARG]` (a sweep or search-space file), PATH
    found by `find_config`; a file without that function is one PgxError line."""
    path, _, arg = spec.partition(":")
    path = find_config(path, what)
    module_spec = importlib.util.spec_from_file_location(f"pgx_{function}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    if not hasattr(module, function):
        raise PgxError(f"{path}: defines no {function}(arg)")
    return getattr(module, function)(arg or None)


class _FindingParser(flags.ArgumentParser):
    """The parser of config_flags' `--config` flag with its path found by `find_config_spec`
    first: config_flags then loads (and names in its messages) the file found. The flag's
    `config_filename` stays the `PATH[:ARG]` as given, which the same rule finds again."""

    def __init__(self, loader: flags.ArgumentParser):
        self._loader = loader

    def parse(self, argument):
        if isinstance(argument, str):
            argument = find_config_spec(argument)
        return self._loader.parse(argument)

    def flag_type(self) -> str:
        return self._loader.flag_type()


def _define_config(flag_values: flags.FlagValues, argv: list[str]) -> None:
    """`--config` from `config_flags.DEFINE_config_file` with its parser wrapped in
    `_FindingParser` (absl's public `Flag.parser`); the default is set after the wrapping
    (`FlagValues.set_default`), as config_flags parses a default when the flag is defined."""
    config_flags.DEFINE_config_file(
        "config",
        None,
        "config file, optionally with :ARG; a path, or a path relative to configs/",
        flag_values=flag_values,
        lock_config=True,
        sys_argv=argv,
    )
    flag = flag_values["config"]
    flag.parser = _FindingParser(flag.parser)
    flag_values.set_default("config", DEFAULT_CONFIG)


def _one_line(err: Exception) -> str:
    """The message of a config-flags error, unwrapped from the errors around it (and from a
    KeyError's repr quoting), on one line."""
    while len(err.args) == 1 and isinstance(err.args[0], Exception):
        err = err.args[0]
    message = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    return " ".join(message.split())


def _config_alone(argv: list[str]) -> ml_collections.ConfigDict | None:
    """The config that `--config` in `argv` names (or the default), without its overrides;
    None if it does not load."""
    spec = DEFAULT_CONFIG
    for i, arg in enumerate(argv):
        if arg.startswith("--config="):
            spec = arg.partition("=")[2]
        elif arg == "--config" and i + 1 < len(argv):
            spec = argv[i + 1]
    alone = flags.FlagValues()
    try:
        _define_config(alone, [argv[0], f"--config={spec}"])
        alone([argv[0], f"--config={spec}"])
        return alone["config"].value
    except Exception:  # noqa: BLE001 - the file's own problem is reported as it was
        return None


def _missing_field(argv: list[str], message: str) -> str | None:
    """For an override of a field the config lacks (`--config.data.pth=x`): one line naming
    the override and the fields that are there; None for other problems."""
    key = message.split()[0].strip("'\"") if message else ""
    config = _config_alone(argv)
    if config is None:
        return None
    for arg in argv[1:]:
        path = arg.partition("=")[0].removeprefix("--config.").split(".")
        if not arg.startswith("--config.") or path[-1] != key:
            continue
        node = config
        for name in path[:-1]:
            node = node.get(name) if isinstance(node, ml_collections.ConfigDict) else None
        if isinstance(node, ml_collections.ConfigDict) and key not in node:
            where = ".".join(path[:-1]) or "the config"
            hint = message[len(message.split()[0]) :].strip()
            return (
                f"{arg.partition('=')[0]}: the config has no field {key!r} in {where} "
                f"(its fields: {', '.join(sorted(node.keys()))}){' ' + hint if hint else ''}"
            )
    return None


def parse(
    command: str,
    argv: list[str],
    define: Callable[[flags.FlagValues], None],
    with_config: bool = True,
) -> tuple[flags.FlagValues, ml_collections.ConfigDict | None]:
    """Parse `argv` with the flags `define` adds (and `--config` with overrides if asked).

    Every parse problem (unknown flag, config file found nowhere, misspelt override, bad
    value) becomes one PgxError line.
    """
    flag_values = flags.FlagValues()
    wants_help = any(arg in HELP_FLAGS for arg in argv)
    argv = [f"pgx {command}", *(arg for arg in argv if arg not in HELP_FLAGS)]
    if wants_help:
        if with_config:
            _define_config(flag_values, argv[:1])
        define(flag_values)
        raise HelpRequested(help_text(command, flag_values))
    try:
        if with_config:
            _define_config(flag_values, argv)
        define(flag_values)
        flag_values(argv)
        config = flag_values.config if with_config else None
        if config is not None:
            config.experiment  # noqa: B018 - forces the lazily loaded config file to load
    except (flags.Error, OSError, KeyError, AttributeError, TypeError, ValueError) as err:
        missing = _missing_field(argv, _one_line(err)) if with_config else None
        raise PgxError(missing or f"bad flags or config: {_one_line(err)}") from None
    return flag_values, config


def help_text(command: str, flag_values: flags.FlagValues) -> str:
    """`pgx COMMAND --help`: the command module's docstring (what it does, its inputs and
    their formats, an example) and every flag with its default."""
    module = importlib.import_module(f"pgx_jax.commands.{command.replace('-', '_')}")
    lines = [f"usage: pgx {command} [flags]", "", (module.__doc__ or "").strip(), "", "flags:"]
    for name in sorted(flag_values):
        flag = flag_values[name]
        default = flag.default_as_str or "none"
        choices = getattr(flag.parser, "enum_values", None)
        allowed = f"; one of {', '.join(choices)}" if choices else ""
        text = " ".join(flag.help.split())
        lines.append(f"  --{name}: {text} (default: {default}{allowed})")
    if "config" in flag_values:
        lines.append(
            "  --config.FIELD=VALUE: set any field of the config "
            "(e.g. --config.train.num_epochs=20)"
        )
    return "\n".join(lines)


def define_windows(flag_values: flags.FlagValues, stride: bool = True) -> None:
    """`--window` (and `--stride`): the one definition for every command that scores
    sequences in windows (`pgx_jax.data.lengths.sequence_window`)."""
    flags.DEFINE_integer(
        "window",
        0,
        "window length in positions (default: the length the run's model reads; not more)",
        flag_values=flag_values,
    )
    if stride:
        flags.DEFINE_integer(
            "stride",
            0,
            "positions between window starts (default: half the window); a last window ends "
            "at the sequence's end",
            flag_values=flag_values,
        )
