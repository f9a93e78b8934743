"""Training throughput of pgx_jax against PyTorch peers, FLOPs per step, matmul fraction.

  python benchmarks/train_throughput.py                       # every model, JAX only
  python benchmarks/train_throughput.py --peer torch          # + PyTorch eager peers
  python benchmarks/train_throughput.py --peer torch --compile --devices 8 --json perf.json
  python benchmarks/train_throughput.py --model deepbind --peer torch
  python benchmarks/train_throughput.py --peer torch --dtype bfloat16      # mixed precision

Models (batch 256 each): DeepBind (binding, 101 bp one-hot), DeepDTA on Davis shapes with
naive pair batches (both sequences encoded per pair) and with factorised block batches (each
distinct drug and protein of the batch encoded once), the DDI text CNN, FP2VEC on the
fingerprint words of solubility-sized molecules and DeepConv-DTI on the same Davis block
batches as DeepDTA, the DDI hybrids (BiGRU then convolutions, SGRU-CNN-style;
convolutions then BiGRU and attention, RHCNN-style) and the BiRen-style enhancer CNN + BiGRU
(their peers' GRUs read each row's length, as the JAX ones do). Each pgx_jax
step is the one `pgx_jax.train.loop.fit` runs (same jit, shardings and donated state) on the
model's default config, fed one random batch that already lives on the devices, so the
numbers cover the step alone, not the input pipeline. Every runner (each model's JAX step,
its PyTorch peers, and a matmul) is timed in turn within each repeat, so all see the
same machine load; rates are medians over the repeats. On a GPU the peers run on CUDA
(`--torch-device`), and float32 means TF32 matmuls and convolutions in both frameworks (JAX's
default precision there; PyTorch is set to match).
"""

import argparse
import dataclasses
import datetime
import functools
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from configs.binding import deepbind as deepbind_config
from configs.ddi import textcnn as textcnn_config
from configs.dti import deepconv_dti as deepconv_dti_config
from configs.dti import deepdta as deepdta_config
from configs.dti import solubility as solubility_config
from configs.regulatory import enhancer as enhancer_config
from pgx_jax import parallel
from pgx_jax.models import create_model
from pgx_jax.train import steps
from pgx_jax.train.optim import make_optimizer
from pgx_jax.train.state import create_train_state

INSTALL_TORCH = "pip install -e '.[benchmark]'"
MODELS = (
    "deepbind",
    "deepdta_naive",
    "deepdta",
    "textcnn",
    "fp2vec",
    "deepconv_dti",
    "sgru_cnn",
    "rhcnn",
    "biren",
)
DDI_VOCABULARY = 4342
"""Words in the DDI-2013 training vocabulary (configs/ddi/textcnn.py, min_count 1)."""
DDI_LENGTH = 64
"""Tokens per DDI batch: the length bucket (multiple of 32) of the median training sentence."""
DAVIS_BLOCK_ROWS = (72, 8)
"""Distinct drugs and proteins in every Davis block batch of 256 pairs (setting 1, fold 0):
68 drugs and 4-5 proteins, padded to multiples of 8."""
TOTAL_STEPS = 10_000
"""Schedule length given to both optimisers (only the text CNN's cosine decay uses it)."""
ACCELERATOR_STEPS = 10
"""Factor on the default steps per repeat on an accelerator, where a step takes milliseconds."""


@dataclasses.dataclass
class Case:
    """One model to time: its config, model, a host batch and what a row of the batch is."""

    name: str
    title: str
    config: ml_collections.ConfigDict
    model: object
    task: str
    batch: dict
    unit: str
    steps: int
    peer: str


def random_batch(batch_size: int, length: int, seed: int = 0) -> dict:
    """A DeepBind host batch in the training pipeline's format: one-hot x, all-true mask."""
    rng = np.random.default_rng(seed)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (batch_size, length))]
    return {
        "inputs": {"x": x, "mask": np.ones((batch_size, length), bool)},
        "label": rng.integers(0, 2, batch_size).astype(np.float32),
        "weight": np.ones(batch_size, np.float32),
    }


