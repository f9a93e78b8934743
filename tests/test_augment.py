"""Training-set augmentations: shifted copies (known answer, errors, and the regulatory
experiment adding them to the training split alone), and other organisms' promoters joining
the training split."""

import gzip

import numpy as np
import pytest

from configs.regulatory import promoter
from experiments import regulatory
from pgx_jax.data import alphabets
from pgx_jax.data.augment import with_shifted_copies
from pgx_jax.data.sources import InMemorySource
from pgx_jax.errors import PgxError


def _text(values) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def _source(*sequences: str) -> InMemorySource:
    return InMemorySource(
        {
            "id": np.array([f"s{i}" for i in range(len(sequences))]),
            "sequence": np.array(sequences),
            "label": np.arange(len(sequences)),
        }
    )


def test_shifted_copies_move_each_sequence_both_ways_and_fill_with_n():
    shifted = with_shifted_copies(_source("ACGTA", "TTGCA"), 2, alphabets.DNA).columns
    assert _text(shifted["sequence"]) == [
        "ACGTA",
        "TTGCA",  # fmt: skip
        "CGTAN",
        "TGCAN",
        "NACGT",
        "NTTGC",  # fmt: skip
        "GTANN",
        "GCANN",
        "NNACG",
        "NNTTG",  # fmt: skip
    ]
    assert _text(shifted["id"])[:6] == ["s0", "s1", "s0_l1", "s1_l1", "s0_r1", "s1_r1"]
    assert list(shifted["label"]) == [0, 1] * 5
    unchanged = with_shifted_copies(_source("ACGTA"), 0, alphabets.DNA).columns
    assert _text(unchanged["sequence"]) == ["ACGTA"]


@pytest.mark.parametrize(
    ("max_shift", "message"),
    [
        (-1, r"max_shift: -1; expected an integer >= 0"),
        (1.5, "expected an integer"),
        (3, r"3 is not shorter than record 's1' \(3 letters\)"),
    ],  # fmt: skip
)
def test_shifted_copies_errors_name_the_field_and_record(max_shift, message):
    with pytest.raises(PgxError, match=message):
        with_shifted_copies(_source("ACGTA", "ACG"), max_shift, alphabets.DNA)


def _write_organism(tmp_path, organism: str, length: int = 40) -> None:
    rng = np.random.default_rng(len(organism))
    for name, count in ((f"{organism}_prom.fa.gz", 20), (f"{organism}_non_prom.fa.gz", 30)):
        with gzip.open(tmp_path / name, "wt") as f:
            for i in range(count):
                f.write(f">{name}{i}\n{''.join(rng.choice(list('ACGT'), length))}\n")


def _promoter_config(tmp_path, **fields):
    _write_organism(tmp_path, "Toy")
    config = promoter.get_config("organism=Toy")
    config.data.dir = str(tmp_path)
    config.data.tfds_dir = str(tmp_path / "tfds")
    for key, value in fields.items():
        setattr(config.data, key, value)
    return config


def test_regulatory_experiment_shifts_the_training_split_alone(tmp_path):
    plain = regulatory.build(_promoter_config(tmp_path)).splits
    shifted = regulatory.build(_promoter_config(tmp_path, max_shift=2)).splits
    assert len(shifted["train"]) == 5 * len(plain["train"])
    for name in ("validation", "test"):
        assert _text(shifted[name].columns["id"]) == _text(plain[name].columns["id"])
    train = shifted["train"].columns
    assert _text(train["sequence"])[: len(plain["train"])] == _text(
        plain["train"].columns["sequence"]
    )
    assert all(s.endswith("NN") for s in _text(train["sequence"])[3 * len(plain["train"]) :][:5])


def test_shifts_with_examples_built_while_training_are_an_error(tmp_path):
    config = _promoter_config(tmp_path, max_shift=1)
    config.data.organism = "human_deepromoter"
    with pytest.raises(PgxError, match="max_shift: shifted copies need a fixed training split"):
        regulatory.build(config)


def test_other_organisms_join_the_training_split_alone(tmp_path):
    _write_organism(tmp_path, "Other")
    plain = regulatory.build(_promoter_config(tmp_path)).splits
    joined = regulatory.build(
        _promoter_config(tmp_path, also_train_on=("Other",), max_shift=1)
    ).splits
    for name in ("validation", "test"):
        assert _text(joined[name].columns["id"]) == _text(plain[name].columns["id"])
    own = _text(plain["train"].columns["id"])
    other = [f"Other_prom.fa.gz:{i}" for i in range(1, 21)]
    other += [f"Other_non_prom.fa.gz:{i}" for i in range(1, 31)]
    ids = _text(joined["train"].columns["id"])
    assert ids[: len(own)] == own
    assert sorted(ids[len(own) : len(own) + 50]) == sorted(other)
    assert len(ids) == 3 * (len(own) + 50)
    labels = joined["train"].columns["label"]
    other_labels = {i: label for i, label in zip(ids, labels, strict=True) if "Other" in i}
    assert all(label == i.startswith("Other_prom") for i, label in other_labels.items())


@pytest.mark.parametrize(
    ("also", "length", "message"),
    [
        (("Toy",), 40, r"'Toy' is not another CNNProm set \(this run's set is Toy/prom\)"),
        (("Long",), 41, r"'Long' holds sequences of 41 bases, longer than the 40 of Toy/prom"),
    ],
)
def test_other_organisms_that_cannot_join_are_named(tmp_path, also, length, message):
    _write_organism(tmp_path, "Long", length)
    with pytest.raises(PgxError, match=message):
        regulatory.build(_promoter_config(tmp_path, also_train_on=also))
