"""Variant calls from a trained pileup run, written as VCF, and scored against a truth VCF.

Germline (a DeepVariant-style run): each candidate allele of the BAM is classed hom-ref, het
or hom-alt; every allele not called hom-ref is a VCF record with GT 0/1 or 1/1,
QUAL = -10 log10 P(hom-ref) and GQ = -10 log10 (1 - P(called genotype)), both capped at 99.
Somatic (a NeuSomatic-style run, tumour BAM with `normal`): each candidate is classed none or a
type and length (`SOMATIC_CLASSES`); every allele not called none is a record with INFO
SOMATIC, its TYPE and QUAL = -10 log10 P(none).

Calls and truth are compared as alleles (chrom, POS, REF, ALT), multi-allelic records split and
indels left-aligned (`pgx_jax.data.pileup.left_align`), per type (SNV, insertion, deletion):
precision, recall and F1 (`evaluate`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from pgx_jax.data import pileup
from pgx_jax.errors import PgxError
from pgx_jax.files import atomic_open

GENOTYPES = ("hom-ref", "het", "hom-alt")
SOMATIC_CLASSES = ("none", "SNV", "INS1", "INS2", "INS3+", "DEL1", "DEL2", "DEL3+")
TYPES = ("SNV", "insertion", "deletion")
Allele = tuple[str, int, str, str]
"""(chrom, 0-based POS, REF, ALT), left-aligned."""


def variant_type(ref: str, alt: str) -> str:
    """SNV (or MNV), insertion or deletion."""
    if len(ref) == len(alt):
        return "SNV"
    return "insertion" if len(alt) > len(ref) else "deletion"


def somatic_class(ref: str, alt: str) -> int:
    """The index in `SOMATIC_CLASSES` of an allele's type and length (lengths past 3 as 3+)."""
    kind = variant_type(ref, alt)
    if kind == "SNV":
        return 1
    length = min(abs(len(alt) - len(ref)), 3)
    return (1 if kind == "insertion" else 4) + length


def read_alleles(path: str, reference) -> dict[Allele, int]:
    """The non-reference alleles of a VCF's first sample (or every ALT without samples):
    upper-cased, left-aligned allele -> genotype (1 het, 2 hom-alt: the copies of that ALT);
    records whose GT carries no copy of an ALT leave it out."""
    from pgx_jax.variants.vcf import open_vcf

    found: dict[Allele, int] = {}
    with open_vcf(path) as vcf:
        sample = next(iter(vcf.header.samples), None)
        for record in vcf:
            gt = record.samples[sample]["GT"] if sample else None
            for k, alt in enumerate(record.alts or (), 1):
                if alt.startswith("<") or alt == "*":
                    continue
                copies = 1 if gt is None else sum(g == k for g in gt)
                if copies:  # upper case: callers copy a soft-masked reference's case
                    ref, alt = record.ref.upper(), alt.upper()
                    key = pileup.left_align(reference, record.chrom, record.pos - 1, ref, alt)
                    found[(record.chrom, *key)] = min(copies, 2)
    return found


def labels(columns: Mapping[str, np.ndarray], truth: Mapping[Allele, int], somatic: bool):
    """Per candidate its class: the genotype (0 hom-ref when not in the truth), or for the
    somatic task the type-and-length class (0 none)."""
    keys = zip(
        columns["chrom"], columns["pos"].tolist(), columns["ref"], columns["alt"], strict=True
    )
    if somatic:
        return np.array([somatic_class(k[2], k[3]) if k in truth else 0 for k in keys], np.int32)
    return np.array([truth.get(k, 0) for k in keys], np.int32)


def _phred(p: np.ndarray) -> np.ndarray:
    return np.minimum(-10 * np.log10(np.maximum(p, 1e-10)), 99.0)


