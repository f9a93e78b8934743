"""Score VCF variants with a trained sequence model: reference and alternative windows centred on
each ALT allele, scored in fixed-size jitted batches.

Every ALT of every record gets a row with its kind (SNV, MNV, deletion, insertion, complex:
`windows.variant_kind`) and a status: `scored`; `ref_mismatch` (REF is not what the FASTA
holds there); `unknown_contig`; `outside_contig` (POS past the contig's end); `symbolic`
(`<DEL>`, `*`, breakends, `.`); `ambiguous` (an N in REF or ALT); `same_allele`. Rows not
scored keep empty scores, so nothing is dropped silently. Every kind of base change is
scored, each window centred on its own allele (`pgx_jax/variants/windows.py`); a model with
several outputs (tasks, tracks) gets one set of score columns per output.

Strands: the run's own model scores a window as training evaluation did (with
`data.rc_average` that is the mean logit of both strands; an RC-shared model is
strand-symmetric by construction). `average_strands=True` averages both strands' outputs for
any nucleotide model.
"""

import dataclasses
import math
import re

import numpy as np

from pgx_jax.data import lengths
from pgx_jax.errors import PgxError
from pgx_jax.variants.vcf import Reference, VcfRecord
from pgx_jax.variants.windows import normalize, ref_matches, variant_kind, variant_windows

SCORED = "scored"
PROBLEMS = ("ref_mismatch", "unknown_contig", "outside_contig")
"""Statuses that mean the VCF and the FASTA disagree (`--strict` makes them an error)."""
_BASES = re.compile(r"^[ACGTNacgtn]+$")
_EMPTY = "-"
"""MPRA's empty allele (VCF anchors indels on a base instead)."""


@dataclasses.dataclass
class AlleleRow:
    """One ALT allele of a VCF record, its status, and (once scored) its windows' outputs."""

    record: VcfRecord
    alt: str
    status: str
    detail: str = ""
    kind: str = ""
    windows: tuple[str, str] | None = None
    ref_score: np.ndarray | None = None
    alt_score: np.ndarray | None = None
    log_odds_change: np.ndarray | None = None


def plan(records: list[VcfRecord], reference: Reference, length: int) -> list[AlleleRow]:
    """One row per ALT allele: its status and, when it can be scored, its (ref, alt) windows."""
    rows = []
    for record in records:
        fetch = reference.fetch(record.chrom)
        size = reference.lengths.get(record.chrom, 0)
        for alt in record.alts:
            rows.append(_plan_allele(record, alt, fetch, length, size))
    return rows


def _plan_allele(record: VcfRecord, alt: str, fetch, length: int, size: int) -> AlleleRow:
    if fetch is None:
        return AlleleRow(record, alt, "unknown_contig", f"contig {record.chrom!r} not in FASTA")
    if record.pos + len(record.ref) - 1 > size:
        return AlleleRow(
            record,
            alt,
            "outside_contig",
            f"POS {record.pos} (REF {len(record.ref)} bp) is past the end of {record.chrom} "
            f"({size} bp in the FASTA)",
        )
    if not _BASES.match(alt) and alt != _EMPTY:
        return AlleleRow(record, alt, "symbolic", f"ALT {alt!r} is not a base sequence")
    if not _BASES.match(record.ref):
        return AlleleRow(record, alt, "symbolic", f"REF {record.ref!r} is not a base sequence")
    found = ref_matches(fetch, record.pos - 1, record.ref)
    if found is not None:
        return AlleleRow(
            record, alt, "ref_mismatch", f"REF {record.ref!r} but the FASTA has {found!r}"
        )
    try:
        pos0, ref, alt_bases = normalize(record.pos - 1, record.ref, alt)
    except PgxError as err:
        return AlleleRow(record, alt, "same_allele", str(err))
    kind = variant_kind(ref, alt_bases)
    if "N" in ref + alt_bases:
        side = "ALT" if "N" in alt_bases else "REF"
        return AlleleRow(record, alt, "ambiguous", f"{side} holds N (an unknown base)", kind)
    windows = variant_windows(fetch, pos0, ref, alt_bases, length)
    return AlleleRow(record, alt, SCORED, kind=kind, windows=windows)


