"""Metric writing: JSON lines (`metrics.jsonl`) and TensorBoard events, from process 0 only."""

import json
import os

import jax
from tensorboardX import SummaryWriter

from pgx_jax.files import atomic_open


class MetricWriter:
    """Appends `{"step": s, name: value, ...}` lines and TensorBoard scalars.

    On resume from step `start_step`, lines written after that step by the interrupted run (and
    a last line a kill cut short) are dropped first, so the file reads as one uninterrupted run.
    """

    def __init__(self, workdir: str, start_step: int = 0):
        self.enabled = jax.process_index() == 0
        self.path = os.path.join(workdir, "metrics.jsonl")
        if not self.enabled:
            return
        if os.path.exists(self.path):
            with open(self.path) as f:
                lines = f.readlines()
            if lines and not lines[-1].endswith("\n"):
                lines.pop()  # cut short by a kill in mid-write
            with atomic_open(self.path) as f:
                f.writelines(line for line in lines if json.loads(line)["step"] <= start_step)
        self._tensorboard = SummaryWriter(os.path.join(workdir, "tensorboard"))

    def write(self, step: int, metrics: dict[str, float]) -> None:
        if not self.enabled:
            return
        with open(self.path, "a") as f:
            f.write(json.dumps({"step": step, **metrics}) + "\n")
        for name, value in metrics.items():
            self._tensorboard.add_scalar(name, value, step)

    def close(self) -> None:
        if self.enabled:
            self._tensorboard.close()


def read_metrics(workdir: str) -> list[dict]:
    """The lines of a run's `metrics.jsonl`."""
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]
