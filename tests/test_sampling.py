"""Training orders: each is a pure function of (seed, epoch), and under `jax.distributed` two
processes read, row for row, the global batches one process reads (tests/sampling_worker.py)."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO

from pgx_jax.data import sampling
from pgx_jax.data.builders.promoters import WithGeneratedNegatives
from pgx_jax.data.sources import InMemorySource
from pgx_jax.errors import PgxError

WORKER = os.path.join(REPO, "tests", "sampling_worker.py")
ORDERS = ("shuffled", "length_bucketed", "pair_blocks", "generated_negatives", "genome_windows")


def _run_workers(tmp_path, processes: int) -> list[dict]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    outputs = [str(tmp_path / f"rows{processes}.{rank}.json") for rank in range(processes)]
    args = [[] if processes == 1 else [f"127.0.0.1:{port}", str(rank)] for rank in range(processes)]
    running = [
        subprocess.Popen(
            [sys.executable, WORKER, outputs[rank], *args[rank]],
            cwd=REPO,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in range(processes)
    ]
    for process in running:
        _, err = process.communicate(timeout=240)
        assert process.returncode == 0, err[-3000:]
    found = []
    for path in outputs:
        with open(path) as f:
            found.append(json.load(f))
    return found


@pytest.fixture(scope="module")
def one_and_two(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("sampling")
    return _run_workers(tmp_path, 1)[0], _run_workers(tmp_path, 2)


@pytest.mark.parametrize("name", ORDERS)
def test_two_processes_read_the_rows_one_process_reads(one_and_two, name):
    one, (first, second) = one_and_two
    for step, whole in enumerate(one[name]):
        halves = first[name][step], second[name][step]
        assert len(halves[0]["id"]) == len(halves[1]["id"]) == len(whole["id"]) // 2
        assert halves[0]["id"] + halves[1]["id"] == whole["id"], f"step {step}"
        np.testing.assert_array_equal(halves[0]["label"] + halves[1]["label"], whole["label"])
        if name == "generated_negatives":
            assert halves[0]["sequence"] + halves[1]["sequence"] == whole["sequence"]
        if name == "genome_windows":  # the same bases read, shifted and flipped alike
            assert halves[0]["codes"] + halves[1]["codes"] == whole["codes"]
        if name == "pair_blocks":  # one process factorises; two send naive pairs, offset
            for key in ("drug", "protein"):
                tokens = np.concatenate([np.array(h["inputs"][f"{key}_tokens"]) for h in halves])
                index = np.concatenate([np.array(h["inputs"][f"{key}_index"]) for h in halves])
                inputs = whole["inputs"]
                expected = np.array(inputs[f"{key}_tokens"])[np.array(inputs[f"{key}_index"])]
                np.testing.assert_array_equal(tokens[index], expected)


def test_the_stream_visits_every_record_once_per_epoch_and_restarts_anywhere():
    order = sampling.shuffled(10)
    epochs = np.concatenate([order.epoch(3, e) for e in range(3)])
    for e in range(3):
        assert sorted(epochs[10 * e : 10 * (e + 1)]) == list(range(10))
    cached = {}

    def epoch(e):
        return cached.setdefault(e, order.epoch(3, e))

    for step in range(6):  # batches of 4 straddle the epochs' boundaries
        batch = sampling.global_batch(epoch, order.length, 4, step)
        np.testing.assert_array_equal(batch, epochs[4 * step : 4 * step + 4])


def test_length_buckets_hold_similar_lengths_and_whole_batches():
    lengths = np.random.default_rng(0).integers(1, 100, 403)
    order = sampling.length_bucketed(lengths, 10, chunk_batches=5)
    assert order.length == 400
    batches = order.epoch(0, 0).reshape(40, 10)
    assert len(np.unique(batches)) == 400
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    random = np.random.default_rng(1).permutation(403)[:400].reshape(40, 10)
    shuffled = np.mean([np.ptp(lengths[b]) for b in random])
    assert spread < shuffled / 2


def test_generated_negatives_are_new_each_epoch_and_a_pure_function_of_the_index():
    sequences = np.array(["ACGTACGTACGTACGTACGT", "TTTTGGGGCCCCAAAATTTT"])
    promoters = InMemorySource(
        {"id": np.array(["p0", "p1"]), "sequence": sequences, "label": np.array([1, 1])}
    )
    source = WithGeneratedNegatives(promoters, parts=4, keep=2, seed=0)
    order = sampling.positives_with_negatives(2, 4)
    first, second = order.epoch(0, 0), order.epoch(0, 1)
    assert sorted(first[first < 2]) == [0, 1] and (first[first >= 2] < 4).all()
    assert (second[second >= 2] >= 4).all()
    records = source.take(np.concatenate([first, second]))
    np.testing.assert_array_equal(records["label"], np.r_[first, second] < 2)
    again = source.take(np.concatenate([first, second]))
    np.testing.assert_array_equal(records["sequence"], again["sequence"])
    made = records["sequence"][records["label"] == 0]
    assert all(len(s) == 20 for s in made) and len(set(made)) > 1


def test_a_split_smaller_than_a_batch_of_an_order_with_whole_batches_is_an_error():
    with pytest.raises(PgxError, match="fewer than one batch of 16"):
        sampling.length_bucketed(np.ones(10), 16)


def test_pair_blocking_is_chosen_from_pairs_per_protein():
    """Whole proteins while none has more than half a batch (Davis: 68 pairs a protein at
    batch 256), blocks of the median protein when a few do, blocks of 8 when the median
    protein's pairs would fill most of a batch (KIBA-like)."""
    davis_like = np.repeat(np.arange(40), 68)
    kiba_like = np.repeat(np.arange(40), 500)
    shared = np.repeat(
        np.arange(40), [673] + [46] * 39
    )  # Davis as a table: one sequence, 15 targets
    assert sampling.blocking_of(davis_like, 256) == 0
    assert sampling.blocking_of(kiba_like, 256) == sampling.AUTO_BLOCK_PAIRS
    assert sampling.blocking_of(shared, 256) == 46
    blocks = sampling.pair_blocks(shared, 256, "block", -1)
    first = shared[blocks.epoch(0, 0)[:256]]
    assert np.bincount(first).max() <= 46 * 2  # the large protein no longer fills a batch
    order = sampling.pair_blocks(kiba_like, 256, "block", -1)
    batch = kiba_like[order.epoch(0, 0)[:256]]
    assert len(np.unique(batch)) > 16  # blocks of 8: about 32 proteins in a batch of 256
    whole = sampling.pair_blocks(kiba_like, 256, "block", 0)
    assert len(np.unique(kiba_like[whole.epoch(0, 0)[:256]])) <= 2