def window_outputs(
    run,
    windows: list[str],
    ids: list[str],
    batch_size: int,
    average_strands: bool = False,
    bar=None,
) -> np.ndarray:
    """The model's raw outputs [N, ...] (logits for classification) of DNA windows, encoded by
    the run's Predictor and scored by `Run.predict`; with `average_strands`, the mean of each
    window's and its reverse complement's outputs."""
    from pgx_jax.data import alphabets

    def batches(sequences: list[str]):
        for start in range(0, len(sequences), batch_size):
            records = {
                "id": np.array(ids[start : start + batch_size]),
                "sequence": np.array(sequences[start : start + batch_size]),
            }
            encoded = run.predictor.encode(records)
            if average_strands and np.shape(encoded["inputs"].get("x", ()))[-1:] != (4,):
                raise PgxError(
                    f"{run.workdir}: --average_strands needs one-hot DNA inputs 'x' [B, L, 4]"
                )
            yield encoded

    if not windows:
        return np.zeros((0,), np.float32)
    outputs = run.predict(batches(windows), batch_size, progress=bar).outputs
    if average_strands:
        reverse = alphabets.reverse_complement(windows, alphabets.DNA, ids)
        outputs = (outputs + run.predict(batches(reverse), batch_size, progress=bar).outputs) / 2
    return outputs


def predictions(task: str, outputs: np.ndarray) -> np.ndarray:
    """Raw outputs to predictions with the training link (`pgx_jax.train.losses.link`)."""
    from pgx_jax.train.losses import link

    linked = np.asarray(link(task, np.asarray(outputs, np.float32)), np.float64)
    return linked.sum(axis=1) if task == "profile" else linked  # a profile's total count


LOG_ODDS_TASKS = ("binary", "multilabel", "multiclass")
"""Tasks whose scores are probabilities, with a log-odds change beside them."""


def log_odds(task: str, outputs: np.ndarray) -> np.ndarray | None:
    """logit(p) of each output's probability (None for tasks of values: regression, counts,
    profiles); exact for sigmoid tasks, where it is the logit itself."""
    outputs = np.asarray(outputs, np.float64)
    if task in ("binary", "multilabel"):
        return outputs
    if task == "multiclass":
        p = np.clip(predictions(task, outputs), 1e-7, 1 - 1e-7)
        return np.log(p) - np.log1p(-p)
    return None


def model_input_length(run, window: int = 0) -> int:
    """The window length: `window` if given (not more than the model reads), else the length
    the run's model reads (`lengths.sequence_window`)."""
    return lengths.sequence_window(
        run.predictor.input_lengths, window, f"the run in {run.workdir}"
    )[1]


def score_rows(
    run,
    rows: list[AlleleRow],
    batch_size: int,
    average_strands: bool = False,
    progress: bool = True,
) -> list[AlleleRow]:
    """Fill ref/alt scores (probabilities or values) and log-odds change of the scored rows."""
    from tqdm import tqdm

    scored = [row for row in rows if row.status == SCORED]
    windows = [w for row in scored for w in row.windows]
    ids = [
        f"{row.record.chrom}:{row.record.pos}:{row.record.ref}>{row.alt}:{side}"
        for row in scored
        for side in ("ref", "alt")
    ]
    batch_size = run.batch_size(batch_size)
    total = len(windows) * (2 if average_strands else 1)
    with tqdm(total=total, desc="score-variants", unit="window", disable=not progress) as bar:
        outputs = window_outputs(run, windows, ids, batch_size, average_strands, bar)
    task = run.predictor.task
    scores = predictions(task, outputs)
    odds = log_odds(task, outputs)
    for i, row in enumerate(scored):
        row.ref_score, row.alt_score = scores[2 * i], scores[2 * i + 1]
        if odds is not None:
            row.log_odds_change = odds[2 * i + 1] - odds[2 * i]
    return rows


def column_names(rows: list[AlleleRow], task: str) -> tuple[list[str], int | None]:
    """Score column names and the number of outputs per window (None: one scalar)."""
    sample = next((row.ref_score for row in rows if row.ref_score is not None), None)
    width = None if sample is None or np.ndim(sample) == 0 else int(np.size(sample))
    stems = ["ref_score", "alt_score", "diff"] + (
        ["log_odds_change"] if task in LOG_ODDS_TASKS else []
    )
    if width is None:
        return stems, None
    return [f"{stem}_{k}" for k in range(width) for stem in stems], width


