"""Reads with a known truth: planted variants, simulated paired reads, aligned BAM files.

A diploid sample is a reference (a FASTA, e.g. `genome_synthetic`'s) with SNVs, insertions
and deletions planted one per slot of `every` bases; each is heterozygous on haplotype 0 or 1,
or homozygous. A tumour adds somatic variants on copies of haplotype 0, one copy per variant
allele fraction (VAF), so that a tumour read carries a somatic allele with that probability.
Reads are 150-bp pairs from fragments of about 400 bases drawn uniformly along a haplotype,
their base qualities falling along the read and each base wrong with probability
10^(-Q/10) (numpy over every read at once); they are written as FASTQ and aligned with
`bwa mem` (`align`, Debian's `bwa`), or written as BAM at their true alignment
(`write_true_alignments`, pysam: unit tests, and machines without bwa).

`python -m pgx_jax.data.reads_synthetic DIR [--size-mb 3] [--coverage 10 30 60] [--somatic]
[--aligner bwa|truth]` writes into DIR: `genome.fa` (`genome_synthetic`), `truth.vcf.gz`
(+ .tbi; left-aligned), `sample_<C>x.bam` (+ .bai) per coverage, and with --somatic
`somatic_truth.vcf.gz`, `tumour_<C>x.bam`, `normal_<C>x.bam`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
from collections.abc import Sequence

import numpy as np

from pgx_jax.data.genome import Genome
from pgx_jax.data.genome_synthetic import chromosome_sizes, gap_length, write_synthetic_genome
from pgx_jax.data.pileup import left_align
from pgx_jax.errors import PgxError
from pgx_jax.files import atomic_open

BASES = np.frombuffer(b"ACGT", np.uint8)
_COMPLEMENT = np.frombuffer(
    bytes(range(256)).translate(bytes.maketrans(b"ACGTN", b"TGCAN")), np.uint8
)
READ_LENGTH = 150


@dataclasses.dataclass(frozen=True)
class Variants:
    """Planted variants: chromosome name, 0-based POS of REF's first base, REF, ALT, the
    haplotypes carrying it (0, 1, or 2 for both), and the VAF (somatic; 0.5/1.0 germline)."""

    chrom: tuple[str, ...]
    pos: np.ndarray
    ref: tuple[str, ...]
    alt: tuple[str, ...]
    haplotype: np.ndarray
    vaf: np.ndarray

    def __len__(self) -> int:
        return len(self.pos)

    def genotype(self) -> np.ndarray:
        """1 heterozygous, 2 homozygous alternative."""
        return np.where(self.haplotype == 2, 2, 1)

    def on(self, haplotype: int) -> Variants:
        """The variants a haplotype carries."""
        keep = (self.haplotype == haplotype) | (self.haplotype == 2)
        return self.take(np.flatnonzero(keep))

    def take(self, index: np.ndarray) -> Variants:
        return Variants(
            tuple(self.chrom[i] for i in index),
            self.pos[index],
            tuple(self.ref[i] for i in index),
            tuple(self.alt[i] for i in index),
            self.haplotype[index],
            self.vaf[index],
        )


def plant_variants(
    reference: Genome,
    rng: np.random.Generator,
    every: int = 1500,
    offset: float = 0.5,
    kinds: tuple[float, float, float] = (0.7, 0.15, 0.15),
    max_indel: int = 8,
    hom: float = 0.35,
) -> Variants:
    """One variant per slot of `every` bases (at `offset` of the slot, within every / 8),
    past each chromosome's assembly gap: SNV, insertion or deletion with probabilities
    `kinds`, indel lengths 1 + geometric(0.5) up to `max_indel`; homozygous with probability
    `hom`, else on haplotype 0 or 1."""
    chrom, pos, ref, alt = [], [], [], []
    for c, (name, size) in enumerate(zip(reference.names, reference.sizes, strict=True)):
        first, slots = gap_length(int(size)) // every + 1, int(size) // every - 1
        if slots <= first:
            continue
        slot = np.arange(first, slots)
        jitter = rng.integers(-(every // 8), every // 8 + 1, len(slot))
        where = slot * every + int(offset * every) + jitter
        kind = rng.choice(3, size=len(slot), p=kinds)
        length = np.minimum(rng.geometric(0.5, len(slot)), max_indel)
        codes = reference.read(np.full(len(slot), c), where, max_indel + 1)
        for k, p, row, n in zip(kind, where, codes, length, strict=True):
            text = row.tobytes().decode()
            if k == 0:
                new = BASES[(np.searchsorted(BASES, row[0]) + rng.integers(1, 4)) % 4]
                r, a = text[0], chr(new)
            elif k == 1:
                r, a = text[0], text[0] + BASES[rng.integers(0, 4, n)].tobytes().decode()
            else:
                r, a = text[: n + 1], text[0]
            chrom.append(name)
            pos.append(int(p))
            ref.append(r)
            alt.append(a)
    n = len(pos)
    haplotype = np.where(rng.random(n) < hom, 2, rng.integers(0, 2, n))
    vaf = np.where(haplotype == 2, 1.0, 0.5)
    return Variants(tuple(chrom), np.asarray(pos, np.int64), tuple(ref), tuple(alt), haplotype, vaf)


def normalised(variants: Variants, reference: Genome) -> Variants:
    """The variants left-aligned (`pileup.left_align`), as a caller reports them."""
    rows = [
        left_align(reference, c, int(p), r, a)
        for c, p, r, a in zip(variants.chrom, variants.pos, variants.ref, variants.alt, strict=True)
    ]
    return dataclasses.replace(
        variants,
        pos=np.asarray([r[0] for r in rows], np.int64),
        ref=tuple(r[1] for r in rows),
        alt=tuple(r[2] for r in rows),
    )


@dataclasses.dataclass(frozen=True)
class Haplotype:
    """One haplotype of one chromosome: its bases (ASCII) and, per base, the reference
    position it copies (-1 for inserted bases)."""

    chrom: str
    bases: np.ndarray
    ref_of: np.ndarray


def haplotypes(reference: Genome, variants: Variants) -> list[Haplotype]:
    """Every chromosome of the reference with `variants` applied (all of them, taken as
    carried by this haplotype; they must not overlap)."""
    found = []
    for c, name in enumerate(reference.names):
        seq = reference.read([c], [0], int(reference.sizes[c]))[0]
        index = [i for i, v in enumerate(variants.chrom) if v == name]
        order = sorted(index, key=lambda i: variants.pos[i])
        parts, refs, at = [], [], 0
        for i in order:
            p, r, a = int(variants.pos[i]), variants.ref[i], variants.alt[i]
            if p < at:
                raise PgxError(f"variants overlap at {name}:{p + 1}")
            parts += [seq[at:p], np.frombuffer(a.encode(), np.uint8)]
            refs += [np.arange(at, p), np.full(len(a), -1)]
            refs[-1][0] = p  # the anchor (or SNV) base keeps its reference position
            if len(a) == len(r):  # an SNV covers its base
                refs[-1][:] = np.arange(p, p + len(a))
            at = p + len(r)
        parts.append(seq[at:])
        refs.append(np.arange(at, len(seq)))
        found.append(Haplotype(name, np.concatenate(parts), np.concatenate(refs).astype(np.int64)))
    return found


@dataclasses.dataclass(frozen=True)
class Reads:
    """Simulated pairs: per pair the haplotype index and the fragment's start and length on
    it, read 1's strand; both reads' bases (ASCII) and base qualities [N, 150] as sequenced
    (read 2 reverse-complemented)."""

    source: np.ndarray
    start: np.ndarray
    length: np.ndarray
    reverse1: np.ndarray
    bases: tuple[np.ndarray, np.ndarray]
    quals: tuple[np.ndarray, np.ndarray]


def simulate_reads(
    haps: Sequence[Haplotype],
    weights: Sequence[float],
    coverage: float,
    rng: np.random.Generator,
    fragment: tuple[float, float] = (400.0, 40.0),
) -> Reads:
    """Pairs from each haplotype in proportion to its weight (weights of a chromosome's
    haplotypes add up to 1, so its coverage is `coverage`), fragments starting uniformly past
    the assembly gap; qualities Q = 36 - 16 (i/150)^2 + N(0, 4) clipped to [2, 41], a base
    read wrong (another base, uniformly) with probability 10^(-Q/10)."""
    parts = []
    for h, (hap, weight) in enumerate(zip(haps, weights, strict=True)):
        first, size = gap_length(int(hap.ref_of.max()) + 1), len(hap.bases)
        pairs = int(round(weight * coverage * (size - first) / (2 * READ_LENGTH)))
        length = np.clip(rng.normal(*fragment, pairs), READ_LENGTH, 3 * fragment[0]).astype(int)
        start = rng.integers(first, size - length)
        parts.append((np.full(pairs, h), start, length))
    source, start, length = (np.concatenate(p) for p in zip(*parts, strict=True))
    offsets = np.arange(READ_LENGTH)
    reads = []
    for where in (start, start + length - READ_LENGTH):
        codes = np.empty((len(source), READ_LENGTH), np.uint8)
        for h, hap in enumerate(haps):
            rows = source == h
            codes[rows] = hap.bases[where[rows, None] + offsets]
        reads.append(codes)
    reads[1] = _COMPLEMENT[reads[1][:, ::-1]]
    quals, called = [], []
    for codes in reads:
        q = 36 - 16 * (offsets / READ_LENGTH) ** 2 + rng.normal(0, 4, codes.shape)
        q = np.clip(np.round(q), 2, 41).astype(np.uint8)
        wrong = rng.random(codes.shape) < 10.0 ** (-q.astype(np.float64) / 10)
        shift = rng.integers(1, 4, codes.shape)
        index = np.searchsorted(BASES, codes).clip(0, 3)
        called.append(np.where(wrong, BASES[(index + shift) % 4], codes))
        quals.append(q)
    reverse1 = rng.random(len(source)) < 0.5  # read 1 from the fragment's other end
    first = np.where(reverse1[:, None], called[1], called[0])
    second = np.where(reverse1[:, None], called[0], called[1])
    q1 = np.where(reverse1[:, None], quals[1], quals[0])
    q2 = np.where(reverse1[:, None], quals[0], quals[1])
    return Reads(source, start, length, reverse1, (first, second), (q1, q2))


def write_fastq(reads: Reads, prefix: str) -> tuple[str, str]:
    """`<prefix>_1.fq` and `<prefix>_2.fq`: reads named r000000001.. in pair order, written as
    one byte matrix per file (all records have one length)."""
    n = len(reads.source)
    digits = (np.arange(n)[:, None] // 10 ** np.arange(8, -1, -1)) % 10 + ord("0")
    paths = []
    for k in range(2):
        row = np.concatenate(
            [
                np.full((n, 2), [ord("@"), ord("r")]),
                digits,
                np.full((n, 1), ord("\n")),
                reads.bases[k],
                np.tile(np.frombuffer(b"\n+\n", np.uint8), (n, 1)),
                reads.quals[k] + 33,
                np.full((n, 1), ord("\n")),
            ],
            axis=1,
        ).astype(np.uint8)
        paths.append(f"{prefix}_{k + 1}.fq")
        with atomic_open(paths[-1], "wb") as out:
            out.write(row.tobytes())
    return paths[0], paths[1]


def require(tool: str) -> str:
    """The path of an external program; PgxError saying how to install it if absent."""
    found = shutil.which(tool)
    if not found:
        raise PgxError(f"{tool} not found on PATH; install it with `apt-get install -y {tool}`")
    return found


def align(fasta: str, fastq: tuple[str, str], bam: str, sample: str, threads: int = 2) -> str:
    """`bwa mem` the pairs to the reference (indexing it once), then sort and index the BAM
    with pysam's samtools."""
    import pysam

    bwa = require("bwa")
    if not os.path.exists(fasta + ".bwt"):
        subprocess.run([bwa, "index", fasta], check=True, capture_output=True)
    sam = bam + ".sam"
    group = f"@RG\\tID:{sample}\\tSM:{sample}"
    with open(sam, "wb") as out:
        subprocess.run(
            [bwa, "mem", "-t", str(threads), "-R", group, fasta, *fastq],
            check=True,
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
    pysam.sort("-@", str(threads), "-o", bam, sam)
    pysam.index(bam)
    os.remove(sam)
    return bam


def _cigar(ref_of: np.ndarray) -> tuple[int, list[tuple[int, int]]]:
    """Reference start and CIGAR of a read whose bases copy reference positions `ref_of`
    (-1 inserted); inserted bases at either end are soft-clipped."""
    placed = np.flatnonzero(ref_of >= 0)
    lo, hi = placed[0], placed[-1] + 1
    ops: list[tuple[int, int]] = [(4, int(lo))] if lo else []

    def add(op: int, n: int) -> None:
        if ops and ops[-1][0] == op:
            ops[-1] = (op, ops[-1][1] + n)
        else:
            ops.append((op, n))

    previous = None
    for r in ref_of[lo:hi].tolist():
        if r < 0:
            add(1, 1)
            continue
        if previous is not None and r > previous + 1:
            add(2, r - previous - 1)
        add(0, 1)
        previous = r
    if hi < len(ref_of):
        ops.append((4, int(len(ref_of) - hi)))
    return int(ref_of[lo]), ops


def write_true_alignments(
    reference: Genome, haps: Sequence[Haplotype], reads: Reads, bam: str, sample: str
) -> str:
    """The reads as a sorted, indexed BAM at the positions they were drawn from (MAPQ 60):
    the alignment a perfect aligner would give, for tests and machines without bwa."""
    import pysam

    header = {
        "HD": {"VN": "1.6", "SO": "unsorted"},
        "SQ": [
            {"SN": n, "LN": int(s)} for n, s in zip(reference.names, reference.sizes, strict=True)
        ],
        "RG": [{"ID": sample, "SM": sample}],
    }
    tid = {n: i for i, n in enumerate(reference.names)}
    unsorted = bam + ".unsorted.bam"
    with pysam.AlignmentFile(unsorted, "wb", header=header) as out:
        for i in range(len(reads.source)):
            hap = haps[reads.source[i]]
            s, n = reads.start[i], reads.length[i]
            ends = (s, s + n - READ_LENGTH)
            placed = [_cigar(hap.ref_of[e : e + READ_LENGTH]) for e in ends]
            reverse = (bool(reads.reverse1[i]), not reads.reverse1[i])
            for k in range(2):
                end = 1 if reverse[k] else 0  # read k comes from the fragment's end `end`
                a = pysam.AlignedSegment(out.header)
                a.query_name = f"r{i:09d}"
                a.flag = 1 | 2 | (64 if k == 0 else 128) | (16 if reverse[k] else 0)
                a.flag |= 32 if reverse[1 - k] else 0
                a.reference_id = a.next_reference_id = tid[hap.chrom]
                a.reference_start, a.cigartuples = placed[end]
                a.next_reference_start = placed[1 - end][0]
                a.mapping_quality = 60
                seq, qual = reads.bases[k][i], reads.quals[k][i]
                if reverse[k]:  # BAM holds the forward strand
                    seq, qual = _COMPLEMENT[seq[::-1]], qual[::-1]
                a.query_sequence = seq.tobytes().decode()
                a.query_qualities = pysam.qualitystring_to_array((qual + 33).tobytes().decode())
                a.set_tag("RG", sample)
                out.write(a)
    pysam.sort("-o", bam, unsorted)
    pysam.index(bam)
    os.remove(unsorted)
    return bam


def write_vcf(variants: Variants, reference: Genome, path: str, sample: str = "sample") -> str:
    """A bgzipped, tabix-indexed VCF of `variants` (sorted; GT 0/1 or 1/1, VAF in INFO)."""
    import pysam

    order = sorted(
        range(len(variants)),
        key=lambda i: (reference.index(variants.chrom[i]), variants.pos[i], variants.alt[i]),
    )
    genotype = variants.genotype()
    lines = [
        "##fileformat=VCFv4.2",
        *(
            f"##contig=<ID={n},length={s}>"
            for n, s in zip(reference.names, reference.sizes, strict=True)
        ),
        '##INFO=<ID=VAF,Number=1,Type=Float,Description="Planted variant allele fraction">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{sample}",
    ]
    for i in order:
        gt = "1/1" if genotype[i] == 2 else "0/1"
        lines.append(
            f"{variants.chrom[i]}\t{variants.pos[i] + 1}\t.\t{variants.ref[i]}\t"
            f"{variants.alt[i]}\t.\tPASS\tVAF={variants.vaf[i]:.3g}\tGT\t{gt}"
        )
    plain = path[:-3] if path.endswith(".gz") else path
    with atomic_open(plain) as out:
        out.write("\n".join(lines) + "\n")
    if path.endswith(".gz"):
        pysam.tabix_index(plain, preset="vcf", force=True)
    return path


def somatic_variants(
    reference: Genome, rng: np.random.Generator, vafs: Sequence[float], every: int = 1500
) -> Variants:
    """Variants between the germline ones (at 0.0 of each slot rather than 0.5), each given
    one of `vafs` at random, carried on haplotype 0."""
    planted = plant_variants(reference, rng, every, offset=0.0, hom=0.0)
    vaf = np.asarray(vafs, np.float64)[rng.integers(0, len(vafs), len(planted))]
    return dataclasses.replace(planted, haplotype=np.zeros(len(planted), np.int64), vaf=vaf)


def sample_haplotypes(
    reference: Genome, germline: Variants, somatic: Variants | None = None
) -> tuple[list[Haplotype], list[float]]:
    """Haplotypes and weights of a normal (both germline haplotypes, 1/2 each) or a tumour:
    haplotype 0 split into copies, one per VAF f with that VAF's somatic variants added at
    weight f, the plain copy keeping what is left of 1/2."""
    zero, one = germline.on(0), germline.on(1)
    groups = [] if somatic is None else sorted(set(somatic.vaf.tolist()))
    if sum(groups) > 0.5:
        raise PgxError(f"somatic VAFs {groups} add up to more than 1/2")
    sets = [(zero, 0.5 - sum(groups)), (one, 0.5)]
    for f in groups:
        extra = somatic.take(np.flatnonzero(somatic.vaf == f))
        sets.append((_joined(zero, extra), f))
    haps, weights = [], []
    for variants, weight in sets:
        for hap in haplotypes(reference, variants):
            haps.append(hap)
            weights.append(weight)
    return haps, weights


def _joined(a: Variants, b: Variants) -> Variants:
    return Variants(
        a.chrom + b.chrom,
        np.concatenate([a.pos, b.pos]),
        a.ref + b.ref,
        a.alt + b.alt,
        np.concatenate([a.haplotype, b.haplotype]),
        np.concatenate([a.vaf, b.vaf]),
    )


def write_sample(
    reference: Genome,
    haps: list[Haplotype],
    weights: list[float],
    coverage: float,
    prefix: str,
    rng: np.random.Generator,
    aligner: str = "bwa",
) -> str:
    """Simulate reads at `coverage` and write `<prefix>.bam` (+ .bai): aligned with bwa, or
    at their true alignment (`aligner="truth"`)."""
    reads = simulate_reads(haps, weights, coverage, rng)
    sample = os.path.basename(prefix)
    if aligner == "truth":
        return write_true_alignments(reference, haps, reads, prefix + ".bam", sample)
    fastq = write_fastq(reads, prefix)
    align(reference.path, fastq, prefix + ".bam", sample)
    for path in fastq:
        os.remove(path)
    return prefix + ".bam"


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--size-mb", type=float, default=3.0)
    parser.add_argument("--chromosomes", type=int, default=5)
    parser.add_argument("--coverage", type=float, nargs="+", default=[10, 30, 60])
    parser.add_argument("--somatic", action="store_true", help="also a tumour/normal pair")
    parser.add_argument("--no-germline", action="store_true", help="no sample_<C>x.bam")
    parser.add_argument("--vafs", type=float, nargs="+", default=[0.05, 0.1, 0.2])
    parser.add_argument("--aligner", choices=("bwa", "truth"), default="bwa")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.aligner == "bwa":
        require("bwa")
    sizes = chromosome_sizes(args.size_mb, args.chromosomes)
    made = write_synthetic_genome(args.directory, sizes, seed=args.seed)
    reference = Genome(made.fasta)
    rng = np.random.default_rng([args.seed, 31])
    germline = plant_variants(reference, rng)
    somatic = somatic_variants(reference, rng, args.vafs)  # the same truth with or without
    write_vcf(normalised(germline, reference), reference, f"{args.directory}/truth.vcf.gz")
    haps, weights = sample_haplotypes(reference, germline)
    for c in [] if args.no_germline else args.coverage:
        prefix = f"{args.directory}/sample_{c:g}x"
        write_sample(reference, haps, weights, c, prefix, rng, args.aligner)
        print(f"wrote {prefix}.bam")
    if args.somatic:
        path = f"{args.directory}/somatic_truth.vcf.gz"
        write_vcf(normalised(somatic, reference), reference, path, "tumour")
        tumour = sample_haplotypes(reference, germline, somatic)
        for c in args.coverage:
            for name, (h, w) in (("tumour", tumour), ("normal", (haps, weights))):
                prefix = f"{args.directory}/{name}_{c:g}x"
                write_sample(reference, h, w, c, prefix, rng, args.aligner)
        print(f"wrote {path} ({len(somatic)} somatic variants) and tumour/normal BAMs")
    print(f"{len(germline)} germline variants planted in {made.fasta}")


if __name__ == "__main__":
    main()
