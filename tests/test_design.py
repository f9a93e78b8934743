"""Sequence design on a hand-built JAX model (a random PWM, max over windows, and the count of
G as a second task): greedy evolution equals brute force for one edit; both methods raise (or
lower) the score with at most k edits and never edit a fixed position; holding a task keeps it;
random edits make exactly the asked number. `pgx design` and `pgx grammar` end to end on a
small DeepBind run (60 steps on the planted CTCF motif; one run serves both)."""

import csv

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import run_pgx

from pgx_jax.cli import main as pgx
from pgx_jax.interpret import design

LENGTH, WIDTH = 24, 6
PWM = np.random.default_rng(0).normal(size=(WIDTH, 4)).astype(np.float32)


def outputs(x: jax.Array) -> jax.Array:
    """[B, 2]: the best PWM window score, and the number of G."""
    windows = jnp.stack([x[:, i : i + WIDTH] for i in range(LENGTH - WIDTH + 1)], axis=1)
    best = jnp.einsum("bnwk,wk->bn", windows, PWM).max(axis=1)
    return jnp.stack([best, x[..., 2].sum(-1)], axis=-1)


def _starts(count: int, seed: int) -> np.ndarray:
    letters = np.random.default_rng(seed).integers(0, 4, (count, LENGTH))
    return np.eye(4, dtype=np.float32)[letters]


def _objective(x, x0) -> np.ndarray:
    return np.asarray(design.Goal().objective(outputs(jnp.asarray(x)), outputs(jnp.asarray(x0))))


def test_evolve_with_one_edit_is_the_brute_force_best_substitution():
    x0 = _starts(4, 1)
    fixed = np.zeros(x0.shape[:2], bool)
    got = design.evolve(outputs, design.Goal(), x0, fixed, max_edits=1, chunk_size=7)
    for s in range(len(x0)):
        mutants, values = [x0[s]], []
        for i in range(LENGTH):
            for k in range(4):
                mutant = x0[s].copy()
                mutant[i] = np.eye(4)[k]
                mutants.append(mutant)
        values = _objective(np.stack(mutants), np.repeat(x0[s : s + 1], len(mutants), 0))
        best = int(np.argmax(values))  # the first best; 0 (the start) unless a mutant beats it
        np.testing.assert_array_equal(got[s], mutants[best])


@pytest.mark.parametrize("method", ["evolve", "gradient"])
@pytest.mark.parametrize("direction", [1.0, -1.0])
def test_design_moves_the_score_within_k_edits_and_keeps_fixed_positions(method, direction):
    x0 = _starts(6, 2)
    fixed = np.random.default_rng(3).random(x0.shape[:2]) < 0.3
    goal = design.Goal(direction=direction)
    if method == "evolve":
        got = design.evolve(outputs, goal, x0, fixed, max_edits=3)
    else:
        settings = design.GradientSettings(steps=80, learning_rate=0.3, edit_penalty=0.1, seed=1)
        got = design.gradient_design(outputs, goal, x0, fixed, 3, settings)
    assert np.all(design.edit_counts(got, x0) <= 3)
    np.testing.assert_array_equal(got[fixed], x0[fixed])
    np.testing.assert_allclose(got.sum(-1), 1.0)  # still one letter per position
    change = np.asarray(outputs(got) - outputs(x0))[:, 0] * direction
    assert np.all(change >= 0) and change.mean() > 1.0


def test_holding_a_task_keeps_it_nearer_its_start():
    x0 = _starts(6, 4)
    fixed = np.zeros(x0.shape[:2], bool)
    free = design.evolve(outputs, design.Goal(), x0, fixed, max_edits=4)
    held = design.evolve(outputs, design.Goal(hold=10.0), x0, fixed, max_edits=4)
    moved = [np.abs(np.asarray(outputs(x) - outputs(x0))[:, 1]).sum() for x in (free, held)]
    assert moved[1] == 0 < moved[0]


