"""MEME minimal motif format (as read by TomTom, FIMO and the MEME suite): write and read."""

import numpy as np

from pgx_jax.errors import PgxError
from pgx_jax.files import write_atomically


def format_meme(
    motifs: list[tuple[str, str, np.ndarray]],
    alphabet: str = "ACGT",
    sites: list[int] | None = None,
) -> str:
    """MEME minimal text for (identifier, alternate name, probability matrix [W, K]) triples.

    `sites` gives each motif's `nsites` (default 20, MEME's convention for unknown counts).
    """
    lines = ["MEME version 4", "", f"ALPHABET= {alphabet}", "", "strands: + -", ""]
    lines += ["Background letter frequencies"]
    lines += [" ".join(f"{c} {1 / len(alphabet):.3f}" for c in alphabet), ""]
    for i, (identifier, name, pfm) in enumerate(motifs):
        m = np.asarray(pfm, dtype=np.float64)
        if m.ndim != 2 or m.shape[1] != len(alphabet) or m.shape[0] == 0:
            raise PgxError(
                f"motif {identifier}: matrix must be [W, {len(alphabet)}], got {m.shape}"
            )
        m = m / m.sum(axis=1, keepdims=True)
        nsites = sites[i] if sites is not None else 20
        lines += [f"MOTIF {identifier} {name}".rstrip(), ""]
        lines += [
            f"letter-probability matrix: alength= {len(alphabet)} w= {len(m)} nsites= {nsites} E= 0"
        ]
        lines += [" ".join(f"{v:.6f}" for v in row) for row in m]
        lines += [""]
    return "\n".join(lines)


def write_meme(path: str, motifs: list[tuple[str, str, np.ndarray]], **kwargs) -> None:
    """Write `format_meme(motifs, **kwargs)` to `path` atomically."""
    write_atomically(path, format_meme(motifs, **kwargs))


def read_meme(path: str) -> list[tuple[str, str, np.ndarray]]:
    """The (identifier, alternate name, matrix) triples of a MEME minimal file."""
    motifs, current, rows, width = [], None, [], 0
    with open(path) as f:
        for number, line in enumerate(f, start=1):
            text = line.strip()
            if text.startswith("MOTIF"):
                parts = text.split(maxsplit=2)
                if len(parts) < 2:
                    raise PgxError(f"{path} line {number}: MOTIF without identifier")
                current, rows = (parts[1], parts[2] if len(parts) > 2 else ""), []
            elif text.startswith("letter-probability matrix"):
                if current is None:
                    raise PgxError(f"{path} line {number}: matrix before any MOTIF line")
                fields = text.replace("=", " = ").split()
                width = int(fields[fields.index("w") + 2])
            elif current is not None and width and text:
                try:
                    rows.append([float(v) for v in text.split()])
                except ValueError:
                    raise PgxError(f"{path} line {number}: not a matrix row: {text!r}") from None
                if len(rows) == width:
                    motifs.append((*current, np.array(rows)))
                    current, rows, width = None, [], 0
    if current is not None:
        raise PgxError(f"{path}: motif {current[0]} ends before its {width} matrix rows")
    return motifs
