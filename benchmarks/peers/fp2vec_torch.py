"""FP2VEC in PyTorch, the peer that `train_throughput.py --model fp2vec` times.

The architecture, shapes and update of `pgx_jax.models.fp2vec.FP2VEC` with the
`configs/dti/solubility.py:fp2vec` defaults: fingerprint words (set bits + 1; 0 is padding)
embedded 100-d and zeroed at padding, one VALID convolution of 2,048 filters of width 5,
max-pooled over the windows without padding, ReLU, dropout 0.5 and a linear output; weighted
mean squared error; Adam at 5e-4.
"""

from collections.abc import Callable

import numpy as np
import torch
from peers.deepdta_torch import valid_windows
from peers.placement import autocast, synchronize
from torch import nn


class FP2VEC(nn.Module):
    """Word embedding, one convolution max-pooled over real windows, dropout, linear output."""

    def __init__(
        self,
        bits: int = 1024,
        embed_dim: int = 100,
        num_filters: int = 2048,
        kernel_size: int = 5,
        dropout_rate: float = 0.5,
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.embed = nn.Embedding(bits + 1, embed_dim)
        self.conv = nn.Conv1d(embed_dim, num_filters, kernel_size)
        self.dropout = nn.Dropout(dropout_rate)
        self.out = nn.Linear(num_filters, 1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        mask = tokens > 0
        h = self.conv((self.embed(tokens) * mask[..., None]).transpose(1, 2))
        windows = valid_windows(mask, self.kernel_size)
        pooled = h.masked_fill(~windows[:, None, :], torch.finfo(h.dtype).min).amax(-1)
        pooled = torch.relu(torch.where(windows.any(-1, keepdim=True), pooled, 0.0))
        return self.out(self.dropout(pooled)).squeeze(-1)


def train_runner(
    batch: dict,
    model_kwargs: dict,
    *,
    steps: int,
    threads: int,
    learning_rate: float = 5e-4,
    compile_model: bool = False,
    device: str = "cpu",
    dtype: str = "float32",
    seed: int = 0,
) -> Callable[[], None]:
    """A warmed-up callable that trains `steps` steps on one batch in the JAX batch format
    (`{"inputs": {"tokens"}, "label", "weight"}`), as `deepdta_torch.train_runner` does."""
    torch.manual_seed(seed)
    tokens = torch.from_numpy(np.asarray(batch["inputs"]["tokens"], np.int64)).to(device)
    labels = torch.from_numpy(batch["label"]).to(device)
    weight = torch.from_numpy(batch["weight"]).to(device)
    model = FP2VEC(**model_kwargs).to(device).train()
    forward = torch.compile(model) if compile_model else model
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

    def run() -> None:
        torch.set_num_threads(threads)
        for _ in range(steps):
            optimizer.zero_grad(set_to_none=True)
            with autocast(device, dtype):
                error = (forward(tokens).float() - labels) ** 2
            ((error * weight).sum() / weight.sum().clamp(min=1.0)).backward()
            optimizer.step()
        synchronize(device)

    run()
    return run
