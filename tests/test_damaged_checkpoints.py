"""A damaged newest checkpoint: `pgx train` warns, sets it aside, resumes from the step before
and ends where an uninterrupted run ends; `pgx predict` refuses a damaged one in one line."""

import glob
import os
import shutil

import jax
import numpy as np
import pytest
from conftest import interrupted_at, read_json

from pgx_jax import cli
from pgx_jax.checkpoint import load_state_tree

pytestmark = pytest.mark.slow

ARGS = [
    "train",
    "--config.data.num_examples=600",
    "--config.data.batch_size=32",
    "--config.train.num_steps=40",
    "--config.train.eval_every_steps=20",
    "--config.train.checkpoint_every_steps=10",
]


def _truncate(step_dir: str) -> None:
    path = max(
        glob.glob(os.path.join(step_dir, "state", "ocdbt.process_0", "d", "*")), key=os.path.getsize
    )
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)


def _zero(step_dir: str) -> None:
    path = max(
        glob.glob(os.path.join(step_dir, "state", "ocdbt.process_0", "d", "*")), key=os.path.getsize
    )
    size = os.path.getsize(path)
    with open(path, "wb") as f:
        f.write(b"\0" * size)


def _empty_metadata(step_dir: str) -> None:
    with open(os.path.join(step_dir, "state", "_METADATA"), "w"):
        pass


def _delete_state(step_dir: str) -> None:
    shutil.rmtree(os.path.join(step_dir, "state"))


DAMAGES = {"truncated": _truncate, "zeroed": _zero, "empty_metadata": _empty_metadata}
DAMAGES["deleted_state"] = _delete_state


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> str:
    workdir = str(tmp_path_factory.mktemp("uninterrupted"))
    assert cli.main([*ARGS, f"--workdir={workdir}"]) == 0
    return workdir


def _stopped_at_30(workdir: str) -> None:
    with interrupted_at(30):
        assert cli.main([*ARGS, f"--workdir={workdir}"]) == 143


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_resume_falls_back_to_the_step_before_a_damaged_one(reference, damage, tmp_path, capsys):
    workdir = str(tmp_path / "run")
    _stopped_at_30(workdir)
    latest = os.path.join(workdir, "checkpoints", "latest")
    assert sorted(int(n) for n in os.listdir(latest) if n.isdigit()) == [20, 30]
    DAMAGES[damage](os.path.join(latest, "30"))
    capsys.readouterr()

    assert cli.main([*ARGS, f"--workdir={workdir}"]) == 0
    out, err = capsys.readouterr()
    assert f"warning: checkpoint {latest}/30 is damaged" in err
    assert "resuming from step 20" in out and os.path.isdir(os.path.join(latest, "30.damaged"))
    step, state = load_state_tree(workdir)
    reference_step, reference_state = load_state_tree(reference)
    assert step == reference_step == 40
    jax.tree.map(np.testing.assert_array_equal, state["params"], reference_state["params"])
    assert read_json(os.path.join(workdir, "results.json")) == read_json(
        os.path.join(reference, "results.json")
    )


def test_predict_refuses_a_damaged_checkpoint_in_one_line(reference, tmp_path, capsys):
    workdir = str(tmp_path / "copy")
    shutil.copytree(reference, workdir)
    best = os.path.join(workdir, "checkpoints", "best")
    step = max(int(n) for n in os.listdir(best) if n.isdigit())
    _empty_metadata(os.path.join(best, str(step)))
    fasta = tmp_path / "q.fa"
    fasta.write_text(">a\n" + "ACGT" * 25 + "\n")
    assert cli.main(["predict", f"--workdir={workdir}", f"--input={fasta}"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"pgx predict: error: checkpoint {best}/{step} is damaged (")
    assert err[-1].endswith("resumes from the newest intact step") and "Traceback" not in "".join(
        err
    )
