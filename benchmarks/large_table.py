"""A table too large for memory, streamed: preparation time and peak memory, and training
records per second from the prepared table against the same model on an in-memory table.

  python benchmarks/large_table.py                       # 10,000,000 rows against 1,000,000
  python benchmarks/large_table.py --rows 200000 --memory-rows 100000 --steps 100   # quick

Writes `DIR/large.csv` (`--rows` rows of `sequence,label`: 200-bp sequences, label 1 where
GGGCGG is planted, generated with numpy in chunks) and `DIR/memory.csv` (`--memory-rows` rows
of the same kind), then runs, each in its own process so its memory is its own (peak RSS,
VmHWM, and at its end the anonymous and the file-backed RSS): (1) preparing the large table
(`stream=true`: the experiment built once, which prepares it to array_record in `DIR/cache`),
(2) `--steps` training steps of the default nucleotide table model (DeepBind,
configs/table.py) from the prepared table, (3) the same on the in-memory table
(`stream=false`). Training records per second is the median of the logged
`train/steps_per_second` (every 50 steps, the first left out: it holds the compilation) times
the batch. Validation and test are 1 % each (`data.fractions`), so the evaluations at the end
stay short. The generated files and the prepared folder are deleted at the end (`--keep`).
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time

import numpy as np

LENGTH, MOTIF, HEADER = 200, b"GGGCGG", b"sequence,label\n"
FRACTIONS = "--config.data.fractions=(0.98,0.01,0.01)"


def write_table(path: str, rows: int, seed: int, chunk: int = 500_000) -> None:
    """`rows` rows of `sequence,label`, the motif planted at a random place in about half (a
    file of that size already there is taken as written by an earlier run)."""
    if os.path.isfile(path) and os.path.getsize(path) == len(HEADER) + rows * (LENGTH + 3):
        return
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"ACGT", np.uint8)
    with open(path, "wb") as f:
        f.write(HEADER)
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            line = np.empty((n, LENGTH + 3), np.uint8)
            line[:, :LENGTH] = letters[rng.integers(0, 4, (n, LENGTH))]
            label = rng.random(n) < 0.5
            where = np.flatnonzero(label)
            at = rng.integers(0, LENGTH - len(MOTIF), len(where))
            columns = at[:, None] + np.arange(len(MOTIF))
            line[where[:, None], columns] = np.frombuffer(MOTIF, np.uint8)
            line[:, LENGTH] = ord(",")
            line[:, LENGTH + 1] = np.where(label, ord("1"), ord("0"))
            line[:, LENGTH + 2] = ord("\n")
            line.tofile(f)


def child(code: str) -> tuple[dict, str]:
    """Run `code` in a fresh Python: its last printed line (JSON, with its own peak RSS) and
    everything it printed."""
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if found.returncode:
        sys.exit(f"child failed:\n{found.stdout[-3000:]}\n{found.stderr[-3000:]}")
    return json.loads(found.stdout.strip().splitlines()[-1]), found.stdout


PEAK = (
    "{l.split(':')[0]: int(l.split()[1]) // 1024 for l in open('/proc/self/status')"
    " if l.startswith(('VmHWM', 'RssAnon', 'RssFile'))}"
)
"""The child's peak RSS (VmHWM) and, at its end, its anonymous and file-backed RSS, in MB."""


BUILD = """
import json, time
from configs import table
from experiments import table as experiment
config = table.get_config("path={path},stream=true")
config.data.tfds_dir = "{cache}"
started = time.perf_counter()
built = experiment.build(config)
print(json.dumps({{"seconds": time.perf_counter() - started,
    "train": len(built.splits["train"]), "memory_mb": {peak}}}))
"""

TRAIN = """
import json
from pgx_jax import cli
from pgx_jax.train.writers import read_metrics
status = cli.main(["train", "--config=configs/table.py:path={path},stream={stream}",
    "--workdir={workdir}", "--config.data.tfds_dir={cache}", "{fractions}",
    "--config.train.num_steps={steps}", "--config.train.log_every_steps=50"])
assert status == 0
rates = [m["train/steps_per_second"] for m in read_metrics("{workdir}")
         if "train/steps_per_second" in m][1:]
print(json.dumps({{"steps_per_second": rates, "memory_mb": {peak}}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--memory-rows", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--batch", type=int, default=64, help="configs/table.py's default")
    parser.add_argument("--dir", default="runs/large_table")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    large, memory = os.path.join(args.dir, "large.csv"), os.path.join(args.dir, "memory.csv")
    cache = os.path.join(args.dir, "cache")
    shutil.rmtree(cache, ignore_errors=True)
    started = time.perf_counter()
    write_table(large, args.rows, 0)
    write_table(memory, args.memory_rows, 1)
    print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
    print(f"load average before: {os.getloadavg()}", flush=True)

    built, printed = child(BUILD.format(path=large, cache=cache, peak=PEAK))
    prepare_s = float(printed.split("(prepared in ")[1].split(" s)")[0])
    prepared = os.path.join(cache, "tables", os.listdir(os.path.join(cache, "tables"))[0])
    size = sum(os.path.getsize(os.path.join(prepared, f)) for f in os.listdir(prepared))
    rates = {}
    for name, path, stream in (("streamed", large, "true"), ("in memory", memory, "false")):
        workdir = os.path.join(args.dir, f"run_{stream}")
        shutil.rmtree(workdir, ignore_errors=True)
        code = TRAIN.format(
            path=path,
            stream=stream,
            workdir=workdir,
            cache=cache,
            fractions=FRACTIONS,
            steps=args.steps,
            peak=PEAK,
        )
        found, _ = child(code)
        rate = float(np.median(found["steps_per_second"])) * args.batch
        rates[name] = (rate, found["memory_mb"])
    report = {
        "date": datetime.date.today().isoformat(),
        "command": " ".join(sys.argv),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "load_after": os.getloadavg(),
        "rows": args.rows,
        "csv_mb": os.path.getsize(large) / 2**20,
        "prepared_mb": size / 2**20,
        "prepare_s": prepare_s,
        "prepare_and_build_s": built["seconds"],
        "prepare_memory_mb": built["memory_mb"],
        "streamed_records_per_s": rates["streamed"][0],
        "streamed_memory_mb": rates["streamed"][1],
        "memory_rows": args.memory_rows,
        "memory_records_per_s": rates["in memory"][0],
        "in_memory_memory_mb": rates["in memory"][1],
    }
    report["ratio"] = report["streamed_records_per_s"] / report["memory_records_per_s"]
    for key, value in report.items():
        print(f"{key}: {value:.4g}" if isinstance(value, float) else f"{key}: {value}")
    with open(os.path.join(args.dir, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    if not args.keep:
        for path in (large, memory, cache):
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


if __name__ == "__main__":
    main()
