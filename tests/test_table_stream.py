"""Large tables streamed (`data.stream`, pgx_jax/data/table_store.py): a small generated table
prepared to array_record gives the in-memory path's splits, encodings and trained numbers; the
prepared folder is reused for an unchanged file and prepared again for a changed one; a bad
row is named by its line (or skipped and listed); a stopped streamed run resumes exactly."""

import gzip
import json
import os

import numpy as np
import pytest
from test_tables import dna, protein, write_table

from configs import table as table_config
from experiments import table as table_experiment
from pgx_jax import cli
from pgx_jax.data import pipeline, splits, table_store
from pgx_jax.data.readers import SKIPPED_RECORDS_FILE
from pgx_jax.errors import PgxError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def dna_rows(count: int = 400, seed: int = 0) -> list[list]:
    """`id,sequence,bound,chrom,split`: 20-40 bp sequences (ambiguity codes too), bound where
    GGGCGG is planted."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        sequence = dna(rng, int(rng.integers(20, 41)), "ACGTACGTN")
        bound = int(rng.random() < 0.5)
        if bound:
            sequence = sequence[:5] + "GGGCGG" + sequence[11:]
        part = ("train", "train", "train", "valid", "test")[i % 5]
        rows.append([f"s{i}", sequence, bound, f"chr{i % 10 + 1}", part])
    return rows


HEADER = ["id", "sequence", "bound", "chrom", "split"]


def config(path, cache, **fields):
    arg = f"path={path},epochs=1,batch=16"
    arg += "".join(f",{k}={v}" for k, v in fields.items() if k in ("split", "stream", "folds"))
    found = table_config.get_config(arg)
    found.data.tfds_dir = str(cache)
    for key, value in fields.items():
        if key not in ("split", "stream", "folds"):
            setattr(found.data, key, value)
    return found


def encoded(experiment) -> dict:
    """Every split encoded in full, as training reads it."""
    return {
        name: pipeline.read(source, experiment.encode_split, np.arange(len(source)))
        for name, source in experiment.splits.items()
    }


@pytest.mark.parametrize(
    "split", ["column", "random", "kfold", "chrom", "group"], ids=lambda s: f"split={s}"
)
def test_streamed_splits_and_encodings_equal_in_memory(tmp_path, monkeypatch, split):
    monkeypatch.setattr(table_store, "TAKE_ROWS", 7)  # whole splits read in parts
    path = write_table(tmp_path / "t.csv", HEADER, dna_rows())
    extra = {"group_column": "chrom"} if split == "group" else {}
    memory = table_experiment.build(config(path, tmp_path, split=split, stream="false", **extra))
    streamed = table_experiment.build(config(path, tmp_path, split=split, stream="true", **extra))
    assert isinstance(streamed.splits["train"], table_store.StreamSource)
    assert streamed.predictor.fitted == memory.predictor.fitted
    left, right = encoded(memory), encoded(streamed)
    assert left.keys() == right.keys() == set(splits.SPLIT_NAMES)
    for name in left:
        for key in ("label", "weight", "id"):
            np.testing.assert_array_equal(left[name][key], right[name][key])
        for key, value in left[name]["inputs"].items():
            np.testing.assert_array_equal(value, right[name]["inputs"][key])


@pytest.mark.parametrize("size", [0, 1, 2, 3, 9, 10, 11, 97, 1000])
def test_random_parts_are_groups_of_one_row(size):
    for fractions in ((0.8, 0.1, 0.1), (1 / 3, 1 / 3, 1 / 3), (0.3, 0.3, 0.3)):
        expected = splits.by_groups(np.arange(size), fractions, 5)
        np.testing.assert_array_equal(splits.random_parts(size, fractions, 5), expected)


def test_proteins_multiclass_and_gzip(tmp_path):
    rng = np.random.default_rng(1)
    rows = [[f"p{i}", protein(rng, 30 + i % 7), ("a", "b", "c")[i % 3]] for i in range(90)]
    plain = write_table(tmp_path / "p.tsv", ["id", "sequence", "family"], rows, "\t")
    with open(plain, "rb") as f, gzip.open(tmp_path / "p.tsv.gz", "wb") as out:
        out.write(f.read())
    memory = table_experiment.build(config(plain, tmp_path, stream="false"))
    streamed = table_experiment.build(config(tmp_path / "p.tsv.gz", tmp_path, stream="true"))
    assert streamed.predictor.fitted["classes"] == ["a", "b", "c"]
    left, right = encoded(memory), encoded(streamed)
    for name in left:
        np.testing.assert_array_equal(left[name]["label"], right[name]["label"])
        np.testing.assert_array_equal(
            left[name]["inputs"]["tokens"], right[name]["inputs"]["tokens"]
        )


def test_prepared_once_reused_and_prepared_again_when_the_file_changes(tmp_path, capsys):
    path = write_table(tmp_path / "t.csv", HEADER, dna_rows(100))
    table_experiment.build(config(path, tmp_path, stream="true"))
    folders = os.listdir(tmp_path / "tables")
    assert len(folders) == 1 and "prepared in" in capsys.readouterr().out
    table_experiment.build(config(path, tmp_path, stream="true", split="random", length=12))
    assert os.listdir(tmp_path / "tables") == folders
    assert "(reused)" in capsys.readouterr().out
    table_experiment.build(
        config(path, tmp_path, stream="true", targets="bound", task="regression")
    )
    assert len(os.listdir(tmp_path / "tables")) == 2  # another encoding of the targets
    write_table(path, HEADER, dna_rows(120))  # the file changed: its earlier folders go
    table_experiment.build(config(path, tmp_path, stream="true"))
    (folder,) = os.listdir(tmp_path / "tables")
    assert folder not in folders and "prepared in" in capsys.readouterr().out


def test_bad_row_named_by_line_or_skipped(tmp_path):
    rows = dna_rows(100)
    rows[40][1] = "ACGTXACGT"  # line 42
    rows[60][1] = ""  # line 62
    path = write_table(tmp_path / "t.csv", HEADER, rows)
    with pytest.raises(PgxError, match=r"t\.csv line 42: record 's40'.*position 5.*'X'"):
        table_experiment.build(config(path, tmp_path, stream="true"))
    assert not os.listdir(tmp_path / "tables")
    skipping = config(path, tmp_path, stream="true", bad_records="skip")
    streamed = table_experiment.build(skipping)
    skipping.data.stream = "false"
    memory = table_experiment.build(skipping)
    listed = [f.files[SKIPPED_RECORDS_FILE].splitlines() for f in (streamed, memory)]
    assert len(listed[0]) == 3 and sorted(listed[0]) == sorted(listed[1])
    assert "s40" not in encoded(streamed)["train"]["id"]
    # the prepared folder, reused, still refuses the bad row under bad_records=error
    with pytest.raises(PgxError, match=r"t\.csv line 42"):
        table_experiment.build(config(path, tmp_path, stream="true"))


def test_refused_in_one_line(tmp_path):
    path = write_table(tmp_path / "t.csv", HEADER, dna_rows(50))
    with pytest.raises(PgxError, match="split=scaffold: a streamed table is split row by row"):
        table_experiment.build(config(path, tmp_path, stream="true", split="scaffold"))
    with pytest.raises(PgxError, match="config.data.stream='maybe'"):
        table_experiment.build(config(path, tmp_path, stream="maybe"))
    assert table_store.streams("auto", path, {}) is False  # small: in memory


def train(path, tmp_path, workdir: str, *flags: str) -> int:
    return cli.main(
        [
            "train",
            f"--config=configs/table.py:path={path},epochs=3,batch=32,stream=true",
            f"--workdir={workdir}",
            f"--config.data.tfds_dir={tmp_path}",
            "--config.train.log_every_steps=5",
            *flags,
        ]
    )


def results(workdir: str) -> dict:
    with open(os.path.join(workdir, "results.json")) as f:
        return json.load(f)


def test_streamed_training_equals_in_memory(tmp_path):
    path = write_table(tmp_path / "t.csv", HEADER, dna_rows(400))
    streamed = str(tmp_path / "streamed")
    assert train(path, tmp_path, streamed) == 0
    memory = str(tmp_path / "memory")
    assert train(path, tmp_path, memory, "--config.data.stream=false") == 0
    assert results(streamed) == results(memory)
    with open(os.path.join(streamed, "data_summary.txt")) as f:
        assert "streamed from" in f.read()


def test_resumed_batches_are_the_batches_of_an_uninterrupted_run(tmp_path):
    """What exact resume needs of a source: batches from step k are the run's batches k.."""
    path = write_table(tmp_path / "t.csv", HEADER, dna_rows(200))
    experiment = table_experiment.build(config(path, tmp_path, stream="true"))
    train_split = experiment.splits["train"]

    def batches(start: int, count: int) -> list[dict]:
        found = pipeline.train_batches(train_split, experiment.encode_split, 16, 7, start)
        return [next(found) for _ in range(count)]

    whole, resumed = batches(0, 12), batches(9, 3)
    for a, b in zip(whole[9:], resumed, strict=True):
        np.testing.assert_array_equal(a["inputs"]["x"], b["inputs"]["x"])
        np.testing.assert_array_equal(a["id"], b["id"])
