"""How long `pgx predict` takes to restore a trained run: this checkout against an older one.

Before commit f16f9ff, restoring a run rebuilt its experiment from the data (every split
opened, the TFDS set prepared again if its cache was gone, a training batch read for the input
shapes); since then `pgx_jax.load_run` rebuilds only the model and encoder from the run
directory. Both are timed in fresh processes, alternating, on runs of the same config: the
restore alone (in-process, after the imports) and the whole `pgx predict` command on a small
FASTA file, with the TFDS cache warm and emptied.

    git worktree add /tmp/before 6758cc0      # the last commit with the old restore
    (cd /tmp/before && PYTHONPATH=. pgx train --workdir /tmp/old_run)   # as in this checkout
    pgx train --workdir /tmp/new_run
    python benchmarks/restore_run.py --workdir /tmp/new_run \\
        --before /tmp/before --before_workdir /tmp/old_run --input q.fa [--repeats 5]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

RESTORE = {
    "after": "from pgx_jax.runs import load_run as restore",
    "before": "from pgx_jax.train.restore import restore_run as restore",
}
TIMED = """
import sys, time
{imports}
start = time.perf_counter()
restore(sys.argv[1])
print(time.perf_counter() - start)
"""


def _run(
    version: str, checkout: str, workdir: str, tfds: str, command: list[str]
) -> tuple[float, str]:
    """(seconds, stdout) of `command` in a fresh process of `checkout` against `workdir`."""
    env = {**os.environ, "PGX_TFDS_DIR": tfds, "PYTHONPATH": checkout}
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=checkout)
    elapsed = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"{version}: {' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", required=True, help="a run trained by this checkout")
    parser.add_argument("--before", required=True, help="a checkout of the older commit")
    parser.add_argument("--before_workdir", required=True, help="the same run, trained by it")
    parser.add_argument("--input", required=True, help="a FASTA file to predict")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    versions = {
        "after": (here, os.path.abspath(args.workdir)),
        "before": (os.path.abspath(args.before), os.path.abspath(args.before_workdir)),
    }
    warm = {v: tempfile.mkdtemp(prefix=f"tfds_{v}_") for v in versions}
    for version, (checkout, workdir) in versions.items():  # fills the warm cache, untimed
        code = TIMED.format(imports=RESTORE[version])
        _run(version, checkout, workdir, warm[version], [sys.executable, "-c", code, workdir])
    rows = {}
    for cache in ("warm", "emptied"):
        times = {(v, what): [] for v in versions for what in ("restore", "predict")}
        for _ in range(args.repeats):
            for version, (checkout, workdir) in versions.items():
                code = TIMED.format(imports=RESTORE[version])
                predict = [sys.executable, "-m", "pgx_jax.cli", "predict", f"--workdir={workdir}"]
                commands = {
                    "restore": [sys.executable, "-c", code, workdir],
                    "predict": [*predict, f"--input={args.input}"],
                }
                for what, command in commands.items():
                    tfds = warm[version] if cache == "warm" else tempfile.mkdtemp(prefix="tfds_")
                    elapsed, out = _run(version, checkout, workdir, tfds, command)
                    in_process = what == "restore"
                    times[version, what].append(
                        float(out.strip().splitlines()[-1]) if in_process else elapsed
                    )
                    if cache == "emptied":
                        shutil.rmtree(tfds)
        for what in ("restore", "predict"):
            rows[cache, what] = {v: statistics.median(times[v, what]) for v in versions}
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} | {os.cpu_count()} CPUs | "
        f"load average {load} | median of {args.repeats} fresh processes each, seconds"
    )
    print(f"{'TFDS cache':<12}{'timed':<24}{'before':>9}{'after':>9}{'before/after':>14}")
    for (cache, what), t in rows.items():
        label = "restore (in process)" if what == "restore" else "pgx predict (whole)"
        ratio = t["before"] / t["after"]
        print(f"{cache:<12}{label:<24}{t['before']:>9.2f}{t['after']:>9.2f}{ratio:>13.1f}x")


if __name__ == "__main__":
    main()
