"""Saturation-mutagenesis MPRA of Kircher et al. 2019 and the CAGI5 variant lists built on it.

Files (`$PGX_DATA_DIR/satmut_mpra_kircher2019`, see its SOURCE.md):
  elements.tsv.gz: one row per (element, variant, release); the GRCh37 rows are kept and the
    NA aggregate rows (no position or alleles) dropped. `Alt` `-` is a 1-bp deletion.
  element_reference_GRCh37_from_Ref_column.fa: each element's plus-strand sequence, header
    `>{Element} chr:start-end ...` (1-based, inclusive), so a variant at genomic `Pos` sits at
    offset `Pos - start` of the element.
  cagi5_boyle/{training,test}_all_RegDB.txt.gz: the CAGI5 challenge lists (0-based BED, GRCh37);
    training labels are `effect_size`, test labels are taken from elements.tsv by matching
    element, position and alleles.

Every reader returns numpy columns (one row per variant) for `InMemorySource`.
"""

import csv
import dataclasses
import os
import re

import numpy as np

from pgx_jax.data.readers import open_text, read_fasta
from pgx_jax.errors import PgxError
from pgx_jax.variants.windows import normalize, ref_matches, slicer, variant_windows

ELEMENTS_FILE = "elements.tsv.gz"
FASTA_FILE = "element_reference_GRCh37_from_Ref_column.fa"
CAGI5_FILES = {
    "train": "cagi5_boyle/training_all_RegDB.txt.gz",
    "test": "cagi5_boyle/test_all_RegDB.txt.gz",
}
CAGI5_ELEMENTS = {
    "F9": "F9",
    "GP1BB": "GP1BA",
    "HBB": "HBB",
    "HBG1": "HBG1",
    "HNF4A": "HNF4A",
    "IRF4": "IRF4",
    "IRF6": "IRF6",
    "LDLR": "LDLR.2",
    "MSMB": "MSMB",
    "MYC": "MYCrs6983267",
    "PKLR": "PKLR-48h",
    "SORT1": "SORT1",
    "TERT-GBM": "TERT-GBM",
    "TERT-HEK293T": "TERT-HEK",
    "ZFAND3": "ZFAND3",
}
"""CAGI5 target -> elements.tsv Element. Checked on the training variants matched by position
and alleles (Pearson of effect_size vs Coefficient): LDLR.2 0.999 (LDLR 0.964), PKLR-48h 0.991
(24h 0.908), MYCrs6983267 by coordinates, TERT-HEK 0.962 (others <= 0.60)."""

SIGNIFICANT_P = 1e-5
"""p-value below which a variant counts as significant for the activating/repressing AUROC."""

_HEADER = re.compile(r"^(?:chr)?(\w+):(\d+)-(\d+)$")


@dataclasses.dataclass(frozen=True)
class Element:
    """One element's GRCh37 plus-strand sequence; `start` is the 1-based position of base 0."""

    name: str
    chrom: str
    start: int
    sequence: str

    @property
    def end(self) -> int:
        return self.start + len(self.sequence) - 1


def read_elements(path: str) -> dict[str, Element]:
    """The element FASTA: name -> Element, from headers `>{Element} chr:start-end ...`."""
    elements = {}
    for record in read_fasta(path):
        fields = record.description.split()
        match = _HEADER.match(fields[1]) if len(fields) > 1 else None
        if match is None:
            raise PgxError(f"{path}: record {record.id!r}: header lacks chr:start-end")
        chrom, start, end = match.group(1), int(match.group(2)), int(match.group(3))
        if end - start + 1 != len(record.sequence):
            raise PgxError(
                f"{path}: record {record.id!r}: {fields[1]} spans {end - start + 1} bases "
                f"but the sequence has {len(record.sequence)}"
            )
        elements[record.id] = Element(record.id, chrom, start, record.sequence.upper())
    return elements


def _rows(path: str, required: tuple[str, ...]):
    """(line number, row dict) of a tab-separated file with a header holding `required`."""
    with open_text(path) as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise PgxError(f"{path} line 1: header lacks column(s) {missing}")
        for row in reader:
            yield reader.line_num, row


