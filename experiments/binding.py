"""Binding domain (DeepBind and relatives): one-hot DNA/RNA in, binding probability out.

Data sets: `synthetic_motif` (the embedded default, a JASPAR motif planted in random DNA) and
`chipseq` (DeepBind's ENCODE ChIP-seq experiments, named by prefix in `config.data.experiment`).

Reverse-complement options (Cao & Zhang 2019's tricks, config switches): `model.reverse_complement`
shares filters across strands (max over strands); `data.rc_augment` adds the reverse complement of
every training sequence; `data.rc_average` scores a sequence at evaluation as the mean logit of
its two strands.
"""

import functools
import os

import flax.linen as nn
import jax
import ml_collections
import numpy as np

from pgx_jax.data import alphabets, lengths
from pgx_jax.data.augment import with_reverse_complements
from pgx_jax.data.builders import chipseq, synthetic_motif
from pgx_jax.data.jaspar import jaspar_matrix_id, jaspar_name
from pgx_jax.data.sources import take, text_values
from pgx_jax.errors import PgxError
from pgx_jax.experiment import Experiment, Finished, Predictor, label_column
from pgx_jax.interpret.filters import first_layer_activations, rank_filters
from pgx_jax.interpret.motifs import best_jaspar_matches, filter_pfms, trim_pfm
from pgx_jax.models import create_model

LOADERS = {"synthetic_motif": synthetic_motif.load, "chipseq": chipseq.load}


class StrandAverage(nn.Module):
    """Scores a sequence as the mean logit of its two strands at evaluation (Cao & Zhang 2019);
    trains on the strand it is given."""

    model: nn.Module

    def __call__(self, x: jax.Array, mask: jax.Array | None = None, train: bool = False):
        forward = self.model(x, mask, train=train)
        if train:
            return forward
        reverse = self.model(
            alphabets.reverse_complement_one_hot(x),
            None if mask is None else mask[..., ::-1],
            train=False,
        )
        return (forward + reverse) / 2


def encode_nucleotides(
    records: dict, *, alphabet: alphabets.Alphabet, length: int, unknown: str
) -> dict:
    """Raw records to one-hot inputs, mask and float labels."""
    x, mask = alphabets.one_hot(
        text_values(records["sequence"]),
        alphabet,
        length,
        unknown=unknown,
        names=text_values(records["id"]),
    )
    return {"inputs": {"x": x, "mask": mask}, "label": label_column(records)}


def motif_report(finished: Finished, *, planted: str | None, threshold: float = 0.5) -> dict:
    """Match the most discriminative first-layer filter against JASPAR; write `motifs.tsv`."""
    test = finished.experiment.splits["test"]
    predictor = finished.experiment.predictor
    batch = predictor.encode(take(test, np.arange(len(test))))
    x, labels = batch["inputs"]["x"], batch["label"]
    activations = first_layer_activations(predictor.model, finished.variables, x)
    filter_auroc = rank_filters(activations, labels)
    width = x.shape[1] - activations.shape[1] + 1
    pfms, counts = filter_pfms(x[labels > 0], activations[labels > 0], width, threshold)
    rows, results = [], {}
    for rank, f in enumerate(np.argsort(-filter_auroc)):
        motif = trim_pfm(pfms[f])
        match = best_jaspar_matches(motif, top=1)[0] if counts[f] and len(motif) else None
        rows.append((f, filter_auroc[f], counts[f], match))
        if rank == 0 and match is not None:
            results = {
                "motif/strongest_filter": int(f),
                "motif/strongest_filter_auroc": float(filter_auroc[f]),
                "motif/best_match": f"{match['matrix_id']} {match['name']}",
                "motif/best_match_score": float(match["score"]),
            }
    if jax.process_index() == 0:
        _write_motif_table(os.path.join(finished.workdir, "motifs.tsv"), rows)
    if planted:
        results["motif/planted"] = f"{jaspar_matrix_id(planted)} {jaspar_name(planted)}"
    return results


def _write_motif_table(path: str, rows: list) -> None:
    with open(path, "w") as f:
        f.write("filter\tauroc\tsites\tbest_match\tname\tscore\tstrand\toffset\n")
        for index, score, sites, m in rows:
            tail = (
                f"{m['matrix_id']}\t{m['name']}\t{m['score']:.3f}\t{m['strand']}\t{m['offset']}"
                if m
                else "\t\t\t\t"
            )
            f.write(f"{index}\t{score:.4f}\t{sites}\t{tail}\n")


def predictor(config: ml_collections.ConfigDict, fitted: dict) -> Predictor:
    """DeepBind-style model on one-hot DNA or RNA of `data.length` (nothing fitted)."""
    data = config.data
    model = create_model(**config.model)
    if data.get("rc_average", False):
        model = StrandAverage(model)
    encode = functools.partial(
        encode_nucleotides,
        alphabet=_alphabet(data),
        length=data.length,
        unknown=data.get("unknown", "uniform"),
    )
    return Predictor(
        model,
        "binary",
        encode,
        tuple(config.eval.metrics),
        input_lengths=lengths.letters({"sequence": data.length}),
    )


def _alphabet(data: ml_collections.ConfigDict) -> alphabets.Alphabet:
    return {"dna": alphabets.DNA, "rna": alphabets.RNA}[data.get("alphabet", "dna")]


def build(config: ml_collections.ConfigDict) -> Experiment:
    data = config.data
    if data.name not in LOADERS:
        raise PgxError(
            f"config.data.name: unknown binding data set {data.name!r}; known: {sorted(LOADERS)}"
        )
    splits = LOADERS[data.name](data)
    if data.get("rc_augment", False):
        splits = {**splits, "train": with_reverse_complements(splits["train"], _alphabet(data))}
    planted = data.get("motif_id") if data.name == "synthetic_motif" else None
    return Experiment(
        predictor(config, {}),
        splits,
        after_fit=functools.partial(motif_report, planted=planted),
    )
