"""DDI-2013 corpus: XML reader and the preprocessing of the CNN papers.

One instance per annotated entity pair: the sentence tokenised with the two target drugs
blinded as DRUG1/DRUG2 and every other drug mention as DRUGOTHER (Liu et al. 2016), lower-cased,
numbers normalised to NUM, with the token index of each target and the label (5 classes).

Negative-instance filtering (Liu et al. 2016, after Segura-Bedmar's rules) marks pairs that are
almost never interactions; `filter_rule` names the rule a pair matches or is "":
  same_name    the two drugs have the same name (case-insensitive);
  abbreviation one drug is the other's abbreviation or alias: "DRUG1 ( DRUG2 )";
  coordinate   the two drugs sit in one list of three or more, or separated by a comma alone:
               only other drugs, commas, "and"/"or" between them.
"""

import dataclasses
import os
import re
import tarfile
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator

import numpy as np

from pgx_jax.data.readers import open_text
from pgx_jax.errors import PgxError

CLASSES = ("negative", "mechanism", "effect", "advise", "int")
DRUG1, DRUG2, DRUG_OTHER, NUMBER = "DRUG1", "DRUG2", "DRUGOTHER", "NUM"
PLACEHOLDERS = (DRUG1, DRUG2, DRUG_OTHER)
ARCHIVE = "DDICorpus-2013.xml.tar.gz"
SPLIT_DIRECTORIES = {
    "train": "DDICorpus/Train/",
    "test": "DDICorpus/Test/Test for DDI Extraction task/",
}

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-'][A-Za-z0-9]+)*|[^\sA-Za-z0-9]")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d+)*|\d*[.,]\d+)(%|mg|ml|g|kg|h|hr|hrs)?$", re.I)
_COORDINATION = frozenset({",", "and", "or", DRUG_OTHER, "/", "-"})


@dataclasses.dataclass(frozen=True)
class Entity:
    """A drug mention: id, character spans [start, end) in its sentence, type and text."""

    id: str
    spans: tuple[tuple[int, int], ...]
    type: str
    text: str


@dataclasses.dataclass(frozen=True)
class Pair:
    """One entity pair of a sentence, as annotated (before tokenisation)."""

    id: str
    document: str
    source: str
    sentence: str
    e1: Entity
    e2: Entity
    others: tuple[Entity, ...]
    label: str


@dataclasses.dataclass(frozen=True)
class Instance:
    """A preprocessed pair: blinded tokens, target token indices, label and filter rule."""

    id: str
    source: str
    tokens: tuple[str, ...]
    e1_index: int
    e2_index: int
    label: str
    filter_rule: str


def parse_offsets(offsets: str, length: int, where: str) -> tuple[tuple[int, int], ...]:
    """`"12-20;25-30"` (inclusive ends) to half-open spans, checked against the sentence."""
    spans = []
    for part in offsets.split(";"):
        start, sep, end = part.partition("-")
        if not (sep and start.strip().isdigit() and end.strip().isdigit()):
            raise PgxError(f"{where}: bad charOffset {offsets!r}")
        begin, stop = int(start), int(end) + 1
        if not 0 <= begin < stop <= length:
            raise PgxError(
                f"{where}: charOffset {offsets!r} is outside its sentence ({length} characters)"
            )
        spans.append((begin, stop))
    return tuple(spans)


def _label(pair: ET.Element, where: str, untyped: str) -> str | None:
    ddi = pair.get("ddi")
    if ddi == "false":
        return "negative"
    if ddi != "true":
        raise PgxError(f"{where}: ddi={ddi!r}, expected 'true' or 'false'")
    kind = pair.get("type")
    if kind is None:
        if untyped == "drop":
            return None
        if untyped == "int":
            return "int"
        raise PgxError(f"{where}: ddi='true' without a type")
    if kind not in CLASSES[1:]:
        raise PgxError(f"{where}: unknown DDI type {kind!r}")
    return kind


