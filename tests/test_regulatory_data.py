"""Regulatory loaders: iEnhancer-2L and CNNProm / DeePromoter counts as SOURCE.md gives them,
CRLF and wrapped FASTA, the leaked test enhancers, folds, DeePromoter negatives, and the
cross-validation protocol with a final independent-test run."""

import functools
import gzip
import os

import ml_collections
import numpy as np
import pytest
from conftest import SHARED_DATA

from experiments import regulatory
from pgx_jax.data import pipeline, sampling
from pgx_jax.data.builders import ienhancer, promoters
from pgx_jax.data.sources import InMemorySource
from pgx_jax.errors import PgxError
from pgx_jax.train import protocol

needs_data = pytest.mark.skipif(
    not os.path.isdir(os.path.join(SHARED_DATA, "ienhancer_2l")) and os.environ.get("CI") != "true",
    reason="shared data not present (CI=true runs it regardless)",
)


def _data(**fields) -> ml_collections.ConfigDict:
    defaults = {
        "dir": "",
        "tfds_dir": "",
        "fold": -1,
        "num_folds": 5,
        "fold_seed": 0,
        "validation_fraction": 0.0,
        "drop_test_duplicates": False,
        "layer": 1,
    }
    return ml_collections.ConfigDict({**defaults, **fields})


def _text(values) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else v for v in values]


@needs_data
def test_ienhancer_counts_match_source_and_the_derived_table():
    splits = ienhancer.load(_data())
    table = {}
    with open(os.path.join(SHARED_DATA, "ienhancer_2l", "ienhancer2l.tsv")) as f:
        next(f)
        for line in f:
            split, _, name, _, _, sequence = line.rstrip("\n").split("\t")
            table.setdefault((split, name.split("_")[0]), []).append(sequence)
    expected = {"train": (1484, 742, 742), "test": (200, 100, 100)}
    for split, counts in expected.items():
        columns = splits[split].columns
        labels, sequences = columns["label"], np.array(_text(columns["sequence"]))
        assert tuple(np.bincount(labels)) == counts
        assert {len(s) for s in sequences} == {200}
        assert set("".join(sequences)) == set("ACGT")
        for label, name in enumerate(ienhancer.CLASSES):
            tsv_split = "train" if split == "train" else "test"
            assert sorted(sequences[labels == label]) == sorted(table[(tsv_split, name)])


@needs_data
def test_all_test_strong_enhancers_recur_in_training_and_dedup_drops_them(capsys):
    layer2 = regulatory.enhancer_splits(_data(layer=2))
    clean = regulatory.enhancer_splits(_data(layer=2, drop_test_duplicates=True))
    assert len(layer2["train"]) == 1484 and len(layer2["test"]) == 200
    assert len(clean["train"]) == 1384
    assert np.bincount(clean["train"].columns["label"]).tolist() == [742, 642]
    assert "dropped 100 training sequences" in capsys.readouterr().out
    test = set(_text(clean["test"].columns["sequence"]))
    assert not test & set(_text(clean["train"].columns["sequence"]))


@needs_data
def test_enhancer_folds_are_stratified_and_cover_training_once():
    held = []
    for fold in range(5):
        splits = regulatory.enhancer_splits(_data(layer=1, fold=fold))
        assert len(splits["train"]) + len(splits["test"]) == 2968
        negatives, positives = np.bincount(splits["test"].columns["label"])
        assert abs(int(negatives) - int(positives)) <= 1 and 592 <= negatives + positives <= 594
        held += _text(splits["test"].columns["id"])
    assert len(held) == 2968


def _write_fasta(path: str, records: list[tuple[str, str]], newline: str, width: int) -> None:
    with open(path, "w", newline="") as f:
        for name, sequence in records:
            f.write(f">{name}{newline}")
            for start in range(0, len(sequence), width):
                f.write(sequence[start : start + width] + newline)


def test_crlf_and_wrapped_enhancer_files_read_exactly(tmp_path):
    rng = np.random.default_rng(0)
    original = tmp_path / "original"
    original.mkdir()
    written = {}
    for index, name in enumerate(ienhancer.CLASSES):
        records = [
            (f"chr{index}_{i}", "".join(rng.choice(list("ACGTacgt"), 200))) for i in range(3)
        ]
        newline, width = ("\r\n", 60) if index % 2 else ("\n", 200)
        _write_fasta(str(original / f"train_{name}_enhancers.txt"), records, newline, width)
        written[index] = [s.upper() for _, s in records]
    records = ienhancer.read_split(str(tmp_path), "train")
    for label, sequences in written.items():
        assert [r["sequence"] for r in records if r["label"] == label] == sequences


