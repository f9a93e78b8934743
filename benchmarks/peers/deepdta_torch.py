"""DeepDTA in PyTorch, the peer that `train_throughput.py --model deepdta` times.

The architecture, shapes and update of `pgx_jax.models.deepdta.DeepDTA` with the
`configs/dti/deepdta.py` (Davis) defaults: per branch a 128-d token embedding (token 0 is
padding and embeds to zero), three VALID convolutions with 32, 64 and 96 filters (kernel 4
for SMILES, 8 for proteins) and ReLU, and a max pool over the windows that hold no padding;
the pooled drug and protein vectors of each pair are concatenated and regressed through
dense 1024-1024-512 layers with ReLU (dropout 0.1 after the first two) and a linear output;
weighted mean squared error; Adam at 1e-3, no clipping. Like the JAX model, the branches
encode the rows they are given and the head reads pairs `(drug_index, protein_index)` into
them, so the same code trains naive batches (one row per pair) and factorised ones.
"""

from collections.abc import Callable

import numpy as np
import torch
from peers.placement import autocast, synchronize
from torch import nn


def valid_windows(mask: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """The mask of a VALID convolution's output: a window counts if all its inputs are real."""
    cumsum = nn.functional.pad(mask.int().cumsum(-1), (1, 0))
    length = mask.shape[-1] - kernel_size + 1
    return (cumsum[:, kernel_size : kernel_size + length] - cumsum[:, :length]) == kernel_size


class SequenceCNN(nn.Module):
    """Token embedding, three VALID convolutions (F, 2F, 3F filters), masked global max pool."""

    def __init__(self, vocab_size: int, embed_dim: int, num_filters: int, kernel_size: int):
        super().__init__()
        self.kernel_size = kernel_size
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.convs = nn.ModuleList(
            nn.Conv1d(c_in, c_out, kernel_size)
            for c_in, c_out in [
                (embed_dim, num_filters),
                (num_filters, 2 * num_filters),
                (2 * num_filters, 3 * num_filters),
            ]
        )

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        mask = tokens > 0
        h = (self.embed(tokens) * mask[..., None]).transpose(1, 2)
        for conv in self.convs:
            h = torch.relu(conv(h))
            mask = valid_windows(mask, self.kernel_size)
        pooled = h.masked_fill(~mask[:, None, :], torch.finfo(h.dtype).min).amax(-1)
        return torch.where(mask.any(-1, keepdim=True), pooled, 0.0)


class DeepDTA(nn.Module):
    """SMILES CNN and protein CNN, concatenated per pair, dense 1024-1024-512 head."""

    def __init__(
        self,
        smiles_vocab: int = 65,
        protein_vocab: int = 26,
        embed_dim: int = 128,
        num_filters: int = 32,
        smiles_kernel: int = 4,
        protein_kernel: int = 8,
        hidden: tuple[int, ...] = (1024, 1024, 512),
        dropout_rate: float = 0.1,
    ):
        super().__init__()
        self.smiles = SequenceCNN(smiles_vocab, embed_dim, num_filters, smiles_kernel)
        self.protein = SequenceCNN(protein_vocab, embed_dim, num_filters, protein_kernel)
        layers: list[nn.Module] = []
        width = 6 * num_filters
        for i, out in enumerate(hidden):
            layers += [nn.Linear(width, out), nn.ReLU()]
            if i < len(hidden) - 1:
                layers.append(nn.Dropout(dropout_rate))
            width = out
        layers.append(nn.Linear(width, 1))
        self.head = nn.Sequential(*layers)

    def forward(
        self,
        drug_tokens: torch.Tensor,
        protein_tokens: torch.Tensor,
        drug_index: torch.Tensor,
        protein_index: torch.Tensor,
    ) -> torch.Tensor:
        drugs, proteins = self.smiles(drug_tokens), self.protein(protein_tokens)
        pairs = torch.cat([drugs[drug_index], proteins[protein_index]], dim=-1)
        return self.head(pairs).squeeze(-1)


def train_runner(
    batch: dict,
    model_kwargs: dict,
    *,
    steps: int,
    threads: int,
    learning_rate: float = 1e-3,
    compile_model: bool = False,
    device: str = "cpu",
    dtype: str = "float32",
    seed: int = 0,
) -> Callable[[], None]:
    """A warmed-up callable that trains `steps` steps on one batch in the JAX batch format.

    `batch` is `{"inputs": {drug_tokens, protein_tokens, drug_index, protein_index}, "label",
    "weight"}` as numpy arrays, moved to `device` before timing; each call waits for the
    device at its end. `compile_model` wraps the model in `torch.compile`; `dtype` is the
    compute precision (`peers.placement`).
    `threads` intra-op threads are set at every call, so peers with different counts alternate.
    """
    torch.manual_seed(seed)
    inputs = {
        name: torch.from_numpy(np.asarray(x, np.int64)).to(device)
        for name, x in batch["inputs"].items()
    }
    labels = torch.from_numpy(batch["label"]).to(device)
    weight = torch.from_numpy(batch["weight"]).to(device)
    model = DeepDTA(**model_kwargs).to(device).train()
    forward = torch.compile(model) if compile_model else model
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

    def run() -> None:
        torch.set_num_threads(threads)
        for _ in range(steps):
            optimizer.zero_grad(set_to_none=True)
            with autocast(device, dtype):
                error = (forward(**inputs).float() - labels) ** 2
            ((error * weight).sum() / weight.sum().clamp(min=1.0)).backward()
            optimizer.step()
        synchronize(device)

    run()
    return run