def row_values(row: AlleleRow, width: int | None, with_log_odds: bool) -> list[float | None]:
    """The score columns of a row in `column_names` order; None where not scored."""
    per_output = (width or 1) * (4 if with_log_odds else 3)
    if row.ref_score is None:
        return [None] * per_output
    ref, alt = np.atleast_1d(row.ref_score), np.atleast_1d(row.alt_score)
    odds = np.atleast_1d(row.log_odds_change) if with_log_odds else None
    values = []
    for k in range(len(ref)):
        values += [float(ref[k]), float(alt[k]), float(alt[k] - ref[k])]
        if with_log_odds:
            values.append(float(odds[k]))
    return values


def _format(value: float | None) -> str:
    return "" if value is None or not math.isfinite(value) else f"{value:.6g}"


def write_tsv(rows: list[AlleleRow], task: str, path: str) -> None:
    """chrom, pos, id, ref, alt, kind, the score columns, status and detail; one per ALT."""
    names, width = column_names(rows, task)
    with_log_odds = task in LOG_ODDS_TASKS
    with open(path, "w") as f:
        head = ["chrom", "pos", "id", "ref", "alt", "kind", *names, "status", "detail"]
        f.write("\t".join(head) + "\n")
        for row in rows:
            r = row.record
            values = [_format(v) for v in row_values(row, width, with_log_odds)]
            fields = [r.chrom, str(r.pos), r.id, r.ref, row.alt, row.kind, *values]
            fields += [row.status, row.detail]
            f.write("\t".join(fields) + "\n")


def write_vcf(rows: list[AlleleRow], task: str, vcf_path: str, output: str) -> None:
    """A copy of the input VCF with the scores as `Number=A` INFO fields (PGX_REF, PGX_ALT,
    PGX_DIFF, PGX_LOGODDS, with a `_<k>` suffix per output of multi-output models) and
    PGX_STATUS; declared in the header. A record with ALT `.` is copied as it is (its status
    is in the TSV)."""
    import pysam

    from pgx_jax.variants.vcf import open_vcf

    names, width = column_names(rows, task)
    with_log_odds = task in LOG_ODDS_TASKS
    info = {
        "ref_score": ("PGX_REF", "model score of the reference window"),
        "alt_score": ("PGX_ALT", "model score of the alternative window"),
        "diff": ("PGX_DIFF", "alternative minus reference score"),
        "log_odds_change": ("PGX_LOGODDS", "logit(alt) - logit(ref)"),
    }
    by_record: dict[int, list[AlleleRow]] = {}
    for row in rows:
        by_record.setdefault(row.record.index, []).append(row)
    fields = []
    for name in names:
        stem, k = name.rsplit("_", 1) if width is not None else (name, None)
        tag, text = info[stem]
        fields.append((tag, text) if k is None else (f"{tag}_{k}", f"{text} (output {k})"))
    with open_vcf(vcf_path) as vcf:
        header = vcf.header
        for contig in sorted({row.record.chrom for row in rows} - set(header.contigs)):
            header.contigs.add(contig)
        for tag, text in fields:
            header.info.add(tag, "A", "Float", text)
        header.info.add("PGX_STATUS", "A", "String", "pgx score-variants status of the allele")
        if "END" not in header.info and any(row.alt.startswith("<") for row in rows):
            # htslib cannot write a symbolic allele (<DEL>) while END is undeclared
            header.info.add("END", 1, "Integer", "End position of the variant")
        with pysam.VariantFile(output, "w", header=header) as out:
            for index, record in enumerate(vcf):
                alleles = by_record[index]
                if not record.alts:  # ALT `.`: no allele to carry a Number=A field
                    out.write(record)
                    continue
                columns = [row_values(row, width, with_log_odds) for row in alleles]
                for j, (tag, _) in enumerate(fields):
                    record.info[tag] = tuple(
                        None if c[j] is None or not math.isfinite(c[j]) else c[j] for c in columns
                    )
                record.info["PGX_STATUS"] = tuple(row.status for row in alleles)
                out.write(record)


def summary(rows: list[AlleleRow], vcf_path: str, first: int = 5) -> list[str]:
    """Count per status, and the first `first` rows of each problem with file and line."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    records = len({row.record.index for row in rows})
    parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    lines = [f"{len(rows)} ALT alleles in {records} records: {parts}"]
    for status in sorted(set(counts) - {SCORED}):
        listed = [row for row in rows if row.status == status][:first]
        lines.append(f"{status} ({counts[status]}), first {len(listed)}:")
        lines += [
            f"  {vcf_path} line {row.record.line}: {row.record.chrom}:{row.record.pos} "
            f"{row.record.ref}>{row.alt}: {row.detail}"
            for row in listed
        ]
    return lines