def deepdta_batch(
    config: ml_collections.ConfigDict, batch_size: int, factorised: bool, seed: int = 0
) -> dict:
    """A DeepDTA batch of `batch_size` pairs with random full-length tokens.

    Naive: one drug and one protein row per pair. Factorised: the rows of a Davis block batch
    (`DAVIS_BLOCK_ROWS`), each pair indexing one drug and one protein row.
    """
    rng = np.random.default_rng(seed)
    drugs, proteins = DAVIS_BLOCK_ROWS if factorised else (batch_size, batch_size)
    if factorised:
        drug_index = rng.integers(0, drugs, batch_size).astype(np.int32)
        protein_index = np.sort(rng.integers(0, proteins, batch_size)).astype(np.int32)
    else:
        drug_index = protein_index = np.arange(batch_size, dtype=np.int32)
    data, model = config.data, config.model
    return {
        "inputs": {
            "drug_tokens": rng.integers(1, model.smiles_vocab, (drugs, data.smiles_length)),
            "protein_tokens": rng.integers(1, model.protein_vocab, (proteins, data.protein_length)),
            "drug_index": drug_index,
            "protein_index": protein_index,
        },
        "label": rng.normal(6.0, 1.0, batch_size).astype(np.float32),
        "weight": np.ones(batch_size, np.float32),
    }


def fingerprint_words(rng: np.random.Generator, rows: int, bits: int, length: int) -> np.ndarray:
    """Random FP2VEC words [rows, length]: 30-74 distinct set bits + 1 per row (ECFP4 of the
    solubility and Davis molecules sets 5-78), increasing, zero-padded."""
    words = np.zeros((rows, length), np.int32)
    for row in range(rows):
        count = int(rng.integers(30, 75))
        words[row, :count] = np.sort(rng.choice(bits, count, replace=False)) + 1
    return words


def fp2vec_batch(config: ml_collections.ConfigDict, batch_size: int, seed: int = 0) -> dict:
    """An FP2VEC batch: random fingerprint words, log S-like labels."""
    rng = np.random.default_rng(seed)
    words = fingerprint_words(rng, batch_size, config.model.bits, config.data.fingerprint_length)
    return {
        "inputs": {"tokens": words},
        "label": rng.normal(-3.0, 2.0, batch_size).astype(np.float32),
        "weight": np.ones(batch_size, np.float32),
    }


def deepconv_dti_batch(config: ml_collections.ConfigDict, batch_size: int, seed: int = 0) -> dict:
    """DeepConv-DTI on a Davis block batch: `deepdta_batch`'s rows and pairs, each drug row
    its fingerprint words, binary labels."""
    batch = deepdta_batch(deepdta_config.get_config("davis"), batch_size, True, seed)
    rng = np.random.default_rng(seed)
    drugs = batch["inputs"]["drug_tokens"].shape[0]
    words = fingerprint_words(rng, drugs, config.model.bits, config.data.fingerprint_length)
    batch["inputs"]["drug_tokens"] = words
    batch["label"] = (rng.random(batch_size) < 0.1).astype(np.float32)
    return batch


