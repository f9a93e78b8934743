"""Genome-scale data on tiny synthetic genomes: FASTA windows against the file's text, peaks
and summits, tiling and blacklists, chromosome holdouts, labels against a brute-force overlap,
bigWig coverage against what was planted, bad interval lines, GC-matched negatives, seeds."""

import gzip
import os
import shutil

import numpy as np
import pyBigWig
import pysam
import pytest

from pgx_jax.data import alphabets
from pgx_jax.data import genome as g
from pgx_jax.data import genome_synthetic as gs
from pgx_jax.errors import PgxError

SIZES = (40_000, 30_000, 25_000, 20_000, 15_000, 12_000)
SITES_PER_MB = 400


def _generate(directory, seed=3):
    return gs.write_synthetic_genome(
        str(directory), SIZES, seed=seed, sites_per_mb=SITES_PER_MB, spacing=2000
    )


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    return _generate(tmp_path_factory.mktemp("genome"))


@pytest.fixture(scope="module")
def genome(made):
    with g.Genome(made.fasta) as opened:
        yield opened


@pytest.fixture(scope="module")
def text(made) -> dict[str, str]:
    """The FASTA's chromosomes read as plain text, case kept."""
    chroms: dict[str, list[str]] = {}
    with open(made.fasta) as f:
        for line in f:
            if line.startswith(">"):
                name = line[1:].split()[0]
                chroms[name] = []
            else:
                chroms[name].append(line.strip())
    return {name: "".join(lines) for name, lines in chroms.items()}


@pytest.fixture(scope="module")
def peaks(made, genome):
    return [g.read_intervals(made.peaks(cell), genome) for cell in made.cell_types]


def _expected(text, chrom, start, length):
    seq = text[chrom].upper()
    return "".join(seq[p] if 0 <= p < len(seq) else "N" for p in range(start, start + length))


def test_windows_read_the_fasta_text_upper_case_with_n_outside(genome, text):
    assert genome.names == tuple(text)
    assert genome.sizes.tolist() == [len(s) for s in text.values()]
    assert any(c.islower() for c in text["chr1"]) and text["chr1"].startswith("N")
    rng = np.random.default_rng(0)
    chrom = rng.integers(0, len(genome.names), 300)
    start = rng.integers(-400, genome.sizes[chrom] + 100)
    codes = genome.read(chrom, start, 500)
    assert codes.dtype == np.uint8 and codes.shape == (300, 500)
    for c, s, row in zip(chrom, start, g.sequences(codes), strict=True):
        assert row == _expected(text, genome.names[c], int(s), 500)
    assert genome.fetch("chr2", 29_990, 30_005) == text["chr2"][29_990:].upper() + "N" * 5
    x, mask = alphabets.one_hot(g.sequences(codes), alphabets.DNA, 500)
    assert x.shape == (300, 500, 4) and mask.all()


def test_bgzip_and_crlf_fasta_read_the_same_and_get_an_index(made, genome, tmp_path):
    zipped = str(tmp_path / "genome.fa.gz")
    pysam.tabix_compress(made.fasta, zipped)
    crlf = str(tmp_path / "crlf.fa")
    with open(made.fasta, "rb") as src, open(crlf, "wb") as dst:
        dst.write(src.read().replace(b"\n", b"\r\n"))
    chrom = np.arange(len(SIZES)).repeat(20)
    start = np.tile(np.arange(-50, 19_000, 950)[:20], len(SIZES))
    reference = genome.read(chrom, start, 300)
    for path in (zipped, crlf):
        with g.Genome(path) as other:
            assert other.names == genome.names
            np.testing.assert_array_equal(other.read(chrom, start, 300), reference)
    assert os.path.isfile(zipped + ".fai") and os.path.isfile(zipped + ".gzi")
    assert os.path.isfile(crlf + ".fai")


def test_unreadable_fastas_are_one_line_errors(made, tmp_path):
    plain_gzip = str(tmp_path / "plain.fa.gz")
    with open(made.fasta, "rb") as src, gzip.open(plain_gzip, "wb") as dst:
        shutil.copyfileobj(src, dst)
    ragged = tmp_path / "ragged.fa"
    ragged.write_text(">a\nACGT\nAC\nACGT\n")
    for path, fragment in ((plain_gzip, "bgzip"), (str(ragged), "line")):
        with pytest.raises(PgxError, match=fragment) as err:
            g.Genome(path)
        assert path in str(err.value) and "\n" not in str(err.value)


