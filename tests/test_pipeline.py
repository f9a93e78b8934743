"""The input pipeline: prepared TFDS splits, seeded shuffling, exact restart, full evaluation."""

import ml_collections
import numpy as np
import pytest

from pgx_jax.data import pipeline
from pgx_jax.data.builders import synthetic_motif
from pgx_jax.data.sources import InMemorySource, materialize, take


def _encode(records: dict) -> dict:
    return {"inputs": {"index": records["index"]}, "label": records["label"].astype(np.float32)}


def _table(n: int) -> InMemorySource:
    return InMemorySource({"index": np.arange(n), "label": np.arange(n) % 2})


def _stream(source, batch: int, seed: int, start_step: int = 0, pre_encode: bool = False):
    return pipeline.train_batches(source, _encode, batch, seed, start_step, pre_encode=pre_encode)


@pytest.fixture(scope="module")
def synthetic_splits():
    cfg = ml_collections.ConfigDict(
        {
            "motif_id": "MA0139",
            "length": 60,
            "num_examples": 500,
            "instances": 1,
            "seed": 3,
            "in_memory": False,
        }
    )
    return synthetic_motif.load(cfg)


def test_builder_prepares_every_split_once(synthetic_splits):
    sizes = {name: len(source) for name, source in synthetic_splits.items()}
    assert sizes == {"train": 400, "validation": 50, "test": 50}
    ids = [take(s, np.arange(len(s)))["id"] for s in synthetic_splits.values()]
    assert len(set(np.concatenate(ids))) == 500
    record = synthetic_splits["train"][0]
    assert len(record["sequence"]) == 60 and record["label"] in (0, 1)


def test_in_memory_source_equals_array_record_source(synthetic_splits):
    source = synthetic_splits["test"]
    table = materialize(source)
    indices = np.array([3, 0, 49, 7])
    streamed, cached = take(source, indices), take(table, indices)
    for key in ("id", "sequence", "label"):
        np.testing.assert_array_equal(streamed[key], cached[key])


def _first_batches(source, seed: int, count: int) -> list[np.ndarray]:
    stream = _stream(source, 8, seed)
    return [next(stream)["inputs"]["index"] for _ in range(count)]


def test_train_batches_are_seeded_and_cover_each_epoch():
    source = _table(40)
    first, again = (_first_batches(source, seed=1, count=10) for _ in range(2))
    other = next(_stream(source, 8, seed=2))["inputs"]["index"]
    np.testing.assert_array_equal(np.stack(first), np.stack(again))
    assert not np.array_equal(first[0], other)
    assert sorted(np.concatenate(first[:5])) == list(range(40))
    assert sorted(np.concatenate(first[5:])) == list(range(40))
    assert not np.array_equal(np.concatenate(first[:5]), np.concatenate(first[5:]))


def test_train_batches_restart_at_any_step():
    source = _table(30)
    stream = _stream(source, 4, seed=0)
    expected = [next(stream)["inputs"]["index"] for _ in range(12)]
    restarted = _stream(source, 4, seed=0, start_step=7)
    for step in range(7, 12):
        np.testing.assert_array_equal(next(restarted)["inputs"]["index"], expected[step])


def test_eval_batches_see_every_record_once_with_padding_weights():
    source = _table(21)
    batches = list(pipeline.eval_batches(source, _encode, 8))
    assert len(batches) == 3 and all(len(b["weight"]) == 8 for b in batches)
    weight = np.concatenate([b["weight"] for b in batches])
    index = np.concatenate([b["inputs"]["index"] for b in batches])
    assert weight.sum() == 21
    np.testing.assert_array_equal(index[weight > 0], np.arange(21))


def test_pre_encoded_batches_equal_encoded_on_the_fly():
    source = _table(50)
    lazy = _stream(source, 8, seed=5)
    eager = _stream(source, 8, seed=5, pre_encode=True)
    for _ in range(13):
        a, b = next(lazy), next(eager)
        np.testing.assert_array_equal(a["inputs"]["index"], b["inputs"]["index"])
        np.testing.assert_array_equal(a["label"], b["label"])
        np.testing.assert_array_equal(a["weight"], b["weight"])


@pytest.mark.parametrize(
    "size, batch, seed, start",
    [(40, 8, 1, 0), (30, 4, 0, 7), (1000, 256, 3, 2), (7, 3, 2**32 - 2, 5)],
)
def test_train_batches_cut_the_stream_of_epoch_permutations(size, batch, seed, start):
    """Batch s is positions [s*B, (s+1)*B) of the epochs' permutations one after another
    (a batch straddles two epochs where the size is not a multiple of the batch)."""
    stream = _stream(_table(size), batch, seed=seed, start_step=start)
    steps = 3 * size // batch + 2
    epochs = -(-(start + steps) * batch // size)
    reference = np.concatenate(
        [np.random.default_rng([seed, e]).permutation(size) for e in range(epochs)]
    )
    for step in range(start, start + steps):
        expected = reference[step * batch : (step + 1) * batch]
        np.testing.assert_array_equal(next(stream)["inputs"]["index"], expected)
