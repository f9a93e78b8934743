"""One rule for finding a config (and sweep) file: the path itself if that file exists (absolute
or relative to the current directory), else the same path relative to the project's `configs/`
folder (`configs/binding/x.py` or `binding/x.py`), found through the installed `configs`
package; from any directory, and from a non-editable install."""

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap

import pytest
from conftest import REPO

from pgx_jax.commands.flags import find_config, parse
from pgx_jax.errors import PgxError

PROJECT_DEEPBIND = os.path.join(REPO, "configs", "binding", "deepbind.py")
FORMS = ["configs/binding/deepbind.py", "binding/deepbind.py"]


def _no_flags(flag_values):
    del flag_values


def _parse(*argv):
    return parse("train", list(argv), _no_flags)


@pytest.fixture(params=["repo", "elsewhere"])
def cwd(request, tmp_path, monkeypatch):
    """Run from the repository root, or from an empty directory outside it."""
    directory = REPO if request.param == "repo" else str(tmp_path)
    monkeypatch.chdir(directory)
    return directory


@pytest.mark.parametrize("form", FORMS)
def test_the_project_config_is_found_from_any_directory_with_arg_and_override(cwd, form):
    flag_values, config = _parse(f"--config={form}:rc", "--config.seed=7")
    assert config.experiment == "binding" and config.data.name == "synthetic_motif"
    assert config.model.reverse_complement is True  # the `:rc` argument reached get_config
    assert config.seed == 7  # the override applied
    assert flag_values["config"].config_filename == f"{form}:rc"  # pgx train's workdir name
    _, reference = _parse(f"--config={PROJECT_DEEPBIND}:rc", "--config.seed=7")
    assert config.to_dict() == reference.to_dict()


def test_the_default_config_is_found_from_any_directory(cwd):
    flag_values, config = _parse("--config.seed=3")
    assert config.experiment == "binding" and config.seed == 3
    assert config.model.reverse_complement is False
    assert os.path.basename(flag_values["config"].config_filename) == "deepbind.py"


def test_find_config_names_the_file_found(cwd):
    found = find_config("binding/deepbind.py")
    assert os.path.samefile(found, PROJECT_DEEPBIND)
    found = find_config("configs/binding/deepbind.py")
    assert os.path.samefile(found, PROJECT_DEEPBIND)


@pytest.mark.parametrize("form", FORMS)
def test_a_local_file_of_the_same_name_wins(tmp_path, monkeypatch, form):
    local = tmp_path / form
    local.parent.mkdir(parents=True)
    local.write_text(
        textwrap.dedent(
            """
            import ml_collections

            def get_config(arg=None):
                return ml_collections.ConfigDict({"experiment": "local", "arg": arg, "seed": 0})
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    flag_values, config = _parse(f"--config={form}:hello", "--config.seed=4")
    assert (config.experiment, config.arg, config.seed) == ("local", "hello", 4)
    assert flag_values["config"].config_filename == f"{form}:hello"
    assert find_config(form) == form  # the path as given, relative to the current directory


@pytest.mark.parametrize("form", ["binding/nope.py", "configs/binding/nope.py"])
def test_a_config_found_nowhere_is_one_line_naming_both_places(tmp_path, monkeypatch, form):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PgxError) as err:
        _parse(f"--config={form}:rc", "--config.seed=1")
    message = str(err.value)
    assert len(message.splitlines()) == 1
    assert message.startswith(f"config file not found: '{form}'")
    assert os.path.join(str(tmp_path), form) in message
    assert os.path.join(REPO, "configs", "binding", "nope.py") in message


def test_an_absolute_path_is_only_looked_for_where_it_points(tmp_path):
    missing = str(tmp_path / "binding" / "deepbind.py")
    with pytest.raises(
        PgxError, match=f"config file not found: '{missing}' \\(looked for {missing}\\)$"
    ):
        find_config(missing)


def test_sweep_files_follow_the_same_rule(tmp_path, monkeypatch):
    from pgx_jax.commands.sweep import load_points

    monkeypatch.chdir(tmp_path)
    assert len(load_points("sweeps/deepbind_seeds.py")) == 3
    assert [p["seed"] for p in load_points("configs/sweeps/deepbind_seeds.py:seeds=4;5")] == [4, 5]
    with pytest.raises(PgxError, match=r"^sweep file not found: 'sweeps/nope.py' \(looked for "):
        load_points("sweeps/nope.py")


_INSTALLED_SNIPPET = """
import os, sys
import configs, pgx_jax
from pgx_jax.commands.flags import parse
from pgx_jax.commands.sweep import load_points
assert configs.__file__.startswith(sys.argv[1]), configs.__file__
assert pgx_jax.__file__.startswith(sys.argv[1]), pgx_jax.__file__
flag_values, config = parse("train", ["--config", "binding/deepbind.py:rc", "--config.seed=5"],
                            lambda flag_values: None)
print(config.experiment, config.seed, config.model.reverse_complement)
print(parse("train", [], lambda flag_values: None)[1].experiment)
print(len(load_points("configs/sweeps/deepbind_seeds.py")))
"""


def test_an_installed_non_editable_package_finds_its_configs(tmp_path):
    """Build a wheel from a copy of the project, install it with --target, and parse from a
    directory outside the repository with only that install and the dependencies importable
    (`python -S`: no .pth files, so not the editable install of this checkout)."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(REPO, name), source / name)
    for name in ("pgx_jax", "configs", "experiments"):
        shutil.copytree(
            os.path.join(REPO, name), source / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    built = subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(tmp_path / "wheel"), str(source)],
        capture_output=True,
        text=True,
    )
    if built.returncode != 0:  # pip needs a setuptools new enough for the PEP 639 license
        pytest.skip(f"cannot build the wheel here: {built.stderr.strip().splitlines()[-1:]}")
    (wheel,) = (tmp_path / "wheel").iterdir()
    site = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable, "-S", "-c", _INSTALLED_SNIPPET, str(site)],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                dict.fromkeys(
                    [str(site), *(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))]
                )
            ),
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:3] == ["binding 5 True", "binding", "3"]
