"""Sequence logos of position frequency matrices, drawn with logomaker into PNG files."""

import matplotlib

matplotlib.use("Agg")

import logomaker  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def save_logo(pfm: np.ndarray, path: str, title: str = "", letters: str = "ACGT") -> None:
    """Write an information-content logo (bits) of a probability matrix [W, K] to a PNG, its
    positions numbered 1..W."""
    m = np.asarray(pfm, dtype=np.float64)
    positions = np.arange(1, len(m) + 1)
    frame = pd.DataFrame(m / m.sum(axis=1, keepdims=True), columns=list(letters), index=positions)
    bits = logomaker.transform_matrix(frame, from_type="probability", to_type="information")
    fig, ax = plt.subplots(figsize=(max(3.0, 0.35 * len(m) + 1.0), 2.2))
    try:
        logomaker.Logo(bits, ax=ax, color_scheme="classic")
        ax.set_ylim(0, np.log2(len(letters)))
        ax.set_ylabel("bits")
        ax.set_xticks(positions if len(m) <= 30 else positions[positions % 5 == 0])
        ax.set_xlabel("position", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_title(title, fontsize=9)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)


def save_attribution_logo(
    values: np.ndarray, path: str, title: str = "", letters: str = "ACGT"
) -> str:
    """Logo of an attribution matrix [L, K] (letter heights = values; below 0 when negative)."""
    frame = pd.DataFrame(np.asarray(values, np.float64), columns=list(letters))
    fig, ax = plt.subplots(figsize=(min(24.0, 2.0 + 0.12 * len(frame)), 2.0))
    try:
        logomaker.Logo(frame, ax=ax, color_scheme="classic")
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.set_xlabel("position")
        ax.set_title(title, fontsize=9)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
    return path
