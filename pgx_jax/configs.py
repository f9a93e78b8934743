"""Helpers for config files: the `path:arg` argument and where data sets live."""

import os

import ml_collections

from pgx_jax.errors import PgxError


def parse_arg(arg: str | None, **defaults):
    """Parse a config argument `key=value,key=value` against typed defaults (big_vision style).

    `get_config("tf=GABPA")` with `parse_arg(arg, tf="")` gives an object with `.tf == "GABPA"`.
    A bare word `name` sets a boolean switch `name=True`; booleans take true/false or 1/0;
    other values must convert to their default's type. Any other word is one PgxError line.
    """
    values = dict(defaults)
    for item in filter(None, (arg or "").split(",")):
        key, sep, raw = item.partition("=")
        if key not in defaults:
            raise PgxError(
                f"config argument: unknown key {key!r}; expected one of {sorted(defaults)}"
            )
        values[key] = _arg_value(key, defaults[key], raw if sep else None)
    return type("ConfigArg", (), values)()


def _arg_value(key: str, default, raw: str | None):
    """The value of config argument `key`: `raw` (None for a bare word) as `default`'s type."""
    if raw is None:
        if not isinstance(default, bool):
            raise PgxError(f"config argument: {key!r} needs a value ({key}=...)")
        return True
    if isinstance(default, bool):
        known = {"true": True, "1": True, "false": False, "0": False}
        if raw.lower() not in known:
            raise PgxError(f"config argument {key}={raw!r}: expected true or false (or 1, 0)")
        return known[raw.lower()]
    if default is None:
        return raw
    try:
        return type(default)(raw)
    except ValueError:
        kind = type(default).__name__
        raise PgxError(f"config argument {key}={raw!r}: expected a value of type {kind}") from None


def identical_members(
    model: ml_collections.ConfigDict, members: int, unroll: bool = False
) -> ml_collections.ConfigDict:
    """`model` itself for one member; for more, an `ensemble` model config of `members` copies
    of it (one stack, differing by initialisation and dropout; `unroll`: members computed one
    after another in the step, for models that embed their own tokens)."""
    if members <= 1:
        return model
    ensemble = ml_collections.ConfigDict()
    ensemble.name = "ensemble"
    ensemble.num_members = members
    ensemble.unroll = unroll
    ensemble.member = model
    return ensemble


def data_directory(folder: str, override: str | None = None) -> str:
    """`override` if given, else `$PGX_DATA_DIR/<folder>` (the folder names of shared/data)."""
    if override:
        path = override
    else:
        root = os.environ.get("PGX_DATA_DIR")
        if not root:
            raise PgxError(f"data set {folder!r}: set PGX_DATA_DIR or config.data.dir")
        path = os.path.join(root, folder)
    if not os.path.isdir(path):
        raise PgxError(f"data set {folder!r}: directory not found: {path}")
    return path


def tfds_directory(override: str | None = None) -> str:
    """Where prepared (array_record) data sets are cached (`config.data.tfds_dir`, else
    `$PGX_TFDS_DIR`, else ~/.cache/pgx_jax/tfds); PgxError in one line if it is not writable."""
    from pgx_jax.files import check_writable

    path = override or os.environ.get("PGX_TFDS_DIR") or os.path.expanduser("~/.cache/pgx_jax/tfds")
    return check_writable(path, "the prepared-data cache (PGX_TFDS_DIR)")
