"""Finding an experiment's files by name prefix, and cache names that follow the files."""

import glob
import hashlib
import os
import re

from pgx_jax.errors import PgxError


def find_experiment(directory: str, prefix: str, suffix: str) -> str:
    """The one experiment name `E` with a file `E + suffix` in `directory` that starts with
    `prefix` (an exact name wins over longer ones). Raises PgxError if none or several match."""
    if not prefix:
        raise PgxError(f"{directory}: no experiment named; give its name or a prefix of it")
    names = sorted(
        os.path.basename(p)[: -len(suffix)]
        for p in glob.glob(os.path.join(glob.escape(directory), glob.escape(prefix) + "*" + suffix))
    )
    if prefix in names:
        return prefix
    if not names:
        raise PgxError(f"{directory}: no file {prefix}*{suffix}")
    if len(names) > 1:
        raise PgxError(f"{directory}: prefix {prefix!r} matches several experiments: {names}")
    return names[0]


def cache_name(experiment: str, paths: list[str], **params) -> str:
    """A TFDS config name for `experiment` that changes when its files or `params` change."""
    digest = hashlib.sha1(repr(sorted(params.items())).encode())
    for path in paths:
        stat = os.stat(path)
        digest.update(f"{os.path.basename(path)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    safe = re.sub(r"[^\w.+-]", "_", experiment)
    return f"{safe}-{digest.hexdigest()[:10]}"
