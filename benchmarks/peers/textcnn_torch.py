"""The DDI text CNN (Liu et al. 2016) in PyTorch, the peer `train_throughput.py --model textcnn`
times.

The architecture, shapes and update of `pgx_jax.models.textcnn.TextCNN` with the
`configs/ddi/textcnn.py` defaults (one word channel): each token is a 100-d word embedding
plus two 10-d relative-position embeddings (201 distances and padding), zeroed at padding;
SAME convolutions of widths 3, 4 and 5 with 100 filters each and ReLU, each max-pooled over
the real tokens; dropout 0.5 and a dense layer to 5 class logits; weighted softmax cross
entropy; gradient clipping at global norm 5, Adam at 1e-3 with cosine decay.
"""

from collections.abc import Callable

import numpy as np
import torch
from peers.placement import autocast, synchronize
from torch import nn


class TextCNN(nn.Module):
    """Word and position embeddings, multi-width convolutions, max over time, dense logits."""

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int = 100,
        max_distance: int = 100,
        position_dim: int = 10,
        window_sizes: tuple[int, ...] = (3, 4, 5),
        num_filters: int = 100,
        dropout_rate: float = 0.5,
        num_outputs: int = 5,
    ):
        super().__init__()
        self.words = nn.Embedding(vocab_size, embed_dim)
        self.position1 = nn.Embedding(2 * max_distance + 2, position_dim)
        self.position2 = nn.Embedding(2 * max_distance + 2, position_dim)
        channels = embed_dim + 2 * position_dim
        self.convs = nn.ModuleList(
            nn.Conv1d(channels, num_filters, k, padding="same") for k in window_sizes
        )
        self.dropout = nn.Dropout(dropout_rate)
        self.head = nn.Linear(len(window_sizes) * num_filters, num_outputs)

    def forward(
        self, tokens: torch.Tensor, pos1: torch.Tensor, pos2: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        x = torch.cat([self.words(tokens), self.position1(pos1), self.position2(pos2)], dim=-1)
        x = (x * mask[..., None]).transpose(1, 2)
        padding = ~mask[:, None, :]
        pooled = []
        for conv in self.convs:
            h = torch.relu(conv(x))
            pooled.append(h.masked_fill(padding, torch.finfo(h.dtype).min).amax(-1))
        h = torch.where(mask.any(-1, keepdim=True), torch.cat(pooled, dim=-1), 0.0)
        return self.head(self.dropout(h))


def train_runner(
    batch: dict,
    model_kwargs: dict,
    *,
    steps: int,
    threads: int,
    total_steps: int,
    learning_rate: float = 1e-3,
    grad_clip_norm: float = 5.0,
    compile_model: bool = False,
    device: str = "cpu",
    dtype: str = "float32",
    seed: int = 0,
) -> Callable[[], None]:
    """A warmed-up callable that trains `steps` steps on one batch in the JAX batch format.

    `batch` is `{"inputs": {tokens, pos1, pos2, mask}, "label", "weight"}` as numpy arrays,
    moved to `device` before timing; each call waits for the device at its end. The cosine
    decay runs over `total_steps`, as the JAX optimiser's schedule does. `dtype` is the
    compute precision (`peers.placement`).
    `threads` intra-op threads are set at every call, so peers with different counts alternate.
    """
    torch.manual_seed(seed)
    inputs = {name: torch.from_numpy(np.asarray(x)) for name, x in batch["inputs"].items()}
    inputs = {name: (x.long() if name != "mask" else x).to(device) for name, x in inputs.items()}
    labels = torch.from_numpy(np.asarray(batch["label"], np.int64)).to(device)
    weight = torch.from_numpy(batch["weight"]).to(device)
    model = TextCNN(**model_kwargs).to(device).train()
    forward = torch.compile(model) if compile_model else model
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    loss_fn = nn.CrossEntropyLoss(reduction="none")

    def run() -> None:
        torch.set_num_threads(threads)
        for _ in range(steps):
            optimizer.zero_grad(set_to_none=True)
            with autocast(device, dtype):
                logits = forward(**inputs).float()
            loss = (loss_fn(logits, labels) * weight).sum() / weight.sum().clamp(min=1.0)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip_norm)
            optimizer.step()
            schedule.step()
        synchronize(device)

    run()
    return run
