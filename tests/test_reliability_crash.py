"""SIGKILL at several points of a real `pgx train` run: rerunning the same command resumes from
the last complete checkpoint and ends bit for bit where an uninterrupted run ends; a workdir
resumed with another model config is refused in one line."""

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import REPO, read_json

from pgx_jax import cli
from pgx_jax.checkpoint import load_state_tree

pytestmark = pytest.mark.slow

ARGS = [
    "train",
    f"--config={REPO}/configs/binding/deepbind.py",
    "--config.data.num_examples=2000",
    "--config.train.num_steps=120",
    "--config.train.eval_every_steps=20",
    "--config.train.log_every_steps=5",
]

# Runs `pgx` with a kill point planted: PGX_TEST_KILL="finalize KIND STEP" SIGKILLs the process
# inside the first KIND (latest/best) checkpoint write at or after STEP, once orbax has written
# every file to `<step>.orbax-checkpoint-tmp` but before the rename that commits it;
# "evaluate test" SIGKILLs it when the evaluation with prefix "test" starts.
KILL_HOOK = """
import os, signal, sys
from orbax.checkpoint._src.path import atomicity
from pgx_jax.train import loop
point, *args = os.environ["PGX_TEST_KILL"].split()
finalize, evaluate = atomicity.AtomicRenameTemporaryPath.finalize, loop.evaluate

async def killing_finalize(self):
    final = self.get_final()
    if point == "finalize" and final.parent.name == args[0] and int(final.name) >= int(args[1]):
        os.kill(os.getpid(), signal.SIGKILL)
    return await finalize(self)

def killing_evaluate(*a, **k):
    if point == "evaluate" and args[0] in [x for x in a if isinstance(x, str)]:
        os.kill(os.getpid(), signal.SIGKILL)
    return evaluate(*a, **k)

atomicity.AtomicRenameTemporaryPath.finalize = killing_finalize
loop.evaluate = killing_evaluate
from pgx_jax.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _run_with_kill(workdir: str, kill: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", KILL_HOOK, *ARGS, f"--workdir={workdir}"],
        capture_output=True,
        text=True,
        env={**os.environ, "PGX_TEST_KILL": kill, "PYTHONUNBUFFERED": "1"},
        cwd=REPO,
        timeout=300,
    )


def _metrics(workdir: str) -> list[dict]:
    """The complete lines of metrics.jsonl (a line being written may be cut short)."""
    path = os.path.join(workdir, "metrics.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.endswith("\n")]


def _steady(workdir: str) -> list[dict]:
    """metrics.jsonl without the one wall-clock entry."""
    return [
        {k: v for k, v in m.items() if k != "train/steps_per_second"} for m in _metrics(workdir)
    ]


def _latest(workdir: str, kind: str = "latest") -> int:
    return load_state_tree(workdir, kind)[0]


def _tmp_dirs(workdir: str) -> list[str]:
    return glob.glob(os.path.join(workdir, "checkpoints", "*", "*.orbax-checkpoint-tmp"))


def _assert_same_state(a: str, b: str, kind: str) -> None:
    step_a, tree_a = load_state_tree(a, kind)
    step_b, tree_b = load_state_tree(b, kind)
    assert step_a == step_b
    leaves_a, leaves_b = (dict(_flatten(t)) for t in (tree_a, tree_b))
    assert leaves_a.keys() == leaves_b.keys()
    for key, value in leaves_a.items():
        np.testing.assert_array_equal(value, leaves_b[key], err_msg=f"{kind}: {key}")


def _flatten(tree, prefix=""):
    items = tree.items() if isinstance(tree, dict) else enumerate(tree)
    for key, value in items:
        if isinstance(value, dict | list | tuple):
            yield from _flatten(value, f"{prefix}{key}/")
        else:
            yield f"{prefix}{key}", value


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> str:
    """The uninterrupted run (in this process: runs that are not killed need no subprocess)."""
    workdir = str(tmp_path_factory.mktemp("reference") / "run")
    assert cli.main([*ARGS, f"--workdir={workdir}"]) == 0
    return workdir


def test_sigkill_at_every_point_resumes_bit_for_bit(reference, tmp_path, capsys):
    workdir = str(tmp_path / "killed")
    aurocs = [
        (m["step"], m["validation/auroc"]) for m in _metrics(reference) if "validation/auroc" in m
    ]

    # 1. SIGKILL from outside between steps, once step 30 is logged (checkpoints every 20).
    process = subprocess.Popen(
        [sys.executable, "-m", "pgx_jax.cli", *ARGS, f"--workdir={workdir}"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 240
    while process.poll() is None and time.time() < deadline:
        if any(m["step"] >= 30 for m in _metrics(workdir)):
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL
    first = _latest(workdir)
    assert 20 <= first < 120 and not os.path.exists(os.path.join(workdir, "results.json"))
    # A kill in mid-write of metrics.jsonl leaves a torn last line; the resume must drop it.
    with open(os.path.join(workdir, "metrics.jsonl"), "a") as f:
        f.write('{"step": 119, "train/lo')

    # 2. SIGKILL inside the next latest checkpoint's write: its tmp dir stays, uncommitted.
    killed = _run_with_kill(workdir, f"finalize latest {first + 20}")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert f"resuming from step {first}" in killed.stdout
    assert _latest(workdir) == first
    assert [os.path.basename(p) for p in _tmp_dirs(workdir)] == [
        f"{first + 20}.orbax-checkpoint-tmp"
    ]

    # 3. SIGKILL inside a best checkpoint's write (the tmp dir of step 2 is cleaned first).
    best_step = next(
        s for i, (s, v) in enumerate(aurocs) if s > first + 20 and v > max(a for _, a in aurocs[:i])
    )
    killed = _run_with_kill(workdir, f"finalize best {best_step}")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert f"resuming from step {first}" in killed.stdout
    assert _latest(workdir) == max(first, best_step - 20)
    assert [os.path.basename(p) for p in _tmp_dirs(workdir)] == [
        f"{best_step}.orbax-checkpoint-tmp"
    ]

    # 4. SIGKILL after the last checkpoint, while the test split is evaluated.
    killed = _run_with_kill(workdir, "evaluate test")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _latest(workdir) == 120 and not os.path.exists(os.path.join(workdir, "results.json"))

    # 5. The same command once more finishes the run.
    assert cli.main([*ARGS, f"--workdir={workdir}"]) == 0
    assert "resuming from step 120" in capsys.readouterr().out
    assert _tmp_dirs(workdir) == []
    _assert_same_state(reference, workdir, "latest")
    _assert_same_state(reference, workdir, "best")
    assert _steady(reference) == _steady(workdir)
    assert read_json(os.path.join(reference, "results.json")) == read_json(
        os.path.join(workdir, "results.json")
    )


def test_resuming_with_another_model_config_is_one_clear_line(reference, tmp_path, capsys):
    workdir = str(tmp_path / "changed")
    shutil.copytree(reference, workdir)
    os.remove(os.path.join(workdir, "results.json"))
    assert cli.main([*ARGS, "--config.model.num_filters=8", f"--workdir={workdir}"]) == 1
    stderr = capsys.readouterr().err
    error = stderr.strip().splitlines()[-1]
    assert "Traceback" not in stderr
    assert error.startswith(f"pgx train: error: {workdir} was run with another config: ")
    assert "model.num_filters is 16 there, 8 here" in error

    # Without the saved config, the checkpoint's own shapes catch it.
    os.remove(os.path.join(workdir, "config.json"))
    assert cli.main([*ARGS, "--config.model.num_filters=8", f"--workdir={workdir}"]) == 1
    stderr = capsys.readouterr().err
    error = stderr.strip().splitlines()[-1]
    assert error.startswith("pgx train: error: checkpoint ") and "Traceback" not in stderr
    assert "different model or optimizer config" in error
    assert re.search(r"params/\S+ has shape \(.*16.*\) there, \(.*8.*\) here", error), error


def test_rerunning_a_finished_run_with_another_config_is_one_clear_line(
    reference, tmp_path, capsys
):
    """A finished workdir does not report its old results under a changed config."""
    workdir = str(tmp_path / "finished")
    shutil.copytree(reference, workdir)
    assert cli.main([*ARGS, "--config.optimizer.learning_rate=0.1", f"--workdir={workdir}"]) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "optimizer.learning_rate is 0.003 there, 0.1 here" in error
    assert cli.main([*ARGS, f"--workdir={workdir}"]) == 0