def test_genome_pickles_as_its_path(genome):
    import pickle

    again = pickle.loads(pickle.dumps(genome))
    assert again.fetch("chr3", 5000, 5100) == genome.fetch("chr3", 5000, 5100)
    again.close()


def test_peak_windows_centre_on_summits_where_the_motifs_are(made, genome, peaks, text):
    for k, intervals in enumerate(peaks):
        members = np.flatnonzero(made.member[:, k])
        np.testing.assert_array_equal(intervals.summit, made.summit[members])
        np.testing.assert_array_equal(intervals.start, made.peak_start[members, k])
        windows = g.peak_windows(intervals, genome, 101)
        np.testing.assert_array_equal(windows.start + 50, made.summit[members])
        np.testing.assert_array_equal(windows.chrom, made.site_chrom[members])
    offsets = np.cumsum(made.instance_width) - made.instance_width
    for i in range(len(made.instance_start)):
        planted = made.bases[offsets[i] : offsets[i] + made.instance_width[i]]
        chrom = made.names[made.instance_chrom[i]]
        start = int(made.instance_start[i])
        found = genome.fetch(chrom, start, start + len(planted))
        assert found == "".join("ACGT"[b] for b in planted)
    assert set(made.instance_motif) <= {m for ms in gs.CELL_TYPES.values() for m in ms}


def test_sites_are_shared_and_specific(made):
    count = made.member.sum(axis=1)
    assert (count == 1).any() and (count > 1).any() and count.min() >= 1
    assert len(made.instance_start) == made.member.sum()
    np.testing.assert_array_equal(np.bincount(made.instance_cell), made.member.sum(axis=0))


def test_tiling_and_blacklist(made, genome, tmp_path):
    windows = g.tile_windows(genome, 1000, 200, bin_size=200)
    for c, size in enumerate(SIZES):
        starts = windows.start[windows.chrom == c]
        np.testing.assert_array_equal(starts, np.arange(0, size - 1000 + 1, 200))
    np.testing.assert_array_equal(windows.bin_start, windows.start + 400)
    blacklist = tmp_path / "blacklist.bed"
    blacklist.write_text("track name=bl\n# excluded\nchr1\t0\t5000\nchr2\t10000\t10001\n")
    kept = g.drop_overlapping(windows, g.read_intervals(str(blacklist), genome))
    end = windows.start + 1000
    hit = ((windows.chrom == 0) & (windows.start < 5000)) | (
        (windows.chrom == 1) & (windows.start <= 10000) & (end > 10000)
    )
    np.testing.assert_array_equal(kept.start, windows.start[~hit])
    np.testing.assert_array_equal(kept.chrom, windows.chrom[~hit])
    assert g.tile_windows(genome, 1000, 500, chroms=["chr6"]).chrom.tolist() == [5] * 23


def test_windows_off_chromosome_ends_are_dropped(genome, tmp_path):
    bed = tmp_path / "edges.bed"
    bed.write_text("chr1\t0\t10\nchr1\t5000\t5010\nchr6\t11995\t12000\n")
    windows = g.peak_windows(g.read_intervals(str(bed), genome), genome, 1000)
    assert windows.chrom.tolist() == [0] and windows.start.tolist() == [4505]


def test_holdout_chromosomes_are_disjoint_and_complete(genome):
    windows = g.tile_windows(genome, 1000, 300)
    parts = g.split_by_chromosome(windows, ["chr2", "chr5"], ["chr3"])
    together = np.concatenate(list(parts.values()))
    np.testing.assert_array_equal(np.sort(together), np.arange(len(windows)))
    names = {k: {genome.names[c] for c in windows.chrom[v]} for k, v in parts.items()}
    assert names == {
        "train": {"chr1", "chr4", "chr6"},
        "validation": {"chr2", "chr5"},
        "test": {"chr3"},
    }
    with pytest.raises(PgxError, match="chrX"):
        g.split_by_chromosome(windows, ["chrX"], [])
    with pytest.raises(PgxError, match="both"):
        g.split_by_chromosome(windows, ["chr2"], ["chr2"])


@pytest.mark.parametrize("min_overlap", [0.0, 0.5, 1.0])
def test_labels_match_a_brute_force_overlap(made, genome, peaks, min_overlap):
    windows = g.tile_windows(genome, 600, 50, bin_size=200)
    labels = g.peak_labels(windows, peaks, min_overlap)
    assert labels.dtype == np.uint8 and labels.shape == (len(windows), len(peaks))
    for t, intervals in enumerate(peaks):
        covered = [np.zeros(size, dtype=bool) for size in SIZES]
        for c, s, e in zip(intervals.chrom, intervals.start, intervals.end, strict=True):
            covered[c][s:e] = True
        expected = [
            covered[c][b : b + 200].sum() >= max(min_overlap * 200, 1)
            for c, b in zip(windows.chrom, windows.bin_start, strict=True)
        ]
        np.testing.assert_array_equal(labels[:, t], expected)
    assert 0 < labels.mean() < 0.5


