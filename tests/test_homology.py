"""Nearest training proteins by local alignment: known answers on planted homologs, and the
k-mer shortlist agreeing with aligning against every reference."""

import numpy as np

from pgx_jax.data.homology import nearest_references

RESIDUES = np.array(list("ACDEFGHIKLMNPQRSTVWY"))


def _proteins(rng, count: int, length: int) -> list[str]:
    return ["".join(rng.choice(RESIDUES, length)) for _ in range(count)]


def _mutated(rng, sequence: str, fraction: float) -> str:
    letters = np.array(list(sequence))
    where = rng.random(len(letters)) < fraction
    letters[where] = rng.choice(RESIDUES, int(where.sum()))
    return "".join(letters)


def test_planted_homologs_are_found_and_unrelated_proteins_score_low():
    rng = np.random.default_rng(0)
    references = _proteins(rng, 60, 150)
    queries = [
        references[3],
        _mutated(rng, references[7], 0.2),
        _mutated(rng, references[42], 0.2)[20:130],
        *_proteins(rng, 3, 150),
    ]
    similarity, index = nearest_references(queries, references)
    assert (similarity[0], index[0]) == (1.0, 3)
    assert index[1] == 7 and index[2] == 42
    assert similarity[1] > 0.5 and similarity[2] > 0.5
    assert np.all(similarity[3:] < 0.2)


def test_the_kmer_shortlist_finds_the_exhaustive_best_for_homologs():
    rng = np.random.default_rng(1)
    references = _proteins(rng, 80, 120)
    queries = [_mutated(rng, references[i], 0.3) for i in (5, 17, 60)]
    queries += _proteins(rng, 2, 120)
    shortlist = nearest_references(queries, references, candidates=10)
    exhaustive = nearest_references(queries, references, candidates=len(references))
    np.testing.assert_array_equal(shortlist[1][:3], exhaustive[1][:3])
    np.testing.assert_allclose(shortlist[0][:3], exhaustive[0][:3])
    assert np.all(shortlist[0] <= exhaustive[0] + 1e-12)


def test_letters_outside_blosum62_and_lower_case_are_read_not_refused():
    similarity, index = nearest_references(["mkvlaJUO", "XXXX"], ["MKVLAXXX", "XXXX"])
    assert (similarity[0], index[0]) == (1.0, 0)
    assert similarity[1] == 1.0  # identical, found before any alignment
    similarity, _ = nearest_references(["XXXXX"], ["MKVLA"])
    assert similarity[0] == 0.0