def _number(text: str, path: str, line: int, column: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise PgxError(f"{path} line {line}: {column} {text!r} is not a number") from None


def _locate(
    elements: dict[str, Element], name: str, pos: int, ref: str, alt: str, where: str
) -> int:
    """Offset of genomic `pos` in element `name`; the element must hold `ref` there."""
    element = elements.get(name)
    if element is None:
        raise PgxError(f"{where}: element {name!r} is not in {FASTA_FILE}")
    if ref not in "ACGT" or len(ref) != 1 or alt not in ("A", "C", "G", "T", "-") or ref == alt:
        raise PgxError(f"{where}: alleles {ref}>{alt} are not a single-base substitution or `-`")
    offset = pos - element.start
    if not 0 <= offset < len(element.sequence):
        raise PgxError(
            f"{where}: position {pos} is outside {name} "
            f"({element.chrom}:{element.start}-{element.end})"
        )
    found = element.sequence[offset]
    if found != ref and found != "N":
        raise PgxError(f"{where}: Ref {ref} but {name} holds {found} at position {pos}")
    return offset


def read_variants(directory: str) -> dict[str, np.ndarray]:
    """The GRCh37 variants of elements.tsv.gz (NA aggregate rows dropped).

    Columns: element, chrom, pos (genomic, 1-based), offset (0-based in the element), ref,
    alt (`-` for a deletion), label (Coefficient, log2 effect), p_value, id.
    """
    path = os.path.join(directory, ELEMENTS_FILE)
    elements = read_elements(os.path.join(directory, FASTA_FILE))
    required = ("Chrom", "Pos", "Ref", "Alt", "Coefficient", "pValue", "Element", "Release")
    rows = []
    for line, row in _rows(path, required):
        if row["Release"] != "GRCh37":
            continue
        if row["Pos"] == "NA" and row["Ref"] == "NA" and row["Alt"] == "NA":
            continue
        where = f"{path} line {line}"
        if not row["Pos"].isdigit():
            raise PgxError(f"{where}: Pos {row['Pos']!r} is not a position")
        pos, name = int(row["Pos"]), row["Element"]
        offset = _locate(elements, name, pos, row["Ref"], row["Alt"], where)
        if elements[name].chrom != row["Chrom"].removeprefix("chr"):
            raise PgxError(f"{where}: Chrom {row['Chrom']} but {name} is on {elements[name].chrom}")
        coefficient = _number(row["Coefficient"], path, line, "Coefficient")
        p_value = _number(row["pValue"], path, line, "pValue")
        rows.append((name, row["Chrom"], pos, offset, row["Ref"], row["Alt"], coefficient, p_value))
    if not rows:
        raise PgxError(f"{path}: no GRCh37 variants")
    return _columns(rows)


def _columns(rows: list[tuple]) -> dict[str, np.ndarray]:
    names, chroms, positions, offsets, refs, alts, labels, p_values = zip(*rows, strict=True)
    return {
        "element": np.array(names),
        "chrom": np.array(chroms),
        "pos": np.array(positions, np.int64),
        "offset": np.array(offsets, np.int64),
        "ref": np.array(refs),
        "alt": np.array(alts),
        "label": np.array(labels, np.float32),
        "p_value": np.array(p_values, np.float64),
        "id": np.array(
            [f"{n}:{p}{r}>{a}" for n, p, r, a in zip(names, positions, refs, alts, strict=True)]
        ),
    }


def read_cagi5(directory: str, split: str) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """CAGI5 variants of `split` ('train' or 'test') as columns like `read_variants`, and the
    counts of rows left out: `outside_element` (the lists reach one base past some elements,
    where the element FASTA has no sequence) and, for test, `unmeasured` (no elements.tsv row
    with that element, position and alleles, so no label).

    Training labels are `effect_size` (p_value from elements.tsv where it has the variant, else
    1); test labels and p-values are elements.tsv's Coefficient and pValue of the same element,
    position and alleles.
    """
    if split not in CAGI5_FILES:
        raise PgxError(f"CAGI5 split {split!r}; expected one of {sorted(CAGI5_FILES)}")
    path = os.path.join(directory, CAGI5_FILES[split])
    elements = read_elements(os.path.join(directory, FASTA_FILE))
    measured = read_variants(directory)
    lookup = {
        (e, int(p), r, a): (float(c), float(q))
        for e, p, r, a, c, q in zip(
            *(measured[k] for k in ("element", "pos", "ref", "alt", "label", "p_value")),
            strict=True,
        )
    }
    required = ("chrom", "start", "end", "ref", "alt", "target")
    rows, left_out = [], {"outside_element": 0, "unmeasured": 0}
    for line, row in _rows(path, required + (("effect_size",) if split == "train" else ())):
        where = f"{path} line {line}"
        if row["target"] not in CAGI5_ELEMENTS:
            raise PgxError(f"{where}: unknown CAGI5 target {row['target']!r}")
        name = CAGI5_ELEMENTS[row["target"]]
        if not (row["start"].isdigit() and row["end"].isdigit()):
            raise PgxError(f"{where}: start/end {row['start']}/{row['end']} are not positions")
        pos = int(row["end"])
        if int(row["start"]) != pos - 1:
            raise PgxError(f"{where}: start {row['start']} end {row['end']} is not one base")
        element = elements[name]
        if pos in (element.start - 1, element.end + 1):
            left_out["outside_element"] += 1
            continue
        offset = _locate(elements, name, pos, row["ref"], row["alt"], where)
        truth = lookup.get((name, pos, row["ref"], row["alt"]))
        if split == "train":
            label = _number(row["effect_size"], path, line, "effect_size")
            p_value = truth[1] if truth else 1.0
        elif truth is None:
            left_out["unmeasured"] += 1
            continue
        else:
            label, p_value = truth
        rows.append((name, row["chrom"], pos, offset, row["ref"], row["alt"], label, p_value))
    return _columns(rows), left_out


def add_windows(
    columns: dict[str, np.ndarray], elements: dict[str, Element], length: int
) -> dict[str, np.ndarray]:
    """`columns` plus `ref_window` and `alt_window`: `length` bases of the element centred on
    each variant (the changed base at index `length // 2`, `N` past the element's ends)."""
    fetches = {name: slicer(element.sequence) for name, element in elements.items()}
    ref_windows, alt_windows = [], []
    for name, offset, ref, alt, vid in zip(
        columns["element"],
        columns["offset"],
        columns["ref"],
        columns["alt"],
        columns["id"],
        strict=True,
    ):
        fetch = fetches[name]
        pos0, ref_bases, alt_bases = normalize(int(offset), str(ref), str(alt))
        found = ref_matches(fetch, pos0, ref_bases)
        if found is not None and found != "N":
            raise PgxError(f"variant {vid}: element {name} holds {found}, not {ref_bases}")
        reference, alternative = variant_windows(fetch, pos0, ref_bases, alt_bases, length)
        ref_windows.append(reference)
        alt_windows.append(alternative)
    return {**columns, "ref_window": np.array(ref_windows), "alt_window": np.array(alt_windows)}


def position_blocks(columns: dict[str, np.ndarray], block_size: int) -> np.ndarray:
    """Block id of each variant: its chromosome and genomic position // `block_size`.

    Blocks are genomic, so the same positions of elements measured in several conditions
    (LDLR and LDLR.2, the TERT and SORT1 experiments, ...) fall in the same block and a fold
    never trains on a position in one condition and tests it in another.
    """
    keys = [f"{c}:{p // block_size}" for c, p in zip(columns["chrom"], columns["pos"], strict=True)]
    _, block = np.unique(np.array(keys), return_inverse=True)
    return block.astype(np.int64)


def block_folds(blocks: np.ndarray, num_folds: int, fold: int, seed: int) -> tuple:
    """(train, held-out) row indices of fold `fold`: whole blocks are dealt to folds at random,
    so every row is held out exactly once over the folds and no block straddles train/test."""
    if not 0 <= fold < num_folds:
        raise PgxError(f"config.data.fold: {fold} is outside 0..{num_folds - 1}")
    unique = np.unique(blocks)
    order = np.random.default_rng(seed).permutation(len(unique))
    fold_of_block = np.empty(len(unique), np.int64)
    fold_of_block[order] = np.arange(len(unique)) % num_folds
    held = fold_of_block[np.searchsorted(unique, blocks)] == fold
    return np.flatnonzero(~held), np.flatnonzero(held)


def write_vcf(directory: str, path: str) -> int:
    """Write the GRCh37 variants as a VCF over the element sequences; returns the row count.

    CHROM is the element name and POS is 1-based within the element FASTA, so
    `pgx score-variants` can score them against that FASTA. A deletion is anchored on the base
    before it (REF=XY, ALT=X); a deletion of an element's first base anchors on the base after
    it (REF=YX, ALT=X at POS 1), as VCF 4.2 allows. INFO carries Coefficient and pValue.
    """
    elements = read_elements(os.path.join(directory, FASTA_FILE))
    columns = read_variants(directory)
    header = [
        "##fileformat=VCFv4.2",
        "##source=pgx_jax.data.mpra.write_vcf (Kircher et al. 2019 saturation mutagenesis)",
        f"##reference={FASTA_FILE}",
        *(f"##contig=<ID={e.name},length={len(e.sequence)}>" for e in elements.values()),
        '##INFO=<ID=Coefficient,Number=1,Type=Float,Description="log2 variant effect">',
        '##INFO=<ID=pValue,Number=1,Type=Float,Description="p-value of the coefficient">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    ]
    contig_order = {name: i for i, name in enumerate(elements)}
    order = np.lexsort(
        (columns["alt"], columns["offset"], [contig_order[e] for e in columns["element"]])
    )
    lines = []
    for i in order:
        name, offset = str(columns["element"][i]), int(columns["offset"][i])
        sequence = elements[name].sequence
        ref, alt = str(columns["ref"][i]), str(columns["alt"][i])
        pos = offset + 1
        if alt == "-" and offset > 0:
            pos, ref, alt = offset, sequence[offset - 1] + ref, sequence[offset - 1]
        elif alt == "-":
            ref, alt = ref + sequence[1], sequence[1]
        info = f"Coefficient={columns['label'][i]:.6g};pValue={columns['p_value'][i]:.6g}"
        lines.append(f"{name}\t{pos}\t{columns['id'][i]}\t{ref}\t{alt}\t.\tPASS\t{info}")
    with open(path, "w") as handle:
        handle.write("\n".join(header + lines) + "\n")
    return len(lines)
