"""DeepConv-DTI in PyTorch, the peer that `train_throughput.py --model deepconv_dti` times.

The architecture, shapes and update of `pgx_jax.models.deepconv_dti.DeepConvDTI` with the
`configs/dti/deepconv_dti.py` defaults: each drug's 2,048 ECFP4 bits (rebuilt from its
fingerprint words) through dense 128 with ELU and dropout 0.2; protein residues embedded 20-d
(zero at padding), channel-wise (spatial) dropout 0.2, SAME convolutions of widths 10, 15, 20,
25 and 30 with 64 filters each, each max-pooled over the real residues, ELU, dense 128-64 with
ELU and dropout; per pair the two vectors concatenated, dense 256 with ELU and one logit;
weighted binary cross-entropy; Adam at 1e-3. Like the JAX model, the branches encode the rows
they are given and the head reads pairs `(drug_index, protein_index)` into them.
"""

from collections.abc import Callable

import numpy as np
import torch
from peers.placement import autocast, synchronize
from torch import nn


def dense_stack(width: int, widths: tuple[int, ...], dropout_rate: float) -> nn.Sequential:
    """Dense layers with ELU and dropout after each."""
    layers: list[nn.Module] = []
    for out in widths:
        layers += [nn.Linear(width, out), nn.ELU(), nn.Dropout(dropout_rate)]
        width = out
    return nn.Sequential(*layers)


class DeepConvDTI(nn.Module):
    """ECFP dense branch and multi-width protein CNN, concatenated per pair, dense, logit."""

    def __init__(
        self,
        bits: int = 2048,
        protein_vocab: int = 26,
        protein_embed: int = 20,
        windows: tuple[int, ...] = (10, 15, 20, 25, 30),
        num_filters: int = 64,
        protein_hidden: tuple[int, ...] = (128, 64),
        drug_hidden: tuple[int, ...] = (128,),
        hidden: tuple[int, ...] = (256,),
        dropout_rate: float = 0.2,
        spatial_dropout: float = 0.2,
    ):
        super().__init__()
        self.bits = bits
        self.drug = dense_stack(bits, drug_hidden, dropout_rate)
        self.embed = nn.Embedding(protein_vocab, protein_embed)
        self.spatial = nn.Dropout1d(spatial_dropout)
        self.convs = nn.ModuleList(
            nn.Conv1d(protein_embed, num_filters, w, padding="same") for w in windows
        )
        self.protein = dense_stack(num_filters * len(windows), protein_hidden, dropout_rate)
        layers: list[nn.Module] = []
        width = drug_hidden[-1] + protein_hidden[-1]
        for out in hidden:
            layers += [nn.Linear(width, out), nn.ELU()]
            width = out
        self.head = nn.Sequential(*layers, nn.Linear(width, 1))

    def forward(self, drug_tokens, protein_tokens, drug_index, protein_index) -> torch.Tensor:
        bits = torch.zeros(drug_tokens.shape[0], self.bits + 1, device=drug_tokens.device)
        drugs = self.drug(bits.scatter_(1, drug_tokens, 1.0)[:, 1:])
        mask = protein_tokens > 0
        x = self.spatial((self.embed(protein_tokens) * mask[..., None]).transpose(1, 2))
        pooled = [
            conv(x).masked_fill(~mask[:, None, :], torch.finfo(x.dtype).min).amax(-1)
            for conv in self.convs
        ]
        proteins = self.protein(nn.functional.elu(torch.cat(pooled, -1)))
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
    """A warmed-up callable that trains `steps` steps on one batch in the JAX batch format
    (`{"inputs": {drug_tokens, protein_tokens, drug_index, protein_index}, "label",
    "weight"}`), as `deepdta_torch.train_runner` does."""
    torch.manual_seed(seed)
    inputs = {
        name: torch.from_numpy(np.asarray(x, np.int64)).to(device)
        for name, x in batch["inputs"].items()
    }
    labels = torch.from_numpy(batch["label"]).to(device)
    weight = torch.from_numpy(batch["weight"]).to(device)
    model = DeepConvDTI(**model_kwargs).to(device).train()
    forward = torch.compile(model) if compile_model else model
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    loss_fn = nn.BCEWithLogitsLoss(reduction="none")

    def run() -> None:
        torch.set_num_threads(threads)
        for _ in range(steps):
            optimizer.zero_grad(set_to_none=True)
            with autocast(device, dtype):
                loss = loss_fn(forward(**inputs).float(), labels)
            ((loss * weight).sum() / weight.sum().clamp(min=1.0)).backward()
            optimizer.step()
        synchronize(device)

    run()
    return run
