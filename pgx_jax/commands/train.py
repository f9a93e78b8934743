"""`pgx train --config CONFIG[:ARG] --workdir DIR [--config.field=value ...]`: train a model.

CONFIG is a config file with `get_config(arg)` (a path, or a path under the project's
`configs/`; default `configs/binding/deepbind.py`, DeepBind on an embedded planted-motif set);
ARG is `key=value,...` of that file's variants; `--config.a.b=value` sets any field. The
config names the experiment (the data set, or `configs/table.py:path=FILE` for your own CSV,
TSV, Parquet or FASTA file) and the model. DIR receives config.json, predictor.json,
metrics.jsonl, checkpoints/, results.json (test metrics) and pictures; if DIR holds a
checkpoint the run resumes from it. SIGTERM or Ctrl-C saves a checkpoint and exits 143.
A config with a protocol (`protocol.field`: folds, seeds) runs once per value in
DIR/<field>=<value> and writes the mean and spread.

example: pgx train --config configs/binding/deepbind.py:motif=MA0138 --workdir runs/rest
"""

import glob
import os
import time

from absl import flags

from pgx_jax.commands.flags import parse
from pgx_jax.files import check_writable


def _define(flag_values: flags.FlagValues) -> None:
    flags.DEFINE_string(
        "workdir", None, "run directory (resumed if it holds a checkpoint)", flag_values=flag_values
    )


def _default_workdir(config_path: str) -> str:
    name = os.path.splitext(os.path.basename(config_path.split(":")[0]))[0]
    return os.path.join("runs", f"{name}-{time.strftime('%Y%m%d-%H%M%S')}")


def main(argv: list[str]) -> int:
    """Build the experiment the config names, run its protocol, draw each run's pictures
    (training curves, ROC/PR or scatter) into its workdir and print the test metrics."""
    flag_values, config = parse("train", argv, _define)
    workdir = flag_values.workdir or _default_workdir(flag_values["config"].config_filename)
    check_writable(workdir, "--workdir")

    import jax

    from pgx_jax import parallel
    from pgx_jax.experiment import load_experiment_module
    from pgx_jax.interpret.report import make_pictures
    from pgx_jax.train import protocol
    from pgx_jax.train.loop import Preempted

    parallel.initialize_distributed()
    load_experiment_module(config.experiment)
    print(f"workdir: {workdir}")
    try:
        results = protocol.run(config, workdir)
    except Preempted as stopped:
        if flag_values.workdir:
            raise
        # Without --workdir the same command would start a new folder.
        reason = str(stopped).split(";")[0]
        raise Preempted(f"{reason}; rerun with --workdir={workdir} to resume") from None
    if jax.process_index() == 0:
        for run_dir in [workdir, *sorted(glob.glob(os.path.join(workdir, "*=*")))]:
            make_pictures(run_dir)
    for key in sorted(results):
        if key.startswith(("test/", "final/", "motif/")):
            value = results[key]
            print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
    return 0
