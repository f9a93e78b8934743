"""Morgan fingerprints against RDKit's own bit vectors, FP2VEC words and their bad inputs."""

import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from rdkit import Chem, DataStructs
from rdkit.Chem import AllChem

from experiments import dti
from pgx_jax.data import fingerprints
from pgx_jax.data.example_tables import toy_smiles
from pgx_jax.errors import PgxError
from pgx_jax.models.deepconv_dti import fingerprint_bits

# Imatinib, caffeine, aspirin, a stereocentre and a charged salt among the toy chains.
SMILES = [
    "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1",
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
    "CC(=O)Oc1ccccc1C(=O)O",
    "C[C@H](N)C(=O)O",
    "[Na+].[Cl-]",
    *toy_smiles(range(1, 3)),
]


@pytest.mark.parametrize(("radius", "bits"), [(2, 1024), (2, 2048), (3, 2048)])
def test_bits_are_rdkits_own_bit_vectors(radius, bits):
    names = [f"m{i}" for i in range(len(SMILES))]
    ours = fingerprints.morgan_bits(SMILES, names, radius=radius, bits=bits)
    for row, smiles in zip(ours, SMILES, strict=True):
        vector = AllChem.GetMorganFingerprintAsBitVect(Chem.MolFromSmiles(smiles), radius, bits)
        expected = np.zeros(bits, np.uint8)
        DataStructs.ConvertToNumpyArray(vector, expected)
        np.testing.assert_array_equal(row, expected)
    assert ours.sum(axis=1).min() > 0


def test_words_are_the_set_bits_in_order_and_give_the_bits_back():
    names = [f"m{i}" for i in range(len(SMILES))]
    bits = fingerprints.morgan_bits(SMILES, names, bits=2048)
    words = fingerprints.fingerprint_words(SMILES, names, length=80, bits=2048)
    for row, word_row in zip(bits, words, strict=True):
        real = word_row[word_row > 0]
        np.testing.assert_array_equal(real, np.flatnonzero(row) + 1)
        assert (word_row[real.size :] == 0).all()
    np.testing.assert_array_equal(fingerprint_bits(jnp.asarray(words), 2048), bits)


def test_an_unparsable_smiles_is_one_line_naming_the_record():
    with pytest.raises(PgxError, match=r"^drug 'bad one': RDKit cannot parse SMILES 'C1CC\(' *$"):
        fingerprints.morgan_bits(["CCO", "C1CC("], ["ok", "bad one"])


def test_more_set_bits_than_words_is_an_error_naming_the_record():
    with pytest.raises(
        PgxError, match=r"drug 'imatinib': its fingerprint sets \d+ bits, more than the 10"
    ):
        fingerprints.fingerprint_words([SMILES[0]], ["imatinib"], length=10)


def test_a_fingerprint_run_encodes_drugs_as_words():
    data = ml_collections.ConfigDict(
        {
            "drug_input": "ecfp",
            "fingerprint_radius": 2,
            "fingerprint_bits": 1024,
            "fingerprint_length": 64,
        }
    )
    encoded = dti.encode_smiles(
        {"id": np.array(["a", "b"]), "smiles": np.array(SMILES[1:3])}, data=data
    )
    expected = fingerprints.fingerprint_words(SMILES[1:3], ["a", "b"], length=64, bits=1024)
    np.testing.assert_array_equal(encoded["inputs"]["tokens"], expected)
    with pytest.raises(PgxError, match="drug 'x': RDKit cannot parse"):
        dti.encode_smiles(
            {"id": np.array(["x"]), "smiles": np.array(["not a molecule"])}, data=data
        )
