"""Atomic file writes: every file a run writes goes through a temporary file and a rename, so a
kill never leaves half a file (and a reader in another process never sees one)."""

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import IO

from pgx_jax.errors import PgxError


@contextlib.contextmanager
def atomic_open(path: str, mode: str = "w", **kwargs) -> Iterator[IO]:
    """`open(path, mode)` written to `path.tmp` and renamed over `path` when the block ends
    without an error (the temporary file is removed if it raises)."""
    temporary = f"{path}.tmp"
    try:
        with open(temporary, mode, **kwargs) as f:
            yield f
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
    os.replace(temporary, path)


def write_atomically(path: str, text: str) -> None:
    """Write `text` to `path` atomically."""
    with atomic_open(path) as f:
        f.write(text)


def check_writable(directory: str, what: str) -> str:
    """`directory`, created if missing; PgxError in one line naming it (as `what`, say
    "--workdir") unless a file can be written there. Commands call it before they start."""
    try:
        os.makedirs(directory, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".pgx-write-check-"):
            pass
    except OSError as err:
        raise PgxError(f"{what} {directory}: cannot write there ({err.strerror})") from None
    return directory


def check_output(path: str, what: str) -> str:
    """`path`, an output file whose folder `check_writable` accepts."""
    check_writable(os.path.dirname(os.path.abspath(path)), what)
    if os.path.isdir(path):
        raise PgxError(f"{what} {path}: is a directory, not a file")
    return path
