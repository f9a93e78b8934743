"""Where and in which precision the PyTorch peers run: shared by every peer's train_runner.

`device` is "cpu" or "cuda"; `dtype` "float32" or "bfloat16". bfloat16 runs the forward pass
and loss under `torch.autocast` with float32 parameters and optimiser, the same mixed
precision as pgx_jax's `train.compute_dtype=bfloat16`.
"""

import contextlib

import torch


def autocast(device: str, dtype: str) -> contextlib.AbstractContextManager:
    """bfloat16 autocast for `dtype="bfloat16"`, else a no-op context."""
    if dtype == "float32":
        return contextlib.nullcontext()
    if dtype != "bfloat16":
        raise ValueError(f"unknown dtype {dtype!r}; expected 'float32' or 'bfloat16'")
    return torch.autocast(device_type=device, dtype=torch.bfloat16)


def synchronize(device: str) -> None:
    """Wait for the device's queued work, so that a timer read afterwards covers it."""
    if device == "cuda":
        torch.cuda.synchronize()
