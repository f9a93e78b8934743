"""DeepDTA's character sets for SMILES and protein strings, and RDKit SMILES checking.

Token 0 is padding; characters take ids 1..K in DeepDTA's order (`CHARISOSMISET`, the set its
`datahelper.py` uses for both canonical and isomeric SMILES, and `CHARPROTSET`). A character
outside the set raises PgxError naming the record, never a silent drop or an unknown token.
"""

import os
from collections.abc import Sequence

import numpy as np
from rdkit import Chem, RDLogger

from pgx_jax.data.readers import BadRecords
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


def canonical_form(smiles: str, isomeric: bool = True) -> str | None:
    """RDKit's canonical SMILES, or None if RDKit cannot parse `smiles`."""
    RDLogger.DisableLog("rdApp.*")
    mol = Chem.MolFromSmiles(smiles) if smiles else None
    return None if mol is None else Chem.MolToSmiles(mol, isomericSmiles=isomeric)


def canonical_smiles(smiles: str, name: str, source: str = "", isomeric: bool = True) -> str:
    """RDKit's canonical SMILES; PgxError naming `source` (if given) and drug `name` if it
    does not parse."""
    canonical = canonical_form(smiles, isomeric)
    if canonical is None:
        where = f"{source}: " if source else ""
        raise PgxError(f"{where}drug {name!r}: RDKit cannot parse SMILES {smiles!r}")
    return canonical


def read_sdf_property(
    path: str, prop: str, bad_records: BadRecords | None = None
) -> tuple[list[str], np.ndarray]:
    """Canonical SMILES and the float property `prop` of every molecule in an SDF file.

    A record RDKit cannot read, without `prop` or with a non-numeric one is a bad record
    (`pgx_jax.data.readers.BadRecords`): by default a PgxError naming file and record.
    """
    if not os.path.exists(path):
        raise PgxError(f"{path}: file not found")
    bad = bad_records or BadRecords()
    RDLogger.DisableLog("rdApp.*")
    strings, values = [], []
    for record, mol in enumerate(Chem.SDMolSupplier(path), start=1):
        name = f"record {record}"
        if mol is None:
            bad.reject(path, 0, name, f"{name}: RDKit cannot read the molecule")
            continue
        if not mol.HasProp(prop):
            bad.reject(path, 0, name, f"{name}: no property {prop!r}")
            continue
        try:
            value = float(mol.GetProp(prop))
        except ValueError:
            bad.reject(path, 0, name, f"{name}: property {prop!r} is {mol.GetProp(prop)!r}")
            continue
        strings.append(Chem.MolToSmiles(mol))
        values.append(value)
    if not strings:
        raise PgxError(f"{path}: no molecules read")
    return strings, np.asarray(values, np.float32)