def test_random_edits_make_the_asked_number_at_free_positions():
    x0 = _starts(5, 5)
    fixed = np.random.default_rng(6).random(x0.shape[:2]) < 0.5
    counts = [0, 1, 2, 3, 4]
    got = design.random_edits(x0, fixed, counts, np.random.default_rng(7))
    np.testing.assert_array_equal(design.edit_counts(got, x0), counts)
    np.testing.assert_array_equal(got[fixed], x0[fixed])


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> str:
    workdir = str(tmp_path_factory.mktemp("design") / "run")
    run_pgx(
        ["train", "--config=configs/binding/deepbind.py", "--config.data.num_examples=600",
         "--config.data.batch_size=64", "--config.train.num_steps=60", f"--workdir={workdir}"]
    )  # fmt: skip
    return workdir


def _tsv(path) -> list[dict]:
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


@pytest.mark.parametrize("method", ["evolve", "gradient"])
def test_design_command_writes_designs_within_k_edits(run, tmp_path, method):
    starts = tmp_path / "starts.fa"
    rng = np.random.default_rng(0)
    starts.write_text(
        "".join(f">s{i}\n{''.join(rng.choice(list('ACGT'), 101))}\n" for i in range(3))
    )
    out = tmp_path / "designs.fa"
    code = pgx(
        ["design", f"--workdir={run}", f"--starts={starts}", "--max_edits=3", "--fixed=1-40",
         f"--method={method}", "--steps=40", "--scan=MA0139", f"--output={out}"]
    )  # fmt: skip
    assert code == 0
    rows, edits = _tsv(tmp_path / "designs.tsv"), _tsv(tmp_path / "designs_edits.tsv")
    assert [r["id"] for r in rows] == ["s0", "s1", "s2"]
    assert all(int(r["edits"]) <= 3 for r in rows)
    assert all(float(r["designed_0"]) >= float(r["start_0"]) - 1e-6 for r in rows)
    assert all(int(e["position"]) > 40 for e in edits)  # positions 1-40 fixed
    assert len(edits) == sum(int(r["edits"]) for r in rows)
    assert all(0 <= float(r["designed_MA0139_match"]) <= 1 for r in rows)
    designed = out.read_text().split("\n")
    assert designed[0] == ">s0_designed" and len(designed[1]) == 101


def test_design_command_refuses_bad_input_in_one_line(run, tmp_path, capsys):
    out = str(tmp_path / "d.fa")
    assert pgx(["design", f"--workdir={run}", "--random=2", "--fixed=x-3", f"--output={out}"]) == 1
    assert "--fixed: 'x-3' is neither a file nor a range" in capsys.readouterr().err
    short = tmp_path / "short.fa"
    short.write_text(">a\nACGT\n")
    assert pgx(["design", f"--workdir={run}", f"--starts={short}", f"--output={out}"]) == 1
    assert "a has 4 bases, the model reads 101" in capsys.readouterr().err


def test_grammar_command_writes_tables_and_pictures(run, tmp_path):
    code = pgx(
        ["grammar", f"--workdir={run}", "--random=5", "--backgrounds=12", "--motif=MA0139",
         "--second=GATTACA", "--max_gap=3", f"--outdir={tmp_path}"]
    )  # fmt: skip
    assert code == 0
    rows = _tsv(tmp_path / "marginalize.tsv")
    assert len(rows) == 12
    for row in rows:
        change = float(row["after_0"]) - float(row["before_0"])
        assert float(row["change_0"]) == pytest.approx(change, abs=2e-6)
    spacing = _tsv(tmp_path / "spacing.tsv")
    assert [(r["orientation"], r["gap"]) for r in spacing[:5]] == [
        ("++", "0"), ("++", "1"), ("++", "2"), ("++", "3"), ("+-", "0")
    ]  # fmt: skip
    assert len(spacing) == 16
    assert (tmp_path / "marginalize.png").stat().st_size > 0
    assert (tmp_path / "spacing.png").stat().st_size > 0
