"""DeepBind training throughput: sequences/s, FLOPs per step and the fraction of the matmul rate.

  python benchmarks/train_throughput.py                      # JAX only, batch 256, length 101
  python benchmarks/train_throughput.py --peer torch --json perf.json

The step is the one `pgx_jax.train.loop.fit` runs (same jit, shardings and donated state) on
the default DeepBind config, fed one random one-hot batch that already lives on the devices,
so the numbers cover the step alone, not the input pipeline. The JAX steps, the matmul and
the PyTorch peer are timed in turn within each repeat, so all see the same machine load.
"""

import argparse
import datetime
import functools
import importlib.util
import json
import os
import platform
import sys
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from configs.binding import deepbind as deepbind_config
from pgx_jax import parallel
from pgx_jax.models import create_model
from pgx_jax.train import steps
from pgx_jax.train.optim import make_optimizer
from pgx_jax.train.state import create_train_state

INSTALL_TORCH = "pip install -e '.[benchmark]'"


def random_batch(batch_size: int, length: int, seed: int = 0) -> dict:
    """A host batch in the training pipeline's format: one-hot x, all-true mask, 0/1 labels."""
    rng = np.random.default_rng(seed)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (batch_size, length))]
    return {
        "inputs": {"x": x, "mask": np.ones((batch_size, length), bool)},
        "label": rng.integers(0, 2, batch_size).astype(np.float32),
        "weight": np.ones(batch_size, np.float32),
    }


def xla_flops(compiled: jax.stages.Compiled) -> float:
    """FLOPs in XLA's cost analysis of a compiled computation (a dict, or a list of them)."""
    analysis = compiled.cost_analysis()
    if isinstance(analysis, dict):
        analysis = [analysis]
    return float(sum(module.get("flops", 0.0) for module in analysis))


def analytic_flops(batch_size: int, length: int, filters: int, width: int,
                   hidden: int) -> dict[str, float]:
    """Multiply-add FLOPs (2 per MAC) of the convolution and dense layers in one train step.

    Backward is 2x forward (input and weight gradients) for the dense layers but 1x for the
    convolution, whose input is data and needs no gradient; the usual 3x-forward rule would
    overcount the step by half the convolution.
    """
    conv = 2.0 * batch_size * (length - width + 1) * width * 4 * filters
    dense = 2.0 * batch_size * (filters * hidden + hidden)
    return {"conv_forward": conv, "dense_forward": dense, "step": 2.0 * conv + 3.0 * dense}


def jax_train_runner(batch_size: int, length: int,
                     num_steps: int) -> tuple[Callable[[], None], float]:
    """A warmed-up callable running `num_steps` DeepBind train steps, and XLA's FLOPs per step.

    XLA counts the FLOPs of one device's share of the sharded step; this multiplies by the mesh.
    """
    config = deepbind_config.get_config()
    mesh = parallel.make_mesh(config.mesh)
    parallel.local_batch_size(batch_size, mesh)
    model = create_model(**config.model)
    tx = make_optimizer(config.optimizer, total_steps=num_steps)
    replicated = parallel.replicated(mesh)
    batch = parallel.to_global(random_batch(batch_size, length), mesh)
    state = jax.jit(
        lambda inputs: create_train_state(model, tx, inputs, config.seed),
        out_shardings=replicated,
    )(batch["inputs"])
    train_fn = jax.jit(
        functools.partial(steps.train_step, task="binary"),
        in_shardings=(replicated, parallel.data_sharded(mesh)),
        out_shardings=(replicated, replicated),
        donate_argnums=0,
    )
    flops = xla_flops(train_fn.lower(state, batch).compile()) * mesh.size

    def run() -> None:
        nonlocal state
        for _ in range(num_steps):
            state, metrics = train_fn(state, batch)
        jax.block_until_ready((state, metrics))

    run()
    return run, flops


def matmul_runner(size: int, calls: int) -> Callable[[], None]:
    """A warmed-up callable doing `calls` float32 size x size matmuls on one device."""
    a, b = (jax.random.normal(k, (size, size), jnp.float32)
            for k in jax.random.split(jax.random.PRNGKey(0)))
    dot = jax.jit(functools.partial(jnp.dot, precision=jax.lax.Precision.HIGHEST))

    def run() -> None:
        for _ in range(calls):
            out = dot(a, b)
        jax.block_until_ready(out)

    run()
    return run


def time_in_turn(runners: dict[str, Callable[[], None]], repeats: int) -> dict[str, np.ndarray]:
    """Wall times of each runner over `repeats` rounds, all timed in turn within every round."""
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(repeats):
        for name, run in runners.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: np.asarray(values) for name, values in times.items()}


def machine() -> dict:
    """Processor, accelerator kind and core count, for citing the numbers."""
    processor = platform.processor()
    if not processor and os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        processor = names[0] if names else ""
    return {
        "processor": processor or platform.machine(),
        "device_kind": jax.devices()[0].device_kind,
        "devices": jax.device_count(),
        "cpu_count": os.cpu_count(),
        "jax": jax.__version__,
    }


