"""DeepLIFT/DeepSHAP of pgx_jax against tangermeme's `deep_lift_shap` on one trained DeepBind.

  python benchmarks/deeplift_vs_tangermeme.py --workdir runs/default
  python benchmarks/deeplift_vs_tangermeme.py --workdir runs/default --sequences 500 --repeats 3

Needs the benchmark extra (`pip install -e '.[benchmark]'`: torch, tangermeme). The PyTorch
DeepBind is built from `nn.Conv1d`, `nn.ReLU`, `nn.MaxPool1d` (over every position: global max
pooling) and `nn.Linear` modules, the modules whose backward hooks carry tangermeme's rules,
and gets the run's trained weights. Both explain the same test-split sequences (positives
first) against the same dinucleotide shuffles (`deeplift.shuffled_references`, 20 each) and
return hypothetical contributions averaged over the references; the script prints their
Pearson correlation and largest difference, and attributions (sequences explained) per
second of each, timed in turn (`--repeats`, medians): pgx_jax's jitted call (compiled before
timing) and tangermeme at its default `batch_size` of 32 pairs and at 640 pairs. Only for a
run trained without reverse complement and with `pooling="max"` (the default config's).
"""

import argparse
import statistics
import time

import jax
import numpy as np
import torch
from tangermeme.deep_lift_shap import deep_lift_shap as tangermeme_deep_lift_shap
from train_throughput import machine

from pgx_jax.commands.motifs import scanned_sequences
from pgx_jax.interpret import deeplift
from pgx_jax.interpret.mutagenesis import model_score_fn
from pgx_jax.runs import load_run


def torch_deepbind(params: dict, length: int) -> torch.nn.Module:
    """The run's DeepBind as PyTorch modules, with its weights (Flax kernels transposed)."""
    conv = params["motif_conv"]["conv"]
    width, _, filters = conv["kernel"].shape
    hidden = params["hidden"]["kernel"].shape[1]
    model = torch.nn.Sequential(
        torch.nn.Conv1d(4, filters, width),
        torch.nn.ReLU(),
        torch.nn.MaxPool1d(length - width + 1),
        torch.nn.Flatten(),
        torch.nn.Linear(filters, hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, 1),
    )
    pairs = [
        (model[0], conv["kernel"].transpose(2, 1, 0), conv["bias"]),
        (model[4], params["hidden"]["kernel"].T, params["hidden"]["bias"]),
        (model[6], params["head"]["dense"]["kernel"].T, params["head"]["dense"]["bias"]),
    ]
    with torch.no_grad():
        for layer, weight, bias in pairs:
            layer.weight.copy_(torch.from_numpy(np.array(weight, np.float32)))
            layer.bias.copy_(torch.from_numpy(np.array(bias, np.float32)))
    return model.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--sequences", type=int, default=200)
    parser.add_argument("--shuffles", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    run = load_run(args.workdir)
    if run.config.model.name != "deepbind" or run.config.model.reverse_complement:
        raise SystemExit("needs a DeepBind run without reverse complement")
    batch, labels = scanned_sequences(run, None, 20000)
    order = np.argsort(-np.asarray(labels).reshape(len(labels)), kind="stable")
    x = np.asarray(batch["inputs"]["x"], np.float32)[order[: args.sequences]]
    refs = deeplift.shuffled_references(x, args.shuffles, seed=0)
    score_fn = model_score_fn(run.predictor.model, run.variables, {"x": x[:1]})
    model = torch_deepbind(jax.device_get(run.variables["params"]), x.shape[1])
    x_t = torch.from_numpy(x.transpose(0, 2, 1).copy())
    refs_t = torch.from_numpy(refs.transpose(0, 1, 3, 2).copy())

    def ours():
        return deeplift.deep_lift_shap(score_fn, x, refs)

    def theirs(batch_size):
        out = tangermeme_deep_lift_shap(
            model, x_t, references=refs_t, hypothetical=True, batch_size=batch_size,
            device="cpu", warning_threshold=1e-3,
        )  # fmt: skip
        return out.numpy().transpose(0, 2, 1)

    runners = {"pgx_jax": ours, "tangermeme (32 pairs)": lambda: theirs(32)}
    runners["tangermeme (640 pairs)"] = lambda: theirs(640)
    results = {name: fn() for name, fn in runners.items()}  # warm-up, compiles pgx_jax
    a, b = results["pgx_jax"], results["tangermeme (32 pairs)"]
    pearson = np.corrcoef(a.ravel(), b.ravel())[0, 1]
    actual = np.corrcoef((a * x).sum(-1).ravel(), (b * x).sum(-1).ravel())[0, 1]
    print(f"{machine()}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{len(x)} sequences of {x.shape[1]} bp, {args.shuffles} shuffles each")
    print(f"hypothetical contributions: Pearson r {pearson:.6f}, max |diff| "
          f"{np.abs(a - b).max():.2e} (largest |value| {np.abs(b).max():.2e})")  # fmt: skip
    print(f"actual contributions per position: Pearson r {actual:.6f}")
    times = {name: [] for name in runners}
    for _ in range(args.repeats):
        for name, fn in runners.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["pgx_jax"])
    for name, values in times.items():
        seconds = statistics.median(values)
        print(f"{name}: {len(x) / seconds:,.1f} sequences/s ({seconds:.2f} s; "
              f"pgx_jax {seconds / base:.1f}x as fast)")  # fmt: skip


if __name__ == "__main__":
    main()