def vcf_header(reference, sample: str, somatic: bool) -> list[str]:
    """The header lines of a calls VCF over the reference's contigs."""
    lines = [
        "##fileformat=VCFv4.2",
        "##source=pgx_jax call-variants",
        *(
            f"##contig=<ID={n},length={s}>"
            for n, s in zip(reference.names, reference.sizes, strict=True)
        ),
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="Read depth at the site">',
        '##INFO=<ID=AO,Number=1,Type=Integer,Description="Reads with the ALT">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality (phred)">',
    ]
    if somatic:
        lines += [
            '##INFO=<ID=SOMATIC,Number=0,Type=Flag,Description="Somatic mutation">',
            '##INFO=<ID=TYPE,Number=1,Type=String,Description="Class of type and length">',
        ]
    return lines + [f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{sample}"]


def write_calls(
    path: str, reference, columns: Mapping, probabilities: np.ndarray, somatic: bool, sample: str
) -> int:
    """Write the called alleles (see the module docstring) as VCF; returns how many."""
    called = probabilities.argmax(axis=1)
    rows = vcf_header(reference, sample, somatic)
    for i in np.flatnonzero(called > 0).tolist():
        p = probabilities[i]
        info = f"DP={columns['depth'][i]};AO={columns['count'][i]}"
        if somatic:
            info += f";SOMATIC;TYPE={SOMATIC_CLASSES[called[i]]}"
            gt = "0/1"
        else:
            gt = "1/1" if called[i] == 2 else "0/1"
        gq = int(round(float(_phred(1.0 - p[called[i]]))))
        rows.append(
            f"{columns['chrom'][i]}\t{columns['pos'][i] + 1}\t.\t{columns['ref'][i]}\t"
            f"{columns['alt'][i]}\t{float(_phred(p[0])):.1f}\tPASS\t{info}\tGT:GQ\t{gt}:{gq}"
        )
    with atomic_open(path) as out:
        out.write("\n".join(rows) + "\n")
    return int((called > 0).sum())


def call_variants(
    run,
    bam: str,
    fasta: str,
    output: str,
    normal: str | None = None,
    chroms: Sequence[str] = (),
    batch_size: int = 0,
) -> int:
    """Candidates of `bam` (and `normal`) on `chroms` (default every contig of the FASTA),
    classed by `run` (a `pgx_jax.runs.Run`), written to `output`; returns the calls."""
    from pgx_jax.data.genome import Genome

    somatic = run.predictor.reads == ("frequencies",)
    if somatic != bool(normal):
        kind = "somatic (tumour/normal)" if somatic else "germline"
        raise PgxError(
            f"{run.workdir} is a {kind} run: --normal is {'required' if somatic else 'not taken'}"
        )
    reference = Genome(fasta)
    try:
        chosen = list(chroms) or list(reference.names)
        for chrom in chosen:
            reference.index(chrom)
        columns = pileup.examples(bam, reference, chosen, run.config.data, normal)
        size = run.batch_size(batch_size)
        found = run.predict(_batches(run.predictor.encode, columns, size), size)
        probabilities = found.predictions if found is not None else np.zeros((0, 1))
        sample = "tumour" if somatic else "sample"
        return write_calls(output, reference, columns, probabilities, somatic, sample)
    finally:
        reference.close()


def _batches(encode, columns: Mapping, size: int) -> Iterable[dict]:
    for start in range(0, len(columns["pos"]), size):
        yield encode({k: v[start : start + size] for k, v in columns.items()})


def evaluate(
    truth: Mapping[Allele, int], calls: Mapping[Allele, int], chroms: Iterable[str] | None = None
) -> dict[str, dict[str, float]]:
    """Per type (and "all"): true positives, false positives, false negatives, precision,
    recall and F1 of the called alleles against the truth's, on `chroms` (default all)."""
    keep = set(chroms) if chroms is not None else None
    t = {k for k in truth if keep is None or k[0] in keep}
    c = {k for k in calls if keep is None or k[0] in keep}
    found = {}
    for kind in (*TYPES, "all"):
        tk = {k for k in t if kind == "all" or variant_type(k[2], k[3]) == kind}
        ck = {k for k in c if kind == "all" or variant_type(k[2], k[3]) == kind}
        tp, fp, fn = len(tk & ck), len(ck - tk), len(tk - ck)
        precision = tp / max(tp + fp, 1)
        recall = tp / max(tp + fn, 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-12)
        found[kind] = {
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "precision": precision,
            "recall": recall,
            "f1": f1,
        }
    return found