def busy_cpu_seconds() -> float | None:
    """CPU seconds the whole machine has been busy (steal included), from Linux /proc/stat."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(value) for value in f.readline().split()[1:9]]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = ticks
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _rate(work: float, seconds: np.ndarray) -> tuple[float, float, float]:
    """Median, lowest and highest of `work / seconds` over the repeats."""
    rates = work / seconds
    return float(np.median(rates)), float(rates.min()), float(rates.max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--length", type=int, default=101)
    parser.add_argument("--steps", type=int, default=100, help="train steps per timed repeat")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--matmul-size", type=int, default=0,
                        help="matmul side; 0: 2048 on CPU, 8192 on accelerators")
    parser.add_argument("--peer", choices=["torch"], help="also time a PyTorch (eager) peer")
    parser.add_argument("--json", help="write the numbers, date and machine to this file")
    args = parser.parse_args()

    info = machine()
    print(f"machine: {info['processor']} | {info['devices']} x {info['device_kind']} | "
          f"{info['cpu_count']} CPUs | jax {info['jax']}")
    jax_run, flops = jax_train_runner(args.batch_size, args.length, args.steps)
    size = args.matmul_size or (2048 if jax.default_backend() == "cpu" else 8192)
    matmul_calls = 4
    runners = {"jax": jax_run, "matmul": matmul_runner(size, matmul_calls)}
    torch_missing = args.peer == "torch" and importlib.util.find_spec("torch") is None
    if args.peer == "torch" and not torch_missing:
        import torch
        from peers import deepbind_torch

        host = random_batch(args.batch_size, args.length)
        info["torch"] = torch.__version__
        info["torch_threads"] = os.cpu_count() or 1
        runners["torch"] = deepbind_torch.train_runner(
            host["inputs"]["x"], host["label"], steps=args.steps, threads=info["torch_threads"]
        )
    busy, own, wall = busy_cpu_seconds(), time.process_time(), time.perf_counter()
    seconds = time_in_turn(runners, args.repeats)
    if busy is not None:
        others = busy_cpu_seconds() - busy - (time.process_time() - own)
        info["other_processes_cores"] = max(0.0, others / (time.perf_counter() - wall))

    config = deepbind_config.get_config()
    analytic = analytic_flops(args.batch_size, args.length, config.model.num_filters,
                              config.model.filter_width, config.model.hidden)
    sequences = args.steps * args.batch_size
    seq_per_s, seq_low, seq_high = _rate(sequences, seconds["jax"])
    achieved = flops * seq_per_s / args.batch_size
    peak, peak_low, peak_high = _rate(matmul_calls * 2.0 * size**3, seconds["matmul"])
    ceiling = peak * info["devices"]
    results = {
        "batch_size": args.batch_size,
        "length": args.length,
        "steps": args.steps,
        "repeats": args.repeats,
        "jax_sequences_per_second": seq_per_s,
        "jax_sequences_per_second_range": [seq_low, seq_high],
        "xla_flops_per_step": flops,
        "analytic_flops_per_step": analytic["step"],
        "analytic_conv_forward_flops": analytic["conv_forward"],
        "analytic_dense_forward_flops": analytic["dense_forward"],
        "achieved_flops_per_second": achieved,
        "matmul_size": size,
        "matmul_flops_per_second": peak,
        "matmul_flops_per_second_range": [peak_low, peak_high],
        "fraction_of_matmul_rate": achieved / ceiling,
    }
    rows = [
        ("JAX train throughput", f"{seq_per_s:,.0f} seq/s (range {seq_low:,.0f}-{seq_high:,.0f}; "
                                 f"batch {args.batch_size}, length {args.length})"),
        ("FLOPs/step, XLA cost analysis", f"{flops / 1e6:,.1f} M"),
        ("FLOPs/step, analytic", f"{analytic['step'] / 1e6:,.1f} M = 2 x conv "
                                 f"{analytic['conv_forward'] / 1e6:,.1f} M + 3 x dense "
                                 f"{analytic['dense_forward'] / 1e6:,.2f} M"),
        ("achieved (XLA FLOPs x steps/s)", f"{achieved / 1e9:,.2f} GFLOP/s"),
        (f"float32 matmul {size}x{size}", f"{peak / 1e9:,.1f} GFLOP/s per device "
                                          f"(range {peak_low / 1e9:,.1f}-{peak_high / 1e9:,.1f})"),
        ("fraction of matmul rate", f"{achieved / ceiling:.1%}" + (
            f" (of {info['devices']} x the one-device rate)" if info["devices"] > 1 else "")),
    ]
    if "torch" in seconds:
        torch_rate, torch_low, torch_high = _rate(sequences, seconds["torch"])
        results["torch_sequences_per_second"] = torch_rate
        results["torch_sequences_per_second_range"] = [torch_low, torch_high]
        results["jax_over_torch"] = seq_per_s / torch_rate
        rows += [
            (f"PyTorch {info['torch']} eager", f"{torch_rate:,.0f} seq/s (range {torch_low:,.0f}-"
                                               f"{torch_high:,.0f}; {info['torch_threads']} "
                                               "threads)"),
            ("JAX / PyTorch", f"{results['jax_over_torch']:.2f}x"),
        ]
    elif torch_missing:
        rows.append(("PyTorch peer", f"skipped: torch is not installed ({INSTALL_TORCH})"))
    if "other_processes_cores" in info:
        rows.append(("other processes during timing", f"{info['other_processes_cores']:.2f} "
                     f"of {info['cpu_count']} cores (more than ~0.1: numbers are contended)"))
    width = max(len(name) for name, _ in rows)
    print("\n".join(f"{name:<{width}}  {value}" for name, value in rows))
    if args.json:
        record = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
                  "command": " ".join(["python", *sys.argv]), "machine": info, **results}
        with open(args.json, "w") as f:
            json.dump(record, f, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
