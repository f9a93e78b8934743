"""Property tests: random strings and files never raise anything but PgxError from the encoders,
the FASTA reader (which, skipping, accounts for every record), the SMILES and protein
tokenisers and the DDI-2013 XML parser; encoding then decoding valid input gives it back."""

import gzip

import ml_collections
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments import dti
from pgx_jax.data import alphabets, ddi_corpus
from pgx_jax.data.alphabets import DNA, PROTEIN, RNA
from pgx_jax.data.readers import BadRecords, FastaRecord, read_fasta
from pgx_jax.errors import PgxError

ALPHABETS = (DNA, RNA, PROTEIN)
FUZZ = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _valid_chars(alphabet: alphabets.Alphabet) -> str:
    chars = alphabet.letters + alphabet.ambiguous + "".join(alphabet.aliases)
    return chars + chars.lower()


def _canonical(seq: str, alphabet: alphabets.Alphabet) -> str:
    """What a valid sequence decodes to: upper case, aliases as their letter, codes unknown."""
    upper = seq.upper()
    for alias, letter in alphabet.aliases.items():
        upper = upper.replace(alias, letter)
    return "".join(alphabet.unknown_letter if c in alphabet.ambiguous else c for c in upper)


def _valid_batch(alphabet: alphabets.Alphabet, min_size: int = 0):
    return st.lists(st.text(_valid_chars(alphabet), max_size=40), min_size=min_size, max_size=8)


@FUZZ
@given(
    seqs=st.lists(st.text(max_size=30), max_size=6),
    alphabet=st.sampled_from(ALPHABETS),
    length=st.one_of(st.none(), st.integers(-2, 40)),
    truncate=st.sampled_from(["right", "center", "error", "left"]),
    unknown=st.sampled_from(["uniform", "zero", "other"]),
)
def test_encoders_raise_only_pgx_errors(seqs, alphabet, length, truncate, unknown):
    for encode in (
        lambda: alphabets.tokens(seqs, alphabet, length, truncate=truncate),
        lambda: alphabets.one_hot(seqs, alphabet, length, unknown=unknown, truncate=truncate),
        lambda: alphabets.reverse_complement(seqs, alphabet),
    ):
        try:
            encode()
        except PgxError as err:
            assert "\n" not in str(err)


@FUZZ
@given(data=st.data(), alphabet=st.sampled_from(ALPHABETS))
def test_tokens_then_decode_is_the_identity(data, alphabet):
    seqs = data.draw(_valid_batch(alphabet))
    ids, mask = alphabets.tokens(seqs, alphabet)
    assert alphabets.decode_tokens(ids, alphabet) == [_canonical(s, alphabet) for s in seqs]
    assert mask.sum(axis=1).tolist() == [len(s) for s in seqs]
    exact = data.draw(st.lists(st.text(alphabet.letters, max_size=40), max_size=8))
    assert alphabets.decode_tokens(alphabets.tokens(exact, alphabet)[0], alphabet) == exact


@FUZZ
@given(
    data=st.data(),
    alphabet=st.sampled_from(ALPHABETS),
    unknown=st.sampled_from(["uniform", "zero"]),
)
def test_one_hot_then_decode_is_the_identity(data, alphabet, unknown):
    seqs = data.draw(_valid_batch(alphabet, min_size=1))
    x, mask = alphabets.one_hot(seqs, alphabet, unknown=unknown)
    assert alphabets.decode_one_hot(x, mask, alphabet) == [_canonical(s, alphabet) for s in seqs]


@FUZZ
@given(data=st.data(), alphabet=st.sampled_from((DNA, RNA)))
def test_reverse_complement_twice_is_the_identity(data, alphabet):
    seqs = data.draw(_valid_batch(alphabet))
    twice = alphabets.reverse_complement(alphabets.reverse_complement(seqs, alphabet), alphabet)
    assert [_canonical(s, alphabet) for s in twice] == [_canonical(s, alphabet) for s in seqs]


_FASTA_PIECES = st.sampled_from(
    [">", ">a", ">b x", "> ", "ACGT", "acgu", "NNN", "", " ", "\t", "\r", "\n", "\r\n", "*", "\x00"]
)


@FUZZ
@given(
    text=st.one_of(st.text(max_size=200), st.lists(_FASTA_PIECES, max_size=30).map("".join)),
    raw=st.binary(max_size=200),
    compress=st.booleans(),
)
def test_fasta_reader_raises_only_pgx_errors(tmp_path, text, raw, compress):
    for name, data in (("text.fa", text.encode()), ("raw.fa", raw)):
        path = tmp_path / name
        path.write_bytes(gzip.compress(data) if compress else data)
        try:
            records = read_fasta(path)
        except PgxError as err:
            assert name in str(err) and "\n" not in str(err)
        else:
            assert records and all(r.id and r.sequence for r in records)


