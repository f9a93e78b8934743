"""Atomic file writes: every file a run writes goes through a temporary file and a rename, so a
kill never leaves half a file (and a reader in another process never sees one)."""

import contextlib
import os
from collections.abc import Iterator
from typing import IO


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