def test_overlapping_peaks_of_one_file_count_once(genome, tmp_path):
    bed = tmp_path / "overlapping.bed"
    bed.write_text("chr1\t1000\t1080\nchr1\t1040\t1110\nchr1\t1150\t1160\n")
    windows = g.Windows(genome.names, np.zeros(1, np.int32), np.array([1000]), 200, 200)
    intervals = g.read_intervals(str(bed), genome)
    assert g.peak_labels(windows, [intervals], 0.6).tolist() == [[1]]
    assert g.peak_labels(windows, [intervals], 0.61).tolist() == [[0]]


def _planted_coverage(made, k: int) -> list[np.ndarray]:
    """The coverage the generator meant for cell type k, per chromosome (NaN in the gap)."""
    tracks = []
    for c, size in enumerate(SIZES):
        track = np.full(size, made.background)
        track[: gs.gap_length(size)] = np.nan
        for i in np.flatnonzero((made.site_chrom == c) & made.member[:, k]):
            x = np.arange(size) - made.summit[i]
            bump = made.amplitude[i, k] * np.exp(-0.5 * (x / made.width) ** 2)
            track += np.where(np.abs(x) <= 4 * made.width, bump, 0)
        tracks.append(track)
    return tracks


def test_coverage_profiles_and_counts_match_what_was_planted(made, genome, peaks):
    k = 1
    windows = g.peak_windows(peaks[k], genome, 400)
    edge = g.Windows(genome.names, np.array([0, 5], np.int32), np.array([-100, 11_800]), 400, 400)
    windows = g.concatenate([windows, edge])
    profile = g.coverage(made.bigwig(made.cell_types[k]), windows)
    planted = [np.nan_to_num(t) for t in _planted_coverage(made, k)]
    expected = np.array(
        [
            [planted[c][p] if 0 <= p < SIZES[c] else 0.0 for p in range(s, s + 400)]
            for c, s in zip(windows.chrom, windows.start, strict=True)
        ]
    )
    np.testing.assert_allclose(profile, expected, rtol=1e-6, atol=1e-6)
    assert (profile[-2, :100] == 0).all() and (profile[-1, 200:] == 0).all()
    binned = g.coverage(made.bigwig(made.cell_types[k]), windows, bin_size=50)
    np.testing.assert_allclose(binned, expected.reshape(-1, 8, 50).sum(axis=2), rtol=1e-5)
    counts = g.coverage(made.bigwig(made.cell_types[k]), windows, bin_size=400)[:, 0]
    np.testing.assert_allclose(counts, expected.sum(axis=1), rtol=1e-5)
    direct = pyBigWig.open(made.bigwig(made.cell_types[k]))
    c, s = made.names[windows.chrom[0]], int(windows.start[0])
    np.testing.assert_array_equal(profile[0], direct.values(c, s, s + 400, numpy=True))
    direct.close()
    with pytest.raises(PgxError, match="does not divide"):
        g.coverage(made.bigwig(made.cell_types[k]), windows, bin_size=3)
    with pytest.raises(PgxError, match="bigWig"):
        g.coverage(made.fasta, windows)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("chr1\t100", "at least 3 columns"),
        ("chr1\tten\t200", "start 'ten' is not an integer"),
        ("chr1\t-5\t200", "start -5 is negative"),
        ("chr1\t300\t200", "start 300 is after end 200"),
        ("chrZ\t100\t200", "chromosome 'chrZ' is not in the genome"),
        ("chr6\t100\t12001", "past the end of chr6"),
    ],
)
def test_bad_bed_lines_name_file_and_line(genome, tmp_path, line, problem):
    path = tmp_path / "bad.bed.gz"
    with gzip.open(path, "wt") as f:
        f.write("browser position chr1\n#comment\n\nchr1\t1\t2\n" + line + "\n")
    with pytest.raises(PgxError) as err:
        g.read_intervals(str(path), genome)
    message = str(err.value)
    assert message.startswith(f"BED file {path} line 5: ") and problem in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("chr1\t100\t200\tp\t0\t.\t1\t-1\t-1", "expected 10 narrowPeak columns, got 9"),
        ("chr1\t100\t200\tp\t0\t.\t1\t-1\t-1\t100", "summit offset 100 lies outside"),
        ("chr1\t100\t200\tp\t0\t.\t1\t-1\t-1\t-2", "summit offset -2 is below -1"),
    ],
)
def test_bad_narrowpeak_lines_name_file_and_line(tmp_path, line, problem):
    path = tmp_path / "bad.narrowPeak"
    path.write_text("chr1\t0\t50\tp\t0\t.\t1\t-1\t-1\t-1\n" + line + "\n")
    with pytest.raises(PgxError, match=f"narrowPeak file {path} line 2: {problem}"):
        g.read_intervals(str(path))