def test_wrong_length_enhancer_names_file_and_record(tmp_path):
    original = tmp_path / "original"
    original.mkdir()
    for name in ienhancer.CLASSES:
        _write_fasta(str(original / f"test_{name}_enhancers.txt"), [("a", "A" * 200)], "\n", 60)
    _write_fasta(
        str(original / "test_weak_enhancers.txt"), [("a", "A" * 200), ("b", "C" * 199)], "\n", 60
    )
    with pytest.raises(PgxError, match=r"test_weak_enhancers.txt record 2 \(b\): length 199"):
        ienhancer.read_split(str(tmp_path), "test")


@needs_data
@pytest.mark.parametrize(
    "organism, kind, positives, negatives, length",
    [
        ("Ecoli", "prom", 839, 3000, 81),
        ("Bacillus", "prom", 373, 1000, 81),
        ("Arabidopsis", "tata", 1497, 2879, 251),
        ("Arabidopsis", "non_tata", 5905, 2879, 251),
    ],
)
def test_cnnprom_counts_match_source(organism, kind, positives, negatives, length):
    source = promoters.load(_data(organism=organism, kind=kind))
    assert np.bincount(source.columns["label"]).tolist() == [negatives, positives]
    assert {len(s) for s in source.columns["sequence"]} == {length}
    assert len(set(_text(source.columns["id"]))) == positives + negatives


@needs_data
def test_human_tata_count_and_deepromoter_negatives():
    source = promoters.load(_data(organism="human_deepromoter", kind="tata"))
    sequences = _text(source.columns["sequence"])
    assert len(sequences) == 2929 and {len(s) for s in sequences} == {300}
    negatives = promoters.deepromoter_negatives(sequences[:50], np.random.default_rng(0))
    for positive, negative in zip(sequences[:50], negatives, strict=True):
        same = [positive[i : i + 15] == negative[i : i + 15] for i in range(0, 300, 15)]
        assert len(negative) == 300 and 12 <= sum(same) < 20


def test_deepromoter_batches_are_a_pure_function_of_seed_and_step():
    """Half promoters, half negatives generated from promoters; any step restarts exactly."""
    rng = np.random.default_rng(2)
    sequences = ["".join(rng.choice(list("ACGT"), 40)) for _ in range(30)]
    positives = InMemorySource(
        {"id": np.array([f"p{i}" for i in range(30)]), "sequence": np.array(sequences)}
    )
    source = promoters.WithGeneratedNegatives(positives, 20, 12, seed=0)
    order = sampling.positives_with_negatives(len(source), 8)
    encode = functools.partial(regulatory.encode_dna, length=40)

    def batches(seed, step):
        return pipeline.train_batches(source, encode, 8, seed, step, order=order)

    first, again, later = next(batches(0, 5)), next(batches(0, 5)), next(batches(0, 6))
    np.testing.assert_array_equal(first["inputs"]["x"], again["inputs"]["x"])
    assert first["label"].tolist() == [1] * 4 + [0] * 4
    assert not np.array_equal(first["inputs"]["x"], later["inputs"]["x"])
    stream = batches(0, 5)
    np.testing.assert_array_equal(next(stream)["inputs"]["x"], first["inputs"]["x"])
    np.testing.assert_array_equal(next(stream)["inputs"]["x"], later["inputs"]["x"])
    assert not np.array_equal(next(batches(1, 5))["inputs"]["x"], first["inputs"]["x"])


def test_any_organism_laid_out_like_cnnprom_loads(tmp_path):
    rng = np.random.default_rng(1)
    for name, count in (("Yeast_prom.fa.gz", 4), ("Yeast_non_prom.fa.gz", 6)):
        with gzip.open(tmp_path / name, "wt") as f:
            for i in range(count):
                f.write(f"> {i % 2}\n{''.join(rng.choice(list('ACGT'), 90))}\n")
    source = promoters.load(
        _data(organism="Yeast", kind="prom", dir=str(tmp_path), tfds_dir=str(tmp_path / "tfds"))
    )
    assert sorted(source.columns["label"].tolist()) == [0] * 6 + [1] * 4


def test_cross_validation_writes_fold_mean_spread_and_final_score(tmp_path, monkeypatch):
    def fake_run_once(config, workdir):
        fold = config.data.fold
        return {"test/auroc": 0.9 if fold < 0 else 0.7 + 0.1 * fold, "train/steps": 3}

    monkeypatch.setattr(protocol, "run_once", fake_run_once)
    config = ml_collections.ConfigDict(
        {
            "data": {"fold": 0},
            "protocol": {"field": "data.fold", "choices": (0, 1, 2), "final": -1},
        }
    )
    results = protocol.run(config, str(tmp_path))
    assert results["test/auroc"] == pytest.approx(0.8)
    assert results["test/auroc_std"] == pytest.approx(0.1)
    assert results["final/test/auroc"] == pytest.approx(0.9)
    assert results["protocol/runs"] == 3
