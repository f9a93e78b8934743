"""One train step of a DDI text-CNN ensemble: members vmapped against members unrolled.

  python benchmarks/ensemble_stack.py [--members 2] [--batch-size 64] [--repeats 5] [--steps 5]

Times the jitted train step (`benchmarks/train_throughput.py`'s, state donated) of one text CNN
and of an `Ensemble` of `--members` text CNNs stacked with `nn.vmap` (`unroll=False`) and
computed one after another (`unroll=True`), in turn within each repeat, on the same random
batch of 64-token sentences; prints the median milliseconds per step. Each member embeds its
own words, so vmapped members convolve with grouped convolutions.
"""

import argparse
import dataclasses

import jax
from in_turn import median_ms_in_turn
from train_throughput import compiled_step, make_case, single_device_mesh

from pgx_jax.models.ensemble import Ensemble


def step_runner(case) -> tuple:
    """A callable running one train step on the case's batch, and its (empty) inputs."""
    train_fn, state, batch, _ = compiled_step(case, single_device_mesh(jax.devices()[0]))
    held = {"state": state}

    def run():
        held["state"], metrics = train_fn(held["state"], batch)
        return metrics

    run()
    return run, ()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    print(f"{jax.devices()[0].device_kind}, jax {jax.__version__}")
    runners = {"one text CNN": step_runner(make_case("textcnn", args.batch_size, None, "float32"))}
    for unroll in (False, True):
        case = make_case("textcnn", args.batch_size, None, "float32")
        member = {f.name: getattr(case.model, f.name) for f in dataclasses.fields(case.model)}
        member = {k: v for k, v in member.items() if k not in ("parent", "name")}
        case.model = Ensemble(
            member={"name": "textcnn", **member}, num_members=args.members, unroll=unroll
        )
        label = f"{args.members} members, {'unrolled' if unroll else 'vmapped'}"
        runners[label] = step_runner(case)
    times = median_ms_in_turn(runners, args.repeats, args.steps)
    print(f"| step (batch {args.batch_size}, 64 tokens) | ms |")
    print("| --- | --- |")
    for label, ms in times.items():
        print(f"| {label} | {ms:.1f} |")


if __name__ == "__main__":
    main()
