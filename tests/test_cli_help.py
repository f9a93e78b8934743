"""`pgx COMMAND --help` for every command of the CLI's registry: what it does, an example, and
every flag its parser defines, with its default; exit 0."""

import pytest

from pgx_jax import cli
from pgx_jax.commands import flags as flags_lib


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_command_explains_itself(command, capsys, monkeypatch):
    parsers = []

    def remembered(name, flag_values):
        parsers.append(flag_values)
        return help_text(name, flag_values)

    help_text = flags_lib.help_text
    monkeypatch.setattr(flags_lib, "help_text", remembered)
    assert cli.main([command, "--help"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: pgx {command} [flags]")
    assert "example: pgx " in text
    flag_lines = [line for line in text.splitlines() if line.startswith("  --")]
    listed = {line[4:].split(":")[0] for line in flag_lines} - {"config.FIELD=VALUE"}
    assert listed == set(parsers[0]) and listed
    assert all("(default: " in line for line in flag_lines if "FIELD" not in line)
    for form in (["help", command], [command, "-h"]):
        assert cli.main(form) == 0
        assert capsys.readouterr().out == text


def test_the_old_name_of_predict_gives_predicts_help(capsys):
    assert cli.main(["predict-ddi", "--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: pgx predict [flags]")