def parse_document(
    xml: bytes | str, name: str, untyped: str = "drop"
) -> tuple[list[Pair], Counter]:
    """Pairs of one XML document; `untyped` is 'drop', 'int' or 'error' for ddi=true w/o type.

    Returns the pairs and a Counter of what was skipped (`untyped` drops), so nothing is lost
    silently.
    """
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as err:
        raise PgxError(f"{name}: malformed XML: {err}") from None
    document = root.get("id", "")
    source = "MedLine" if "MedLine" in document else "DrugBank"
    pairs, skipped = [], Counter()
    for sentence in root.iter("sentence"):
        sid = sentence.get("id", "?")
        text = re.sub(r"[\r\n\t]", " ", sentence.get("text", ""))
        entities = {}
        for e in sentence.iter("entity"):
            where = f"{name}: entity {e.get('id')}"
            entities[e.get("id")] = Entity(
                e.get("id"),
                parse_offsets(e.get("charOffset", ""), len(text), where),
                e.get("type", ""),
                e.get("text", ""),
            )
        for p in sentence.iter("pair"):
            where = f"{name}: pair {p.get('id')}"
            for role in ("e1", "e2"):
                if p.get(role) not in entities:
                    raise PgxError(
                        f"{where}: {role}={p.get(role)!r} refers to an entity missing from "
                        f"sentence {sid}"
                    )
            label = _label(p, where, untyped)
            if label is None:
                skipped["untyped_positive"] += 1
                continue
            e1, e2 = entities[p.get("e1")], entities[p.get("e2")]
            others = tuple(e for k, e in entities.items() if k not in (e1.id, e2.id))
            pairs.append(Pair(p.get("id"), document, source, text, e1, e2, others, label))
    return pairs, skipped


def read_corpus(directory: str, split: str, untyped: str = "drop") -> tuple[list[Pair], Counter]:
    """Every pair of one split ('train' or 'test') of `directory`/DDICorpus-2013.xml.tar.gz."""
    if split not in SPLIT_DIRECTORIES:
        raise PgxError(f"DDI-2013: unknown split {split!r}; expected {sorted(SPLIT_DIRECTORIES)}")
    path = os.path.join(directory, ARCHIVE)
    if not os.path.isfile(path):
        raise PgxError(f"DDI-2013: file not found: {path}")
    prefix = SPLIT_DIRECTORIES[split]
    pairs, skipped = [], Counter()
    with tarfile.open(path, "r:gz") as archive:
        members = sorted(
            (m for m in archive.getmembers() if m.name.startswith(prefix) and m.isfile()),
            key=lambda m: m.name,
        )
        for member in members:
            if not member.name.endswith(".xml"):
                continue
            found, lost = parse_document(
                archive.extractfile(member).read(), f"{path}:{member.name}", untyped
            )
            pairs.extend(found)
            skipped.update(lost)
    return pairs, skipped


def normalise(token: str, lowercase: bool = True, numbers: bool = True) -> str:
    """Lower-case a word and map numbers (with an optional unit or %) to NUM."""
    if token in PLACEHOLDERS:
        return token
    if numbers and _NUMBER.match(token):
        return NUMBER
    return token.lower() if lowercase else token


def blind(pair: Pair) -> tuple[list[str], int, int]:
    """Tokens with each mention run replaced by its placeholder; the targets' token indices.

    Characters belong to the innermost mention covering them: other drugs first, then the
    longer target, then the shorter one, so a target nested in another keeps a token. A
    discontinuous mention gives one placeholder per fragment; its index is the first.
    """
    owner = [""] * len(pair.sentence)
    targets = sorted(
        [(pair.e1, DRUG1), (pair.e2, DRUG2)],
        key=lambda t: -sum(b - a for a, b in t[0].spans),
    )
    for entity, tag in [(e, DRUG_OTHER) for e in pair.others] + targets:
        for begin, end in entity.spans:
            owner[begin:end] = [tag] * (end - begin)
    tokens: list[str] = []
    first = {}
    i = 0
    while i < len(owner):
        j = i
        while j < len(owner) and owner[j] == owner[i]:
            j += 1
        if owner[i]:
            first.setdefault(owner[i], len(tokens))
            tokens.append(owner[i])
        else:
            tokens.extend(_TOKEN.findall(pair.sentence[i:j]))
        i = j
    if DRUG1 not in first or DRUG2 not in first:
        missing = pair.e1.id if DRUG1 not in first else pair.e2.id
        raise PgxError(f"pair {pair.id}: target {missing} has no characters of its own")
    return tokens, first[DRUG1], first[DRUG2]