def test_narrowpeak_without_summit_centres_on_the_middle(genome, tmp_path):
    path = tmp_path / "x.narrowPeak"
    path.write_text(
        "chr2\t1000\t1400\tp\t0\t.\t1\t-1\t-1\t-1\nchr2\t3000\t3400\tq\t0\t.\t1\t-1\t-1\t7\n"
    )
    intervals = g.read_intervals(str(path))
    assert intervals.names == ("chr2",) and intervals.summit.tolist() == [-1, 3007]
    windows = g.peak_windows(intervals, genome, 100)
    assert windows.chrom.tolist() == [1, 1] and windows.start.tolist() == [1150, 2957]
    assert g.peak_windows(intervals, genome, 100, summits=False).start.tolist() == [1150, 3150]


def test_gc_matched_negatives_follow_the_positives_gc(made, genome, peaks):
    tiles = g.tile_windows(genome, 500, 250)
    gc = g.gc_fraction(genome, tiles)
    positives = tiles.take(gc >= np.nanquantile(gc, 0.8))
    negatives = g.gc_matched_windows(genome, positives, seed=7, exclude=peaks)
    assert len(negatives) == len(positives)
    assert g.drop_overlapping(negatives, peaks).start.tolist() == negatives.start.tolist()
    target, drawn = g.gc_fraction(genome, positives), g.gc_fraction(genome, negatives)
    assert abs(np.mean(drawn) - np.mean(target)) < 0.005
    assert abs(np.median(drawn) - np.median(target)) < 0.01
    assert np.mean(drawn) > np.nanmean(gc) + 0.01
    again = g.gc_matched_windows(genome, positives, seed=7, exclude=peaks)
    np.testing.assert_array_equal(again.start, negatives.start)
    np.testing.assert_array_equal(again.chrom, negatives.chrom)
    other = g.gc_matched_windows(genome, positives, seed=8, exclude=peaks)
    assert not np.array_equal(other.start, negatives.start)


def test_flank_windows_sit_beside_peaks_and_miss_them(genome, peaks):
    flanks = g.flank_windows(peaks[0], genome, 500, 1000, exclude=peaks)
    assert len(flanks) > len(peaks[0])
    assert len(g.drop_overlapping(flanks, peaks)) == len(flanks)
    centre = np.where(peaks[0].summit >= 0, peaks[0].summit, 0)
    offsets = (flanks.start + 250)[:, None] - centre[None, :]
    same_chrom = flanks.chrom[:, None] == peaks[0].chrom[None, :]
    assert np.all(((np.abs(offsets) == 1000) & same_chrom).any(axis=1))


def test_tracks_table_and_its_errors(made, tmp_path):
    tracks = g.read_tracks(os.path.join(made.directory, "tracks.tsv"))
    assert [t.kind for t in tracks] == ["peaks", "coverage"] * len(made.cell_types)
    assert all(os.path.isfile(t.file) for t in tracks)
    bad = tmp_path / "tracks.tsv"
    bad.write_text("id\tfile\tkind\na\tx.bw\tsignal\n")
    with pytest.raises(PgxError, match=f"tracks file {bad} line 2: kind 'signal'"):
        g.read_tracks(str(bad))


def test_generator_is_seeded_and_chunking_does_not_change_it(made, tmp_path, monkeypatch):
    monkeypatch.setattr(gs, "CHUNK_LINES", 7)
    again = _generate(tmp_path / "again")
    names = ["genome.fa", "genome.fa.fai", "tracks.tsv"]
    names += [f"{c}{ext}" for c in made.cell_types for ext in (".narrowPeak", ".bw")]
    for name in names:
        with (
            open(os.path.join(made.directory, name), "rb") as a,
            open(os.path.join(again.directory, name), "rb") as b,
        ):
            assert a.read() == b.read(), name
    other = _generate(tmp_path / "other", seed=4)
    assert not np.array_equal(other.summit, made.summit)
