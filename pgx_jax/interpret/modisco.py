"""Motifs from attributions: TF-MoDISco (modisco-lite) over one-hot sequences and their
hypothetical contributions (`deeplift.deep_lift_shap`), its patterns read back and matched
against JASPAR by TomTom (`motifs.tomtom_matches`).

modisco-lite forks worker processes (numba compilation, Leiden clustering), which is unsafe in
a process where JAX has started its threads, so `run_modisco` calls its command line
(`modisco motifs`) in a fresh interpreter, handing it the arrays as .npz files and reading
the patterns from its HDF5 output.
"""

import os
import subprocess
import sys

import numpy as np

from pgx_jax.errors import PgxError

TRIM_THRESHOLD = 0.3
"""A pattern is trimmed to the positions whose contribution reaches this fraction of its
largest (modisco-lite's report does the same before TomTom)."""


def run_modisco(
    onehot: np.ndarray,
    hypothetical: np.ndarray,
    folder: str,
    max_seqlets: int = 2000,
    window: int | None = None,
    sliding: int = 20,
    flank: int = 5,
    trim: int = 30,
    initial_flank: int = 10,
) -> str:
    """Run `modisco motifs` on one-hot sequences and hypothetical contributions [N, L, 4] in
    a subprocess; returns the path of its results, `folder/modisco_results.h5`.

    `window`: the central positions used (default all, rounded down to even, as modisco-lite
    centres a window of even width); the other settings are modisco-lite's options of the
    same names (`-n`, `-z`, `-f`, `-t`, `-g`).
    """
    onehot, hypothetical = np.asarray(onehot, np.float32), np.asarray(hypothetical, np.float32)
    if onehot.shape != hypothetical.shape or onehot.ndim != 3:
        raise PgxError(
            f"modisco: sequences {onehot.shape} and contributions {hypothetical.shape} "
            "must both be [N, L, 4]"
        )
    length = onehot.shape[1]
    window = window or length - length % 2
    os.makedirs(folder, exist_ok=True)
    paths = {name: os.path.join(folder, f"modisco_{name}.npz") for name in ("seqs", "attrs")}
    np.savez(paths["seqs"], onehot.transpose(0, 2, 1))
    np.savez(paths["attrs"], hypothetical.transpose(0, 2, 1))
    output = os.path.join(folder, "modisco_results.h5")
    command = [
        sys.executable, "-c", "from modiscolite.cli import cli; cli()", "motifs",
        "-s", paths["seqs"], "-a", paths["attrs"], "-n", str(max_seqlets), "-w", str(window),
        "-z", str(sliding), "-f", str(flank), "-t", str(trim), "-g", str(initial_flank),
        "-o", output,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    for path in paths.values():
        os.remove(path)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise PgxError(f"modisco motifs failed (exit {done.returncode}): {last}")
    return output


def read_patterns(path: str) -> list[dict]:
    """The patterns of a modisco-lite results file, positive then negative, each in its
    file order: {"name" ("pos_patterns/pattern_0"), "pfm" [W, 4] (the seqlets' letter
    frequencies), "cwm" [W, 4] (mean contributions), "seqlets" (count), "start", "end" (the
    trimmed core, `TRIM_THRESHOLD`)}."""
    import h5py

    patterns = []
    with h5py.File(path, "r") as f:
        for group in ("pos_patterns", "neg_patterns"):
            if group not in f:
                continue
            names = sorted(f[group], key=lambda name: int(name.split("_")[-1]))
            for name in names:
                pattern = f[group][name]
                cwm = np.asarray(pattern["contrib_scores"], np.float64)
                weight = np.abs(cwm).sum(axis=1)
                kept = np.flatnonzero(weight >= TRIM_THRESHOLD * weight.max())
                patterns.append(
                    {
                        "name": f"{group}/{name}",
                        "pfm": np.asarray(pattern["sequence"], np.float64),
                        "cwm": cwm,
                        "seqlets": int(pattern["seqlets"]["n_seqlets"][0]),
                        "start": int(kept[0]),
                        "end": int(kept[-1]) + 1,
                    }
                )
    return patterns


def match_patterns(
    patterns: list[dict], collection: list | None = None, top: int = 3
) -> list[dict]:
    """Each pattern with "matches": TomTom's `top` JASPAR matches of its trimmed PFM."""
    from pgx_jax.interpret.motifs import tomtom_matches

    cores = [p["pfm"][p["start"] : p["end"]] for p in patterns]
    found = tomtom_matches(cores, collection, top)
    return [{**p, "matches": m} for p, m in zip(patterns, found, strict=True)]
