"""Coverage targets from bigWig tracks: labels read per batch against pyBigWig, the Poisson and
BPNet losses against their formulas, the profile metrics on known answers, and a small BPNet
that learns profiles on held-out chromosomes of a generated genome."""

import os

import jax.numpy as jnp
import numpy as np
import pyBigWig
import pytest
from conftest import read_json
from scipy import stats

from configs.genome import bpnet
from experiments import genome as genome_experiment
from pgx_jax import cli
from pgx_jax.data import genome
from pgx_jax.data.genome_synthetic import chromosome_sizes, write_synthetic_genome
from pgx_jax.metrics import compute_metrics
from pgx_jax.metrics.profiles import count_pearson, profile_jsd, profile_pearson
from pgx_jax.train import losses

SMALL = ["--config.model.filters=16", "--config.model.layers=3", "--config.model.profile_width=25"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> str:
    directory = str(tmp_path_factory.mktemp("coverage"))
    write_synthetic_genome(directory, chromosome_sizes(3, count=10), seed=2)
    return directory


def test_profile_and_count_labels_are_the_bigwig_values(folder):
    config = bpnet.get_config(f"dir={folder}")
    config.data.length, config.data.profile_length = 600, 300
    train = genome_experiment.build(config).splits["train"]
    rows = np.arange(0, len(train), max(len(train) // 40, 1))
    profiles = train.take(rows)["labels"]
    tracks = [t for t in genome.read_tracks(config.data.tracks) if t.kind == "coverage"]
    assert profiles.shape == (len(rows), 300, len(tracks))
    files = [t.file for t in tracks]
    counts = genome.CoverageLabels(files, "counts", train.windows.names)(train.windows.take(rows))
    for t, track in enumerate(tracks):
        with pyBigWig.open(track.file) as bw:
            for i, row in enumerate(rows):
                window = train.windows.take(np.array([row]))
                chrom, start = window.names[window.chrom[0]], int(window.start[0])
                values = np.nan_to_num(bw.values(chrom, start + 150, start + 450, numpy=True))
                np.testing.assert_allclose(profiles[i, :, t], values, rtol=1e-6)
                middle = np.nan_to_num(bw.values(chrom, start + 200, start + 400, numpy=True))
                assert counts[i, t] == pytest.approx(middle.sum(), rel=1e-5)
    assert profiles.sum() > 0


def test_poisson_loss_is_the_negative_log_likelihood():
    rates = np.array([[0.5, 2.0], [3.0, 0.1]], np.float32)
    counts = np.array([[0.0, 3.0], [5.0, 1.0]], np.float32)
    loss = losses.per_example_loss("counts", jnp.log(jnp.asarray(rates)), jnp.asarray(counts))
    np.testing.assert_allclose(loss, -stats.poisson.logpmf(counts, rates), rtol=1e-5)


def test_profile_loss_is_the_multinomial_and_the_log_count_error():
    rng = np.random.default_rng(0)
    outputs = rng.normal(size=(3, 6, 2)).astype(np.float32)  # 5 positions + the log count
    coverage = rng.integers(0, 4, size=(3, 5, 2)).astype(np.float32)
    coverage[:, :, 1] *= 20  # task 1's median total over 10: its count term weighs that much
    loss = np.asarray(losses.per_example_loss("profile", jnp.asarray(outputs), coverage))
    for t in range(2):
        weight = max(np.median(coverage[:, :, t].sum(axis=1)) / 10, 1.0)
        assert (weight > 1) == (t == 1)
        for b in range(3):
            p = np.exp(outputs[b, :5, t]) / np.exp(outputs[b, :5, t]).sum()
            multinomial = -stats.multinomial.logpmf(coverage[b, :, t], coverage[b, :, t].sum(), p)
            count = (np.log1p(coverage[b, :, t].sum()) - outputs[b, 5, t]) ** 2
            assert loss[b, t] == pytest.approx(multinomial + weight * count, rel=1e-4)
    expected = np.asarray(losses.link("profile", jnp.asarray(outputs)))
    np.testing.assert_allclose(expected.sum(axis=1), np.expm1(outputs[:, 5]), rtol=1e-5)


def test_profile_metrics_on_known_answers():
    rng = np.random.default_rng(1)
    truth = rng.poisson(3.0, size=(50, 40)).astype(np.float32)
    assert profile_pearson(truth, 2 * truth) == pytest.approx(1.0)
    assert profile_jsd(truth, 5 * truth) == pytest.approx(0.0, abs=1e-5)
    apart = np.zeros((1, 4))
    assert profile_jsd(np.array([[1.0, 1, 0, 0]]), apart + [0, 0, 1, 1]) == pytest.approx(1.0)
    guess = truth * rng.uniform(0.5, 2.0, size=(50, 1))
    sums = np.log1p(truth.sum(axis=1)), np.log1p(guess.sum(axis=1))
    assert count_pearson(truth, guess) == pytest.approx(np.corrcoef(*sums)[0, 1])
    stacked = np.stack([truth, truth[::-1]], axis=2)
    found = compute_metrics(["profile_pearson"], stacked, stacked, np.ones((50, 2), bool))
    assert found == {
        "profile_pearson": 1.0,
        "profile_pearson/task0": 1.0,
        "profile_pearson/task1": 1.0,
    }


@pytest.mark.slow
def test_a_small_bpnet_learns_profiles_on_held_out_chromosomes(folder, tmp_path):
    workdir = str(tmp_path / "bpnet")
    args = [
        "train",
        f"--config=configs/genome/bpnet.py:dir={folder},steps=300,eval_every=100",
        "--config.optimizer.learning_rate=4e-3",
        "--config.data.length=400",
        "--config.data.profile_length=200",
        *SMALL,
        f"--workdir={workdir}",
    ]
    assert cli.main(args) == 0
    results = read_json(os.path.join(workdir, "results.json"))
    assert results["test/profile_pearson"] > 0.4  # about 0.2 untrained
    assert {f"test/count_pearson/task{t}" for t in range(3)} <= set(results)
    with np.load(os.path.join(workdir, "test_predictions.npz")) as saved:
        assert saved["predictions"].shape == saved["labels"].shape == (242, 200, 3)


def test_augmented_profiles_follow_the_shift_and_the_strand(folder):
    config = bpnet.get_config(f"dir={folder}")
    config.data.length, config.data.profile_length = 600, 300
    train = genome_experiment.build(config).splits["train"]
    keys = np.arange(2 * len(train), 2 * len(train) + 60)  # epoch 2: shifted, some reversed
    read = train.take(keys)
    track = next(t for t in genome.read_tracks(config.data.tracks) if t.kind == "coverage")
    reversed_ = 0
    with pyBigWig.open(track.file) as bw:
        for row, name in enumerate(read["id"]):
            chrom, start = str(name).rsplit(":", 1)
            values = np.nan_to_num(bw.values(chrom, int(start) + 150, int(start) + 450, numpy=True))
            profile = read["labels"][row, :, 0]
            forward = np.allclose(profile, values, rtol=1e-6)
            backward = np.allclose(profile, values[::-1], rtol=1e-6)
            assert forward or backward, f"window {name}: profile is no read of the track"
            reversed_ += backward and not forward
    assert 10 < reversed_ < 50


def test_mutagenesis_of_a_profile_model_explains_a_tracks_log_count():
    import jax

    from pgx_jax.interpret.mutagenesis import model_score_fn
    from pgx_jax.models.bpnet import BPNet

    model = BPNet(num_tasks=2, filters=4, layers=2, profile_length=20)
    x = jax.nn.one_hot(np.random.default_rng(0).integers(0, 4, (3, 40)), 4)
    variables = model.init(jax.random.PRNGKey(0), x)
    outputs = model.apply(variables, x)
    score = model_score_fn(model, variables, {"x": x[:1]}, output_index=1)
    np.testing.assert_allclose(score(x), outputs[:, -1, 1], rtol=1e-6)


def test_a_track_without_a_chromosome_masks_its_labels_there(folder, tmp_path):
    reference = genome.Genome(os.path.join(folder, "genome.fa"))
    source = next(
        t for t in genome.read_tracks(os.path.join(folder, "tracks.tsv")) if t.kind == "coverage"
    )
    partial = str(tmp_path / "partial.bw")
    with pyBigWig.open(source.file) as full, pyBigWig.open(partial, "w") as out:
        kept = [
            (n, int(reference.sizes[reference.index(n)])) for n in reference.names if n != "chr2"
        ]
        out.addHeader(kept)
        for name, size in kept:
            values = np.nan_to_num(full.values(name, 0, size, numpy=True))
            out.addEntries(name, 0, values=values.astype(float).tolist(), span=1, step=1)
    windows = genome.tile_windows(reference, 400, 50_000, 200)
    labels = genome.CoverageLabels([source.file, partial], "counts", reference.names)
    found, mask = labels(windows), labels.mask(windows)
    on_chr2 = windows.chrom == reference.index("chr2")
    assert on_chr2.any() and not mask[on_chr2, 1].any() and mask[~on_chr2].all()
    assert not found[on_chr2, 1].any()
    np.testing.assert_allclose(found[~on_chr2, 1], found[~on_chr2, 0], rtol=1e-5)
    encoded = genome_experiment.encode_windows(
        {"codes": np.full((2, 4), 65, np.uint8), "labels": found[:2], "weights": mask[:2] * 1.0}
    )
    np.testing.assert_array_equal(encoded["weight"], mask[:2])
