"""Genome-scale training (experiments/genome.py) on a small generated genome: windows read
from the FASTA with their augmentation, held-out chromosomes, learning, exact resume."""

import os

import jax
import numpy as np
import pytest
from conftest import interrupted_at, read_json

from configs.genome import basset
from experiments import genome as genome_experiment
from pgx_jax import cli
from pgx_jax.checkpoint import load_state_tree
from pgx_jax.data import genome
from pgx_jax.data.genome_synthetic import chromosome_sizes, write_synthetic_genome

SMALL = ["--config.model.filters=(32, 16, 16)", "--config.model.hidden=(32,)"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> str:
    directory = str(tmp_path_factory.mktemp("genome"))
    write_synthetic_genome(directory, chromosome_sizes(3, count=10), seed=1)
    return directory


def _complement(sequence: str) -> str:
    return sequence.translate(str.maketrans("ACGTN", "TGCAN"))[::-1]


def test_windows_are_reads_of_the_genome_shifted_and_flipped_by_the_index(folder):
    config = basset.get_config(f"dir={folder}")
    experiment = genome_experiment.build(config)
    train = experiment.splits["train"]
    reference = genome.Genome(config.data.genome)
    n = len(train)
    plain = train.take(np.arange(5))
    for row in range(5):
        window = train.windows.take(np.array([row]))
        chrom, start = window.names[window.chrom[0]], int(window.start[0])
        assert plain["codes"][row].tobytes().decode() == reference.fetch(chrom, start, start + 600)
    keys = np.arange(3 * n, 3 * n + 200)  # epoch 3: shifted by up to 20, some reversed
    again = train.take(keys)
    np.testing.assert_array_equal(again["codes"], train.take(keys)["codes"])
    flipped = shifted = 0
    for row, key in enumerate(keys):
        window = train.windows.take(np.array([key % n]))
        chrom, start = window.names[window.chrom[0]], int(window.start[0])
        read = again["codes"][row].tobytes().decode()
        matches = [
            (shift, rc)
            for shift in range(-20, 21)
            for rc in (False, True)
            if read
            == (_complement if rc else str)(
                reference.fetch(chrom, start + shift, start + shift + 600)
            )
        ]
        assert matches, f"window {key} is no read of the genome near {chrom}:{start}"
        shifted += matches[0][0] != 0
        flipped += matches[0][1]
    assert 60 < flipped < 140 and shifted > 150
    np.testing.assert_array_equal(again["labels"], train.labels(train.windows.take(keys % n)))
    held = {
        name: set(np.asarray(s.windows.names)[s.windows.chrom])
        for name, s in experiment.splits.items()
    }
    assert held["validation"] == {"chr7"} and held["test"] == {"chr8", "chr9"}
    assert not held["train"] & {"chr7", "chr8", "chr9"}


@pytest.mark.slow
def test_basset_learns_motifs_on_held_out_chromosomes(folder, tmp_path):
    workdir = str(tmp_path / "basset")
    args = ["train", f"--config=configs/genome/basset.py:dir={folder},steps=300,eval_every=100"]
    assert cli.main([*args, *SMALL, f"--workdir={workdir}"]) == 0
    results = read_json(os.path.join(workdir, "results.json"))
    assert results["test/auroc"] > 0.65


@pytest.mark.slow
def test_a_stopped_run_resumes_mid_epoch_exactly_with_augmentation(folder, tmp_path):
    args = ["train", f"--config=configs/genome/basset.py:dir={folder},steps=40,eval_every=20"]
    whole, stopped = str(tmp_path / "whole"), str(tmp_path / "stopped")
    assert cli.main([*args, *SMALL, f"--workdir={whole}"]) == 0
    with interrupted_at(27):  # mid-epoch: about 35 steps to an epoch
        assert cli.main([*args, *SMALL, f"--workdir={stopped}"]) == 143
    assert cli.main([*args, *SMALL, f"--workdir={stopped}"]) == 0
    (step_a, a), (step_b, b) = load_state_tree(whole), load_state_tree(stopped)
    assert step_a == step_b == 40
    jax.tree.map(np.testing.assert_array_equal, a["params"], b["params"])