def textcnn_batch(
    config: ml_collections.ConfigDict, batch_size: int, length: int, seed: int = 0
) -> dict:
    """A DDI batch: random word ids, relative positions of two drugs, all-true mask."""
    rng = np.random.default_rng(seed)
    positions = np.arange(length)
    distance = config.model.max_distance

    def relative(targets: np.ndarray) -> np.ndarray:
        return np.clip(positions - targets[:, None], -distance, distance) + distance + 1

    e1 = rng.integers(0, length // 2, batch_size)
    e2 = rng.integers(length // 2, length, batch_size)
    return {
        "inputs": {
            "tokens": rng.integers(1, DDI_VOCABULARY, (batch_size, length)).astype(np.int32),
            "pos1": relative(e1).astype(np.int32),
            "pos2": relative(e2).astype(np.int32),
            "mask": np.ones((batch_size, length), bool),
        },
        "label": rng.integers(0, config.model.num_outputs, batch_size).astype(np.int32),
        "weight": np.ones(batch_size, np.float32),
    }


def make_case(name: str, batch_size: int, steps_override: int | None, dtype: str) -> Case:
    """The model, default config and batch of one benchmark case; the model computes in
    `dtype` with float32 parameters (what `train.compute_dtype` does in training)."""
    if name == "deepbind":
        config = deepbind_config.get_config()
        length = config.data.length
        case = Case(
            name,
            f"DeepBind, {length} bp one-hot",
            config,
            create_model(**config.model),
            "binary",
            random_batch(batch_size, length),
            "seq",
            100,
            "deepbind",
        )
    elif name in ("deepdta", "deepdta_naive"):
        config = deepdta_config.get_config("davis")
        factorised = name == "deepdta"
        title = (
            "DeepDTA, factorised Davis block batches "
            f"({DAVIS_BLOCK_ROWS[0]} drug + {DAVIS_BLOCK_ROWS[1]} protein rows)"
            if factorised
            else "DeepDTA, naive pair batches (a drug and a protein per pair)"
        )
        case = Case(
            name,
            title,
            config,
            create_model(**config.model),
            "regression",
            deepdta_batch(config, batch_size, factorised),
            "pairs",
            20 if factorised else 2,
            "deepdta",
        )
    elif name == "textcnn":
        config = textcnn_config.get_config()
        model = create_model(
            **config.model, vocab_size=DDI_VOCABULARY, embed_dim=config.words.dim, num_channels=1
        )
        case = Case(
            name,
            f"DDI text CNN, {DDI_LENGTH} tokens",
            config,
            model,
            "multiclass",
            textcnn_batch(config, batch_size, DDI_LENGTH),
            "sentences",
            10,
            "textcnn",
        )
    elif name == "fp2vec":
        config = solubility_config.get_config("fp2vec")
        case = Case(
            name,
            f"FP2VEC, {config.data.fingerprint_length} fingerprint words",
            config,
            create_model(**config.model),
            "regression",
            fp2vec_batch(config, batch_size),
            "molecules",
            20,
            "fp2vec",
        )
    elif name == "deepconv_dti":
        config = deepconv_dti_config.get_config()
        case = Case(
            name,
            f"DeepConv-DTI, factorised Davis block batches ({DAVIS_BLOCK_ROWS[0]} drug + "
            f"{DAVIS_BLOCK_ROWS[1]} protein rows)",
            config,
            create_model(**config.model),
            "binary",
            deepconv_dti_batch(config, batch_size),
            "pairs",
            20,
            "deepconv_dti",
        )
    elif name in ("sgru_cnn", "rhcnn"):
        config = textcnn_config.get_config(name)
        model = create_model(
            **config.model, vocab_size=DDI_VOCABULARY, embed_dim=config.words.dim, num_channels=1
        )
        order = "BiGRU then convolutions" if name == "sgru_cnn" else "convolutions then BiGRU"
        batch = textcnn_batch(config, batch_size, DDI_LENGTH)
        case = Case(
            name,
            f"DDI {order}, {DDI_LENGTH} tokens",
            config,
            model,
            "multiclass",
            batch,
            "sentences",
            5,
            name,
        )
    elif name == "biren":
        config = enhancer_config.get_config("biren")
        batch = random_batch(batch_size, 200)
        title = "BiRen-style CNN + BiGRU, 200 bp one-hot"
        case = Case(
            name, title, config, create_model(**config.model), "binary", batch, "seq", 10, name
        )
    else:
        raise ValueError(f"unknown model {name!r}; known: {MODELS}")
    if steps_override:
        case.steps = steps_override
    elif jax.default_backend() != "cpu":
        case.steps *= ACCELERATOR_STEPS
    if dtype != "float32":
        case.model = case.model.clone(dtype=jnp.dtype(dtype))
    return case


def xla_flops(compiled: jax.stages.Compiled) -> float:
    """FLOPs in XLA's cost analysis of a compiled computation (a dict, or a list of them)."""
    analysis = compiled.cost_analysis()
    if isinstance(analysis, dict):
        analysis = [analysis]
    return float(sum(module.get("flops", 0.0) for module in analysis))


def analytic_flops(
    batch_size: int, length: int, filters: int, width: int, hidden: int
) -> dict[str, float]:
    """DeepBind's multiply-add FLOPs (2 per MAC) of the convolution and dense layers in a step.

    Backward is 2x forward (input and weight gradients) for the dense layers but 1x for the
    convolution, whose input is data and needs no gradient; the usual 3x-forward rule would
    overcount the step by half the convolution.
    """
    conv = 2.0 * batch_size * (length - width + 1) * width * 4 * filters
    dense = 2.0 * batch_size * (filters * hidden + hidden)
    return {"conv_forward": conv, "dense_forward": dense, "step": 2.0 * conv + 3.0 * dense}


def single_device_mesh(device: jax.Device) -> jax.sharding.Mesh:
    """A 1 x 1 mesh with the trainer's axis names over one device."""
    return jax.make_mesh(
        (1, 1),
        (parallel.DATA_AXIS, parallel.MODEL_AXIS),
        devices=[device],
        axis_types=(jax.sharding.AxisType.Auto,) * 2,
    )


def compiled_step(case: Case, mesh: jax.sharding.Mesh) -> tuple[Callable, object, dict, float]:
    """The jitted train step on `mesh`, its initial state and device batch, and XLA's FLOPs of
    the whole step (XLA counts one device's share; this multiplies by the mesh)."""
    tx = make_optimizer(case.config.optimizer, total_steps=TOTAL_STEPS)
    replicated = parallel.replicated(mesh)
    batch = jax.device_put(case.batch, parallel.data_sharded(mesh))
    state = jax.jit(
        lambda inputs: create_train_state(case.model, tx, inputs, case.config.seed),
        out_shardings=replicated,
    )(batch["inputs"])
    train_fn = jax.jit(
        functools.partial(steps.train_step, task=case.task),
        in_shardings=(replicated, parallel.data_sharded(mesh)),
        out_shardings=(replicated, replicated),
        donate_argnums=0,
    )
    flops = xla_flops(train_fn.lower(state, batch).compile()) * mesh.size
    return train_fn, state, batch, flops


def jax_train_runner(
    case: Case, num_steps: int, mesh: jax.sharding.Mesh | None = None
) -> tuple[Callable[[], None], float, Callable[[], dict]]:
    """A warmed-up callable running `num_steps` train steps, the FLOPs per step, and a callable
    returning the current parameters.

    The FLOPs come from XLA's cost analysis of the step compiled for the CPU: on GPUs it leaves
    out the convolutions, which run as cuDNN calls (it gave DeepBind 0.008 of its 0.12 GFLOP).
    """
    mesh = mesh or parallel.make_mesh(case.config.mesh)
    train_fn, state, batch, flops = compiled_step(case, mesh)
    if jax.default_backend() != "cpu":
        flops = compiled_step(case, single_device_mesh(jax.devices("cpu")[0]))[3]

    def run() -> None:
        nonlocal state
        for _ in range(num_steps):
            state, metrics = train_fn(state, batch)
        jax.block_until_ready((state, metrics))

    run()
    return run, flops, lambda: jax.device_get(state.params)


def matmul_runner(size: int, calls: int, dtype: str) -> Callable[[], None]:
    """A warmed-up callable doing `calls` size x size matmuls on one device in `dtype` at the
    default precision, the one the models' own matmuls get (float32 on a CPU; TF32 for
    float32 on recent NVIDIA GPUs)."""
    a, b = (
        jax.random.normal(k, (size, size), jnp.dtype(dtype))
        for k in jax.random.split(jax.random.PRNGKey(0))
    )
    dot = jax.jit(jnp.dot)

    def run() -> None:
        for _ in range(calls):
            out = dot(a, b)
        jax.block_until_ready(out)

    run()
    return run


def recurrent_peer_fields(case: Case) -> dict:
    """The PyTorch hybrid's constructor arguments from the case's model config."""
    model = case.config.model
    if case.peer == "biren":
        keys = ("num_filters", "filter_width", "pool_size", "cell", "rnn_hidden")
        keys += ("attention_dim", "hidden", "dropout_rate")
        return {"channels": 4, **{key: model[key] for key in keys}}
    return {
        "vocab_size": DDI_VOCABULARY,
        "embed_dim": case.config.words.dim,
        "max_distance": model.max_distance,
        "position_dim": model.position_dim,
        "window_sizes": tuple(model.window_sizes),
        "num_filters": model.num_filters,
        "dropout_rate": model.dropout_rate,
        "num_outputs": model.num_outputs,
        "order": model.order,
        "rnn_hidden": model.rnn_hidden,
        "attention_dim": model.attention_dim,
    }


def torch_runner(
    case: Case, threads: int, compile_model: bool, device: str, dtype: str
) -> Callable[[], None]:
    """The case's PyTorch peer on `device` computing in `dtype`, warmed up (compiled first,
    with `compile_model`)."""
    from peers import (
        deepbind_torch,
        deepconv_dti_torch,
        deepdta_torch,
        fp2vec_torch,
        recurrent_torch,
        textcnn_torch,
    )

    placement = {"compile_model": compile_model, "device": device, "dtype": dtype}
    if case.peer == "deepbind":
        return deepbind_torch.train_runner(
            case.batch["inputs"]["x"],
            case.batch["label"],
            steps=case.steps,
            threads=threads,
            **placement,
        )
    if case.peer == "deepdta":
        keys = (
            "smiles_vocab",
            "protein_vocab",
            "embed_dim",
            "num_filters",
            "smiles_kernel",
            "protein_kernel",
            "hidden",
            "dropout_rate",
        )
        return deepdta_torch.train_runner(
            case.batch,
            {key: case.config.model[key] for key in keys},
            steps=case.steps,
            threads=threads,
            learning_rate=case.config.optimizer.learning_rate,
            **placement,
        )
    if case.peer in ("fp2vec", "deepconv_dti"):
        peer = fp2vec_torch if case.peer == "fp2vec" else deepconv_dti_torch
        fields = {key: case.config.model[key] for key in case.config.model if key != "name"}
        fields.pop("task", None)
        return peer.train_runner(
            case.batch,
            {key: tuple(v) if isinstance(v, list | tuple) else v for key, v in fields.items()},
            steps=case.steps,
            threads=threads,
            learning_rate=case.config.optimizer.learning_rate,
            **placement,
        )
    if case.peer in ("sgru_cnn", "rhcnn", "biren"):
        return recurrent_torch.train_runner(
            case.batch,
            recurrent_peer_fields(case),
            text=case.peer != "biren",
            steps=case.steps,
            threads=threads,
            total_steps=TOTAL_STEPS,
            learning_rate=case.config.optimizer.learning_rate,
            grad_clip_norm=case.config.optimizer.get("grad_clip_norm"),
            **placement,
        )
    model = case.config.model
    return textcnn_torch.train_runner(
        case.batch,
        {
            "vocab_size": DDI_VOCABULARY,
            "embed_dim": case.config.words.dim,
            "max_distance": model.max_distance,
            "position_dim": model.position_dim,
            "window_sizes": tuple(model.window_sizes),
            "num_filters": model.num_filters,
            "dropout_rate": model.dropout_rate,
            "num_outputs": model.num_outputs,
        },
        steps=case.steps,
        threads=threads,
        total_steps=TOTAL_STEPS,
        learning_rate=case.config.optimizer.learning_rate,
        grad_clip_norm=case.config.optimizer.grad_clip_norm,
        **placement,
    )


def time_in_turn(
    runners: dict[str, Callable[[], None]], repeats: int, progress: bool = False
) -> dict[str, np.ndarray]:
    """Wall times of each runner over `repeats` rounds, all timed in turn within every round.

    With `progress`, each finished round is reported on stderr.
    """
    times: dict[str, list[float]] = {name: [] for name in runners}
    start_all = time.perf_counter()
    for repeat in range(repeats):
        for name, run in runners.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
        if progress:
            print(
                f"repeat {repeat + 1}/{repeats} done after {time.perf_counter() - start_all:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    return {name: np.asarray(values) for name, values in times.items()}


def write_record(path: str, info: dict, results: dict) -> None:
    """The run's results as JSON with the date, the command and the machine."""
    record = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(["python", *sys.argv]),
        "machine": info,
        **results,
    }
    with open(path, "w") as f:
        json.dump(record, f, indent=2)
    print(f"wrote {path}")


def machine() -> dict:
    """Processor, accelerator kind, core count and load average, for citing the numbers."""
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
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
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


def _fmt_rate(rate: tuple[float, float, float], unit: str) -> str:
    return f"{rate[0]:,.0f} {unit}/s (range {rate[1]:,.0f}-{rate[2]:,.0f})"


def _peer_label(peer: str) -> str:
    """'eager_2t' -> 'eager, 2 threads'."""
    mode, count = peer.split("_")
    return f"{mode}, {count[:-1]} thread{'s' if count != '1t' else ''}"


def devices_worker(batch_size: int, num_steps: int, repeats: int, check_steps: int) -> None:
    """In a process with several host devices: DeepBind on a 1-device and an all-device mesh,
    timed in turn, and both meshes' parameters after `check_steps` steps from the same start.
    Prints one JSON line."""
    case = make_case("deepbind", batch_size, num_steps, "float32")
    meshes = {
        "one": single_device_mesh(jax.devices()[0]),
        "all": parallel.make_mesh(case.config.mesh),
    }
    runners, params = {}, {}
    for name, mesh in meshes.items():
        _, _, get_params = jax_train_runner(case, check_steps, mesh)
        params[name] = get_params()  # after the warm-up call: check_steps steps
        runners[name] = jax_train_runner(case, num_steps, mesh)[0]
    seconds = time_in_turn(runners, repeats)
    flat = {
        name: np.concatenate([np.ravel(x) for x in jax.tree.leaves(p)])
        for name, p in params.items()
    }
    print(
        json.dumps(
            {
                "devices": jax.device_count(),
                "rates": {name: _rate(num_steps * batch_size, s) for name, s in seconds.items()},
                "params_all_devices": flat["all"].tolist(),
                "max_abs_difference_in_process": float(np.max(np.abs(flat["all"] - flat["one"]))),
            }
        )
    )


def devices_comparison(devices: int, batch_size: int, repeats: int) -> dict:
    """DeepBind on `devices` host devices against one: run `devices_worker` in a subprocess
    with XLA_FLAGS forcing the device count, and compare its parameters with this process's."""
    check_steps = 20
    env = {
        **os.environ,
        "XLA_FLAGS": f"{os.environ.get('XLA_FLAGS', '')} "
        f"--xla_force_host_platform_device_count={devices}".strip(),
    }
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--devices-worker",
        "--batch-size",
        str(batch_size),
        "--repeats",
        str(repeats),
        "--check-steps",
        str(check_steps),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = [line for line in done.stderr.splitlines() if "WARNING" not in line][:4]
        return {"error": f"worker exited with {done.returncode}: " + " | ".join(tail)}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    _, _, get_params = jax_train_runner(
        make_case("deepbind", batch_size, None, "float32"), check_steps
    )
    here = np.concatenate([np.ravel(x) for x in jax.tree.leaves(get_params())])
    there = np.asarray(result.pop("params_all_devices"))
    result["max_abs_difference_vs_one_device_process"] = float(np.max(np.abs(here - there)))
    result["within_tolerance"] = bool(np.allclose(there, here, rtol=1e-4, atol=1e-5))
    result["check_steps"] = check_steps
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", nargs="+", choices=[*MODELS, "all"], default=["all"])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument(
        "--dtype",
        choices=["float32", "bfloat16"],
        default="float32",
        help="compute precision of every model and peer (parameters and loss stay float32)",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=0,
        help="train steps per timed repeat; 0: per model (100 DeepBind, "
        "2 naive DeepDTA, 20 factorised DeepDTA, 10 text CNN; 10x that on accelerators)",
    )
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--matmul-size",
        type=int,
        default=0,
        help="matmul side; 0: 2048 on CPU, 8192 on accelerators",
    )
    parser.add_argument("--peer", choices=["torch"], help="also time the PyTorch peers (eager)")
    parser.add_argument(
        "--compile",
        action="store_true",
        help="also time the peers under torch.compile (on the first --torch-threads count)",
    )
    parser.add_argument(
        "--torch-threads",
        type=int,
        nargs="+",
        help="intra-op thread counts of the eager peers, each timed (default: the CPU count)",
    )
    parser.add_argument(
        "--torch-device",
        choices=["cpu", "cuda"],
        help="where the peers run (default: cuda if JAX runs on a GPU and PyTorch sees one)",
    )
    parser.add_argument(
        "--devices",
        type=int,
        default=0,
        help="also time DeepBind on this many host devices (a subprocess)",
    )
    parser.add_argument("--json", help="write the numbers, date and machine to this file")
    parser.add_argument("--devices-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--check-steps", type=int, default=20, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    if args.devices_worker:
        devices_worker(args.batch_size, args.steps or 100, args.repeats, args.check_steps)
        return

    info = machine()
    print(
        f"machine: {info['processor']} | {info['devices']} x {info['device_kind']} | "
        f"{info['cpu_count']} CPUs | jax {info['jax']} | load average "
        + " ".join(f"{x:.2f}" for x in info["load_average"] or [])
    )
    if args.devices:
        # First, before PyTorch has run here: with it, the worker's collectives stalled.
        comparison = devices_comparison(args.devices, args.batch_size, args.repeats)
    names = MODELS if "all" in args.model else tuple(m for m in MODELS if m in args.model)
    cases = [make_case(name, args.batch_size, args.steps or None, args.dtype) for name in names]
    info["dtype"] = args.dtype
    runners: dict[str, Callable[[], None]] = {}
    flops: dict[str, float] = {}
    for case in cases:
        runners[f"{case.name}/jax"], flops[case.name], _ = jax_train_runner(case, case.steps)
    size = args.matmul_size or (2048 if jax.default_backend() == "cpu" else 8192)
    matmul_calls = 4
    runners["matmul"] = matmul_runner(size, matmul_calls, args.dtype)
    torch_missing = args.peer == "torch" and importlib.util.find_spec("torch") is None
    peers = []
    if args.peer == "torch" and not torch_missing:
        import torch

        info["torch"] = torch.__version__
        gpu = jax.default_backend() == "gpu" and torch.cuda.is_available()
        torch_device = args.torch_device or ("cuda" if gpu else "cpu")
        info["torch_device"] = torch_device
        if torch_device == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
            info["torch_gpu"] = torch.cuda.get_device_name()
        threads = args.torch_threads or [os.cpu_count() or 1]
        info["torch_threads"] = threads
        peers = [f"eager_{t}t" for t in threads] + ([f"compiled_{threads[0]}t"] * args.compile)
        for case in cases:
            for peer in peers:
                print(
                    f"preparing the {peer} PyTorch peer of {case.name}", file=sys.stderr, flush=True
                )
                start = time.perf_counter()
                mode, count = peer.split("_")
                runners[f"{case.name}/torch {peer}"] = torch_runner(
                    case, int(count[:-1]), mode == "compiled", torch_device, args.dtype
                )
                if mode == "compiled":
                    info[f"torch_compile_seconds/{case.name}"] = time.perf_counter() - start
    busy, own, wall = busy_cpu_seconds(), time.process_time(), time.perf_counter()
    seconds = time_in_turn(runners, args.repeats, progress=True)
    if busy is not None:
        others = busy_cpu_seconds() - busy - (time.process_time() - own)
        info["other_processes_cores"] = max(0.0, others / (time.perf_counter() - wall))
    info["load_average_after"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None

    peak = _rate(matmul_calls * 2.0 * size**3, seconds["matmul"])
    ceiling = peak[0] * info["devices"]
    print(
        f"{args.dtype} matmul {size}x{size}: {peak[0] / 1e9:,.1f} GFLOP/s per device "
        f"(range {peak[1] / 1e9:,.1f}-{peak[2] / 1e9:,.1f})"
    )
    results: dict = {
        "batch_size": args.batch_size,
        "dtype": args.dtype,
        "repeats": args.repeats,
        "matmul_size": size,
        "matmul_flops_per_second": peak[0],
        "matmul_flops_per_second_range": [peak[1], peak[2]],
        "models": {},
    }
    table = []
    for case in cases:
        work = case.steps * args.batch_size
        jax_rate = _rate(work, seconds[f"{case.name}/jax"])
        achieved = flops[case.name] * jax_rate[0] / args.batch_size
        record = {
            "title": case.title,
            "unit": case.unit,
            "steps": case.steps,
            "jax_per_second": jax_rate[0],
            "jax_per_second_range": jax_rate[1:],
            "xla_flops_per_step": flops[case.name],
            "achieved_flops_per_second": achieved,
            "fraction_of_matmul_rate": achieved / ceiling,
        }
        rows = [("pgx_jax", _fmt_rate(jax_rate, case.unit))]
        for peer in peers:
            rate = _rate(work, seconds[f"{case.name}/torch {peer}"])
            record[f"torch_{peer}_per_second"] = rate[0]
            record[f"torch_{peer}_per_second_range"] = rate[1:]
            record[f"jax_over_torch_{peer}"] = jax_rate[0] / rate[0]
            rows.append(
                (f"PyTorch {info['torch']} {_peer_label(peer)}", _fmt_rate(rate, case.unit))
            )
        if peers:
            best = max(peers, key=lambda p: record[f"torch_{p}_per_second"])
            record["best_torch"] = best
            ratios = ", ".join(
                f"{record[f'jax_over_torch_{p}']:.2f}x vs {_peer_label(p)}" for p in peers
            )
            rows.append(("pgx_jax / PyTorch", f"{ratios} (best: {_peer_label(best)})"))
        elif torch_missing:
            rows.append(("PyTorch peer", f"skipped: torch is not installed ({INSTALL_TORCH})"))
        rows += [
            ("FLOPs/step, XLA cost analysis", f"{flops[case.name] / 1e9:,.3f} G"),
            (
                "achieved (XLA FLOPs x steps/s)",
                f"{achieved / 1e9:,.1f} GFLOP/s = {achieved / ceiling:.1%} of the matmul rate",
            ),
        ]
        if case.name == "deepbind":
            model = case.config.model
            analytic = analytic_flops(
                args.batch_size,
                case.config.data.length,
                model.num_filters,
                model.filter_width,
                model.hidden,
            )
            record["analytic_flops_per_step"] = analytic["step"]
            rows.append(
                (
                    "FLOPs/step, analytic",
                    f"{analytic['step'] / 1e9:,.3f} G = 2 x conv "
                    f"{analytic['conv_forward'] / 1e6:,.1f} M + 3 x dense "
                    f"{analytic['dense_forward'] / 1e6:,.2f} M",
                )
            )
        if case.name == "deepdta" and "deepdta_naive" in names and peers:
            naive = results["models"]["deepdta_naive"]
            best_naive = naive[f"torch_{naive['best_torch']}_per_second"]
            record["factorised_jax_over_naive_torch"] = jax_rate[0] / best_naive
            record["factorised_over_naive_jax"] = jax_rate[0] / naive["jax_per_second"]
            rows.append(
                (
                    "factorised pgx_jax / naive PyTorch",
                    f"{jax_rate[0] / best_naive:,.1f}x (different algorithms: what pair "
                    "batching buys)",
                )
            )
        results["models"][case.name] = record
        width = max(len(name) for name, _ in rows)
        print(
            f"\n== {case.title} (batch {args.batch_size}, {case.steps} steps x "
            f"{args.repeats} repeats)"
        )
        print("\n".join(f"  {name:<{width}}  {value}" for name, value in rows))
        table.append(record)

    if args.devices:
        results["devices"] = comparison
        print(
            f"\n== DeepBind on {args.devices} host devices (subprocess, "
            f"XLA_FLAGS=--xla_force_host_platform_device_count={args.devices})"
        )
    if args.devices and "error" in comparison:
        print(f"  failed: {comparison['error']}")
    elif args.devices:
        one, many = comparison["rates"]["one"], comparison["rates"]["all"]
        print(f"  1-device mesh          {_fmt_rate(one, 'seq')}")
        print(
            f"  {comparison['devices']}-device mesh          {_fmt_rate(many, 'seq')} "
            f"({many[0] / one[0]:.2f}x)"
        )
        print(
            f"  parameters after {comparison['check_steps']} steps: max |difference| "
            f"{comparison['max_abs_difference_vs_one_device_process']:.2e} vs a 1-device "
            f"process, {comparison['max_abs_difference_in_process']:.2e} vs the 1-device "
            f"mesh; within rtol 1e-4, atol 1e-5: {comparison['within_tolerance']}"
        )

    if peers:
        print(
            "\n| model | pgx_jax | PyTorch "
            + " | PyTorch ".join(_peer_label(p) for p in peers)
            + " | pgx_jax / best PyTorch | FLOPs/step | GFLOP/s | of matmul rate |"
        )
        print("| --- " * (7 + len(peers) - 1) + "|")
        for record in table:
            cells = [f"{record['jax_per_second']:,.0f} {record['unit']}/s"]
            cells += [f"{record[f'torch_{p}_per_second']:,.0f}" for p in peers]
            cells += [
                f"{record['jax_over_torch_' + record['best_torch']]:.2f}x",
                f"{record['xla_flops_per_step'] / 1e9:,.2f} G",
                f"{record['achieved_flops_per_second'] / 1e9:,.1f}",
                f"{record['fraction_of_matmul_rate']:.1%}",
            ]
            print(f"| {record['title']} | " + " | ".join(cells) + " |")
    if "other_processes_cores" in info:
        print(
            f"\nother processes during timing: {info['other_processes_cores']:.2f} of "
            f"{info['cpu_count']} cores (more than ~0.1: numbers are contended); load average "
            "after: " + " ".join(f"{x:.2f}" for x in info["load_average_after"] or [])
        )
    if args.json:
        write_record(args.json, info, results)


if __name__ == "__main__":
    main()
