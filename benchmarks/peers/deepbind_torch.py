"""DeepBind in PyTorch, the peer that `train_throughput.py --model deepbind --peer torch` times.

The same architecture and update as the JAX default config: Conv1d(4, 16, 24) -> ReLU ->
global max pool -> Linear(16, 32) -> ReLU -> Dropout(0.5) -> Linear(32, 1), binary
cross-entropy on logits, gradient clipping at global norm 1.0 and Adam at 3e-3.
"""

from collections.abc import Callable

import numpy as np
import torch
from peers.placement import autocast, synchronize
from torch import nn


class DeepBind(nn.Module):
    """Motif convolution over one-hot input laid out as [batch, 4, length]."""

    def __init__(
        self,
        num_filters: int = 16,
        filter_width: int = 24,
        hidden: int = 32,
        dropout_rate: float = 0.5,
    ):
        super().__init__()
        self.conv = nn.Conv1d(4, num_filters, filter_width)
        self.hidden = nn.Linear(num_filters, hidden)
        self.dropout = nn.Dropout(dropout_rate)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv(x)).amax(dim=-1)
        h = self.dropout(torch.relu(self.hidden(h)))
        return self.head(h).squeeze(-1)


def train_runner(
    x: np.ndarray,
    y: np.ndarray,
    *,
    steps: int,
    threads: int,
    learning_rate: float = 3e-3,
    grad_clip_norm: float = 1.0,
    compile_model: bool = False,
    device: str = "cpu",
    dtype: str = "float32",
    seed: int = 0,
) -> Callable[[], None]:
    """A warmed-up callable that trains `steps` steps on the one batch (`x`, `y`).

    `x` is one-hot [batch, length, 4] (the JAX layout; transposed here, once) and `y` the
    float labels [batch]; both live on `device` before timing, and each call waits for the
    device at its end. `compile_model` wraps the model in `torch.compile`; `dtype` is the
    compute precision (`peers.placement`).
    `threads` intra-op threads are set at every call, so peers with different counts alternate.
    """
    torch.manual_seed(seed)
    inputs = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1))).to(device)
    labels = torch.from_numpy(y).to(device)
    model = DeepBind().to(device).train()
    forward = torch.compile(model) if compile_model else model
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    loss_fn = nn.BCEWithLogitsLoss()

    def run() -> None:
        torch.set_num_threads(threads)
        for _ in range(steps):
            optimizer.zero_grad(set_to_none=True)
            with autocast(device, dtype):
                loss = loss_fn(forward(inputs).float(), labels)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip_norm)
            optimizer.step()
        synchronize(device)

    run()
    return run
