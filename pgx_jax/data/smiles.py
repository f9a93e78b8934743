"""DeepDTA's character sets for SMILES and protein strings, and RDKit SMILES checking.

Token 0 is padding; characters take ids 1..K in DeepDTA's order (`CHARISOSMISET`, the set its
`datahelper.py` uses for both canonical and isomeric SMILES, and `CHARPROTSET`). A character
outside the set raises PgxError naming the record, never a silent drop or an unknown token.
"""

import os
from collections.abc import Sequence

import numpy as np
from rdkit import Chem, RDLogger

from pgx_jax.errors import PgxError

SMILES_CHARS = "(.02468@BDFHLNPRTVZ\\bdfhlnrt#%)+-/13579=ACEGIKMOSUWY[]acegimosuy"
"""DeepDTA's 64 SMILES characters in its id order (CHARISOSMISET: '(' is 1, 'y' is 64)."""

PROTEIN_CHARS = "ACBEDGFIHKMLONQPSRUTWVYXZ"
"""DeepDTA's 25 protein letters in its id order (CHARPROTSET: 'A' is 1, 'Z' is 25)."""


def vocab_size(chars: str) -> int:
    """Number of token ids: padding (0) and one per character."""
    return len(chars) + 1


def _table(chars: str) -> np.ndarray:
    table = np.full(256, -1, np.int32)
    table[np.frombuffer(chars.encode("ascii"), np.uint8)] = np.arange(1, len(chars) + 1)
    return table


def tokenize(
    strings: Sequence[str], chars: str, length: int, names: Sequence[str], what: str
) -> np.ndarray:
    """int32 token ids [N, length]: right-truncated, zero-padded, DeepDTA's `label_smiles`.

    `what` and `names` name the offending record in the error for a character not in `chars`.
    """
    table = _table(chars)
    out = np.zeros((len(strings), length), np.int32)
    for row, (text, name) in enumerate(zip(strings, names, strict=True)):
        codes = table[np.frombuffer(text.encode("ascii", "replace"), np.uint8)]
        bad = np.flatnonzero(codes < 0)
        if bad.size:
            raise PgxError(
                f"{what} {name!r} position {bad[0] + 1}: character {text[bad[0]]!r} is not "
                f"in DeepDTA's character set"
            )
        out[row, : min(length, codes.size)] = codes[:length]
    return out


def canonical_smiles(smiles: str, name: str, source: str, isomeric: bool = True) -> str:
    """RDKit's canonical SMILES; PgxError naming `source` and drug `name` if it does not parse."""
    RDLogger.DisableLog("rdApp.*")
    mol = Chem.MolFromSmiles(smiles) if smiles else None
    if mol is None:
        raise PgxError(f"{source}: drug {name!r}: RDKit cannot parse SMILES {smiles!r}")
    return Chem.MolToSmiles(mol, isomericSmiles=isomeric)


def read_sdf_property(path: str, prop: str) -> tuple[list[str], np.ndarray]:
    """Canonical SMILES and the float property `prop` of every molecule in an SDF file.

    A record RDKit cannot read, or without `prop`, is a PgxError naming file and record.
    """
    if not os.path.exists(path):
        raise PgxError(f"{path}: file not found")
    RDLogger.DisableLog("rdApp.*")
    strings, values = [], []
    for record, mol in enumerate(Chem.SDMolSupplier(path), start=1):
        if mol is None:
            raise PgxError(f"{path}: record {record}: RDKit cannot read the molecule")
        if not mol.HasProp(prop):
            raise PgxError(f"{path}: record {record}: no property {prop!r}")
        strings.append(Chem.MolToSmiles(mol))
        values.append(float(mol.GetProp(prop)))
    return strings, np.asarray(values, np.float32)