def filter_rule(pair: Pair, tokens: list[str], e1: int, e2: int) -> str:
    """The negative-filtering rule the pair matches (module docstring), or ""."""
    if pair.e1.text.strip().lower() == pair.e2.text.strip().lower():
        return "same_name"
    a, b = sorted((e1, e2))
    between = tokens[a + 1 : b]
    if between == ["("]:
        return "abbreviation"
    if set(between) <= _COORDINATION and ("," in between or DRUG_OTHER in between):
        return "coordinate"
    return ""


def preprocess(pair: Pair, lowercase: bool = True, numbers: bool = True) -> Instance:
    """Blind, tokenise and normalise one pair; record the filter rule it matches."""
    tokens, e1, e2 = blind(pair)
    rule = filter_rule(pair, tokens, e1, e2)
    words = tuple(normalise(t, lowercase, numbers) for t in tokens)
    return Instance(pair.id, pair.source, words, e1, e2, pair.label, rule)


def instances(
    directory: str,
    split: str,
    untyped: str = "drop",
    lowercase: bool = True,
    numbers: bool = True,
) -> Iterator[Instance]:
    """Preprocessed instances of one split, in document order."""
    pairs, _ = read_corpus(directory, split, untyped)
    for pair in pairs:
        yield preprocess(pair, lowercase, numbers)


_MARK = re.compile(r"\[\[(.+?)\]\]")


def marked_pairs(line: str, number: int, source: str) -> list[Pair]:
    """One `Pair` per pair of drugs marked `[[name]]` in a sentence (none for fewer than two);
    the pair's sentence is the line without marks."""
    entities, text, cursor = [], "", 0
    for n, match in enumerate(_MARK.finditer(line)):
        text += line[cursor : match.start()]
        name = match.group(1)
        entities.append(Entity(f"e{n}", ((len(text), len(text) + len(name)),), "drug", name))
        text += name
        cursor = match.end()
    text += line[cursor:]
    if "[[" in text or "]]" in text:
        raise PgxError(f"{source}: line {number}: unbalanced [[ ]] drug mark")
    pairs = []
    for i, e1 in enumerate(entities):
        for e2 in entities[i + 1 :]:
            others = tuple(e for e in entities if e not in (e1, e2))
            pairs.append(
                Pair(f"line{number}.{e1.id}.{e2.id}", "", "", text, e1, e2, others, "negative")
            )
    return pairs


def read_marked_sentences(
    path: str, lowercase: bool = True, numbers: bool = True
) -> tuple[dict[str, np.ndarray], list[int]]:
    """Every pair of marked drugs of a text file, one sentence a line
    (`[[Aspirin]] may increase the effect of [[warfarin]].`), preprocessed as training
    preprocesses DDI-2013 pairs: records (id, tokens, e1_index, e2_index, filter_rule and, for
    the output, line, drug1, drug2) and each record's line."""
    found, lines = [], []
    with open_text(path) as f:
        for number, line in enumerate(f, start=1):
            for pair in marked_pairs(line.rstrip("\n"), number, path):
                found.append((pair, preprocess(pair, lowercase, numbers)))
                lines.append(number)
    records = {
        "id": np.array([pair.id for pair, _ in found], dtype=object),
        "line": np.array(lines, np.int64),
        "drug1": np.array([pair.e1.text for pair, _ in found], dtype=object),
        "drug2": np.array([pair.e2.text for pair, _ in found], dtype=object),
        "tokens": np.array([" ".join(i.tokens) for _, i in found], dtype=object),
        "e1_index": np.array([i.e1_index for _, i in found], np.int64),
        "e2_index": np.array([i.e2_index for _, i in found], np.int64),
        "filter_rule": np.array([i.filter_rule for _, i in found], dtype=object),
    }
    return records, lines
