"""The convolution-recurrent hybrids in PyTorch, the peers `train_throughput.py --model
sgru_cnn / rhcnn / biren` times.

Architectures, shapes and update of `pgx_jax.models.recurrent` with their configs' defaults:
`TextRecurrent` (the text CNN's word and position embeddings; `rnn_cnn`: a bidirectional GRU,
then the convolutions max-pooled over time; `cnn_rnn`: the convolutions, then the GRU and
attention pooling) and `ConvRecurrent` (convolution, ReLU, max pooling, a bidirectional GRU,
attention pooling, a dense layer, the head). The recurrent layers read each row's length
(`pack_padded_sequence`), as the JAX ones read `seq_lengths`. Gradient clipping, Adam and the
schedule as each config: the text models clip at global norm 5 with a cosine decay.
"""

from collections.abc import Callable

import numpy as np
import torch
from peers.placement import autocast, synchronize
from peers.textcnn_torch import TextCNN
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class BiRNN(nn.Module):
    """A bidirectional GRU or LSTM over [B, L, D] that stops at each row's length."""

    def __init__(self, features: int, hidden: int, cell: str):
        super().__init__()
        kind = {"gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.rnn = kind(features, hidden, batch_first=True, bidirectional=True)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        lengths = mask.sum(-1).clamp(min=1).cpu()
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return out


class AttentionPool(nn.Module):
    def __init__(self, features: int, hidden: int):
        super().__init__()
        self.project = nn.Linear(features, hidden)
        self.score = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        scores = self.score(torch.tanh(self.project(x)))[..., 0].float()
        weights = torch.softmax(scores.masked_fill(~mask, -1e9), dim=-1).to(x.dtype)
        return torch.einsum("bl,bld->bd", weights, x)


class TextRecurrent(TextCNN):
    def __init__(self, *, order: str, rnn_hidden: int, attention_dim: int, **text):
        super().__init__(**text)
        self.order = order
        features = self.words.embedding_dim + 2 * self.position1.embedding_dim
        filters = self.convs[0].out_channels
        widths = [conv.kernel_size[0] for conv in self.convs]
        if order == "rnn_cnn":
            self.rnn = BiRNN(features, rnn_hidden, "gru")
            self.convs = nn.ModuleList(
                nn.Conv1d(2 * rnn_hidden, filters, k, padding="same") for k in widths
            )
        else:
            self.rnn = BiRNN(len(widths) * filters, rnn_hidden, "gru")
            self.attention = AttentionPool(2 * rnn_hidden, attention_dim)
            self.head = nn.Linear(2 * rnn_hidden, self.head.out_features)

    def forward(self, tokens, pos1, pos2, mask):
        x = torch.cat([self.words(tokens), self.position1(pos1), self.position2(pos2)], dim=-1)
        x = x * mask[..., None]
        if self.order == "rnn_cnn":
            x = self.dropout(self.rnn(x, mask))
            padding = ~mask[:, None, :]
            pooled = [
                torch.relu(conv(x.transpose(1, 2))).masked_fill(padding, -1e9).amax(-1)
                for conv in self.convs
            ]
            return self.head(self.dropout(torch.cat(pooled, dim=-1)))
        h = torch.cat([torch.relu(conv(x.transpose(1, 2))) for conv in self.convs], dim=1)
        states = self.rnn(h.transpose(1, 2), mask)
        return self.head(self.dropout(self.attention(states, mask)))


class ConvRecurrent(nn.Module):
    def __init__(
        self,
        channels: int,
        num_filters: int,
        filter_width: int,
        pool_size: int,
        cell: str,
        rnn_hidden: int,
        attention_dim: int,
        hidden: int,
        dropout_rate: float,
    ):
        super().__init__()
        self.conv = nn.Conv1d(channels, num_filters, filter_width, padding="same")
        self.pool_size = pool_size
        self.rnn = BiRNN(num_filters, rnn_hidden, cell)
        self.attention = AttentionPool(2 * rnn_hidden, attention_dim)
        self.hidden = nn.Linear(2 * rnn_hidden, hidden)
        self.head = nn.Linear(hidden, 1)
        self.dropout = nn.Dropout(dropout_rate)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv((x * mask[..., None]).transpose(1, 2))) * mask[:, None, :]
        h = nn.functional.max_pool1d(h, self.pool_size, ceil_mode=True).transpose(1, 2)
        pooled_mask = nn.functional.max_pool1d(
            mask[:, None, :].float(), self.pool_size, ceil_mode=True
        )[:, 0].bool()
        h = self.rnn(self.dropout(h), pooled_mask)
        h = self.dropout(self.attention(h, pooled_mask))
        return self.head(self.dropout(torch.relu(self.hidden(h))))[:, 0]


def train_runner(
    batch: dict,
    model_kwargs: dict,
    *,
    text: bool,
    steps: int,
    threads: int,
    total_steps: int,
    learning_rate: float,
    grad_clip_norm: float | None,
    compile_model: bool = False,
    device: str = "cpu",
    dtype: str = "float32",
    seed: int = 0,
) -> Callable[[], None]:
    """A warmed-up callable that trains `steps` steps on one batch in the JAX batch format
    (`text`: tokens, positions and mask with class labels; else one-hot `x`, `mask` and binary
    labels); each call waits for the device at its end and sets `threads` intra-op threads."""
    torch.manual_seed(seed)
    inputs = {name: torch.from_numpy(np.asarray(x)) for name, x in batch["inputs"].items()}
    integer = ("tokens", "pos1", "pos2")
    inputs = {k: (x.long() if k in integer else x).to(device) for k, x in inputs.items()}
    weight = torch.from_numpy(batch["weight"]).to(device)
    if text:
        model = TextRecurrent(**model_kwargs)
        labels = torch.from_numpy(np.asarray(batch["label"], np.int64)).to(device)
        loss_fn = nn.CrossEntropyLoss(reduction="none")
    else:
        model = ConvRecurrent(**model_kwargs)
        labels = torch.from_numpy(np.asarray(batch["label"], np.float32)).to(device)
        loss_fn = nn.BCEWithLogitsLoss(reduction="none")
    model = model.to(device).train()
    forward = torch.compile(model) if compile_model else model
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)

    def run() -> None:
        torch.set_num_threads(threads)
        for _ in range(steps):
            optimizer.zero_grad(set_to_none=True)
            with autocast(device, dtype):
                logits = forward(**inputs).float()
            loss = (loss_fn(logits, labels) * weight).sum() / weight.sum().clamp(min=1.0)
            loss.backward()
            if grad_clip_norm:
                nn.utils.clip_grad_norm_(model.parameters(), grad_clip_norm)
            optimizer.step()
            schedule.step()
        synchronize(device)

    run()
    return run
