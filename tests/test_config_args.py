"""Config arguments (`path:key=value,...`): booleans take only true/false or 1/0 (a bare word
is true), other values must convert to their default's type; anything else is one line."""

import pytest

from pgx_jax.configs import parse_arg
from pgx_jax.errors import PgxError


def _parse(arg: str):
    return parse_arg(arg, rc=False, motif="MA0139", members=1, rate=0.5, vectors=None)


@pytest.mark.parametrize(
    ("arg", "rc"),
    [
        ("rc", True),
        ("rc=true", True),
        ("rc=1", True),
        ("rc=False", False),
        ("rc=0", False),
        ("", False),
    ],
)
def test_booleans(arg, rc):
    assert _parse(arg).rc is rc


def test_typed_values():
    parsed = _parse("motif=MA0138,members=5,rate=0.25,vectors=w2v.bin")
    assert (parsed.motif, parsed.members, parsed.rate, parsed.vectors) == (
        "MA0138",
        5,
        0.25,
        "w2v.bin",
    )


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("rc=maybe", "config argument rc='maybe': expected true or false (or 1, 0)"),
        ("rc=Y", "config argument rc='Y': expected true or false (or 1, 0)"),
        ("rc=on", "config argument rc='on': expected true or false (or 1, 0)"),
        ("motif", "config argument: 'motif' needs a value (motif=...)"),
        ("members=abc", "config argument members='abc': expected a value of type int"),
        ("rate=fast", "config argument rate='fast': expected a value of type float"),
        ("colour=red", "config argument: unknown key 'colour'"),
    ],
)
def test_bad_arguments_are_one_line(arg, message):
    with pytest.raises(PgxError) as caught:
        _parse(arg)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("--config.train.num_epochs=0", "config.train.num_epochs=0, num_steps=0: nothing to train"),
        ("--config.data.batch_size=0", "config.data.batch_size: 0; must be at least 1"),
        (
            "--config.optimizer.learning_rate=nan",
            "config.optimizer.learning_rate: nan; must be a positive number",
        ),
        (
            "--config.model.pooling=median",
            "config.model (deepbind): unknown pooling 'median'; expected 'max' or 'max_avg'",
        ),
    ],
)
def test_a_run_that_cannot_train_is_refused_in_one_line(override, message, tmp_path, capsys):
    from pgx_jax import cli

    args = ["train", "--config.data.num_examples=200", override, f"--workdir={tmp_path}"]
    assert cli.main(args) == 1
    assert (
        capsys.readouterr().err.strip().splitlines()[-1].startswith(f"pgx train: error: {message}")
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--config.data.path=x.csv"],
            "--config.data.path: the config has no field 'path' in data (its fields: alphabet, ",
        ),
        (
            ["--config=configs/dti/solubility.py", "--config.optimizer.learnin_rate=0.1"],
            "--config.optimizer.learnin_rate: the config has no field 'learnin_rate' in optimizer",
        ),
    ],
)
def test_an_override_of_a_missing_field_names_it_and_the_fields_there(argv, message, capsys):
    from pgx_jax import cli

    assert cli.main(["train", *argv, "--workdir=/nonexistent/run"]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith(f"pgx train: error: {message}")


def test_early_stopping_in_the_first_steps_warns(tmp_path, capsys):
    """A model that cannot improve (learning rate 1e-30) stops after one evaluation without
    a better AUROC; at step 4 that comes with a warning on what to change."""
    from pgx_jax import cli

    args = ["train", "--config.data.num_examples=300", "--config.data.batch_size=32",
            "--config.optimizer.learning_rate=1e-30", "--config.train.eval_every_steps=2",
            "--config.train.early_stopping.patience=1", f"--workdir={tmp_path}"]  # fmt: skip
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert (
        f"warning: {tmp_path}: early stopping at step 4 of " in out
        and "(validation/auroc not better for 1 evaluations, one every 2 steps)" in out
    )