@FUZZ
@given(raw=st.binary(min_size=1, max_size=120), cut=st.integers(0, 200))
def test_damaged_gzip_raises_only_pgx_errors(tmp_path, raw, cut):
    data = bytearray(gzip.compress(raw))
    position = 10 + cut % max(len(data) - 10, 1)
    data[position] ^= 0xFF
    path = tmp_path / "damaged.fa.gz"
    path.write_bytes(bytes(data))
    try:
        read_fasta(path)
    except PgxError as err:
        assert "damaged.fa.gz" in str(err)


@FUZZ
@given(
    records=st.lists(
        st.tuples(
            st.text("abcXYZ_09.|", min_size=1, max_size=10),
            st.text(_valid_chars(DNA), min_size=1, max_size=150),
        ),
        min_size=1,
        max_size=6,
        unique_by=lambda r: r[0],
    ),
    width=st.integers(1, 70),
    newline=st.sampled_from(["\n", "\r\n"]),
    compress=st.booleans(),
)
def test_written_fasta_reads_back(tmp_path, records, width, newline, compress):
    """Any valid records, wrapped at any width with LF or CRLF, plain or gzip, read back."""
    lines = []
    for rec_id, seq in records:
        lines += [f">{rec_id} description"] + [
            seq[i : i + width] for i in range(0, len(seq), width)
        ]
    data = (newline.join(lines) + newline).encode()
    path = tmp_path / "round.fa"
    path.write_bytes(gzip.compress(data) if compress else data)
    assert read_fasta(path) == [FastaRecord(i, f"{i} description", s) for i, s in records]
    ids, _ = alphabets.tokens([s for _, s in records], DNA)
    assert alphabets.decode_tokens(ids, DNA) == [_canonical(s, DNA) for _, s in records]


@pytest.mark.parametrize("alphabet", ALPHABETS)
def test_valid_chars_cover_the_lookup_table(alphabet):
    valid = {chr(b) for b in range(256) if alphabets._lookup(alphabet)[b] >= 0}
    assert valid == set(_valid_chars(alphabet))
    assert np.all(alphabets._lookup(alphabet)[[ord(c) for c in valid]] > 0)


@FUZZ
@given(
    text=st.lists(_FASTA_PIECES, max_size=30).map("".join),
    alphabet=st.sampled_from(ALPHABETS),
    duplicates=st.booleans(),
)
def test_skipping_fasta_reader_accounts_for_every_header(tmp_path, text, alphabet, duplicates):
    """Under "skip" every header line is a record read or a record listed, never lost."""
    path = tmp_path / "skip.fa"
    path.write_text(text)
    bad = BadRecords("skip")
    try:
        records = read_fasta(path, duplicates, alphabet, bad)
    except PgxError as err:
        assert "skip.fa" in str(err) and "\n" not in str(err)
        return
    headers = [n for n, line in enumerate(text.splitlines(), 1) if line.strip().startswith(">")]
    lines = [b.line for b in bad.skipped]
    assert len(records) + len(bad.skipped) == len(headers)
    assert set(lines) <= set(headers) and lines == sorted(lines)


@FUZZ
@given(
    text=st.one_of(
        st.text(max_size=40),
        st.text("CNOcnos()=#[]123@+-Hl", max_size=40),
    ),
)
def test_smiles_encoding_raises_only_pgx_errors(text):
    data = ml_collections.ConfigDict({"smiles_length": 20, "protein_length": 20})
    for encode in (dti.smiles_row, dti.protein_row):
        try:
            row = encode(text, "r", data)
        except PgxError as err:
            assert "'r'" in str(err) and "\n" not in str(err)
        else:
            assert row.shape == (20,) and row.min() >= 0


_XML_PIECES = st.sampled_from(
    [
        '<document id="d">',
        "</document>",
        '<sentence id="s" text="Aspirin and warfarin.">',
        "</sentence>",
        '<entity id="e0" charOffset="0-6" text="Aspirin"/>',
        '<entity id="e1" charOffset="12-19" text="warfarin"/>',
        '<entity id="e2" charOffset="5-40" text="x"/>',
        '<entity id="e3" charOffset="a-b;3" text="x"/>',
        '<pair id="p" e1="e0" e2="e1" ddi="false"/>',
        '<pair id="q" e1="e0" e2="e9" ddi="true" type="effect"/>',
        '<pair id="r" e1="e0" e2="e1" ddi="maybe"/>',
        "<",
        "&",
    ]
)


@FUZZ
@given(xml=st.one_of(st.text(max_size=80), st.lists(_XML_PIECES, max_size=12).map("".join)))
def test_ddi_xml_parser_raises_only_pgx_errors(xml):
    try:
        pairs, _ = ddi_corpus.parse_document(xml, "fuzz.xml", untyped="error")
    except PgxError as err:
        assert str(err).startswith("fuzz.xml: ") and "\n" not in str(err)
    else:
        for pair in pairs:
            try:
                ddi_corpus.preprocess(pair)
            except PgxError as err:
                assert "\n" not in str(err)
