"""RDKit Morgan fingerprints (ECFP) of SMILES: bit vectors, and FP2VEC's "words".

ECFP4 is a Morgan fingerprint of radius 2 folded to 1,024 or 2,048 bits, computed by RDKit's
`rdFingerprintGenerator.GetMorganGenerator` (the generator RDKit recommends; the older
`GetMorganFingerprintAsBitVect` gives the same bits). FP2VEC (Jeon & Kim 2019) reads a
fingerprint as a sentence: the indices of its set bits, in increasing order, each + 1 so that
0 is padding, padded to a fixed length, which an embedding table turns into vectors.
DeepConv-DTI (Lee et al. 2019) reads the bit vector itself, which its model rebuilds from the
words (`pgx_jax.models.deepconv_dti.fingerprint_bits`), so one token table serves both.
"""

import functools
from collections.abc import Sequence

import numpy as np
from rdkit import Chem, RDLogger
from rdkit.Chem import rdFingerprintGenerator

from pgx_jax.errors import PgxError


@functools.lru_cache(maxsize=8)
def _generator(radius: int, bits: int):
    return rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=bits)


def _molecule(smiles: str, name: str, what: str) -> Chem.Mol:
    RDLogger.DisableLog("rdApp.*")
    mol = Chem.MolFromSmiles(smiles) if smiles else None
    if mol is None:
        raise PgxError(f"{what} {name!r}: RDKit cannot parse SMILES {smiles!r}")
    return mol


def morgan_bits(
    smiles: Sequence[str],
    names: Sequence[str],
    *,
    radius: int = 2,
    bits: int = 2048,
    what: str = "drug",
) -> np.ndarray:
    """uint8 Morgan fingerprints [N, bits] (ECFP4 at radius 2). PgxError naming `what` and
    the record of `names` whose SMILES RDKit cannot parse."""
    generator = _generator(radius, bits)
    out = np.zeros((len(smiles), bits), np.uint8)
    for row, (text, name) in enumerate(zip(smiles, names, strict=True)):
        out[row] = generator.GetFingerprintAsNumPy(_molecule(text, name, what))
    return out


def words_from_bits(
    bits: np.ndarray, length: int, names: Sequence[str], what: str = "drug"
) -> np.ndarray:
    """FP2VEC words: int32 [N, length], row i the set bits of `bits[i]` + 1 in increasing
    order, zero-padded. PgxError naming the record when it sets more than `length` bits."""
    counts = bits.sum(axis=1, dtype=np.int64)
    if counts.size and counts.max() > length:
        row = int(np.argmax(counts))
        raise PgxError(
            f"{what} {names[row]!r}: its fingerprint sets {int(counts[row])} bits, more than "
            f"the {length} words read (config.data.fingerprint_length)"
        )
    rows, columns = np.nonzero(bits)  # row-major: each row's bits in increasing order
    position = np.arange(rows.size) - np.r_[0, np.cumsum(counts)[:-1]][rows]
    out = np.zeros((bits.shape[0], length), np.int32)
    out[rows, position] = columns + 1
    return out


def fingerprint_words(
    smiles: Sequence[str],
    names: Sequence[str],
    *,
    length: int,
    radius: int = 2,
    bits: int = 2048,
    what: str = "drug",
) -> np.ndarray:
    """`words_from_bits` of `morgan_bits`: the token rows FP2VEC and DeepConv-DTI read."""
    fingerprints = morgan_bits(smiles, names, radius=radius, bits=bits, what=what)
    return words_from_bits(fingerprints, length, names, what)