def test_balanced_batches_hold_each_class_alike_and_every_minority_record(monkeypatch):
    """`data.balance`: 10 positives among 100 records, batches of 8 are 4 and 4, in alternate
    rows, so each of two processes' halves is balanced too, and the halves put together are
    the batch one process reads (the per-process rule, `process_rows`)."""
    labels = np.r_[np.ones(10), np.zeros(90), np.nan].astype(np.float32)  # one unlabelled
    order = sampling.balanced(labels, 8)
    assert order.length == 96
    first, again = order.epoch(0, 0), order.epoch(0, 0)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, order.epoch(0, 1))
    batches = labels[first].reshape(12, 8)
    assert (batches.sum(axis=1) == 4).all() and not np.isnan(batches).any()
    np.testing.assert_array_equal(batches[:, 1::2], 1.0)  # classes in sorted order
    assert set(first[labels[first] == 1]) == set(range(10))  # each positive 4-5 times
    assert len(set(first[labels[first] == 0])) == 48  # negatives without repeats
    for step in range(3):
        batch = sampling.global_batch(lambda e: order.epoch(5, e), order.length, 8, step)
        halves = []
        for rank in range(2):
            monkeypatch.setattr(sampling.jax, "process_count", lambda: 2)
            monkeypatch.setattr(sampling.jax, "process_index", lambda rank=rank: rank)
            halves.append(sampling.process_rows(batch))
        np.testing.assert_array_equal(np.concatenate(halves), batch)
        assert [labels[h].sum() for h in halves] == [2.0, 2.0]


def test_balanced_batches_need_two_classes():
    with pytest.raises(PgxError, match="1 class"):
        sampling.balanced(np.zeros(20), 8)
