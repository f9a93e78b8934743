"""`pgx predict-ddi --workdir RUN --input FILE [--output FILE]`: DDI relations of marked drugs.

Each input line is one sentence with its drug mentions in double brackets:

    [[Aspirin]] may increase the effect of [[warfarin]] ([[Coumadin]]).

Every pair of marked drugs in a line is scored by the trained text CNN of RUN (a run
directory of `configs/ddi/textcnn.py`, or one seed's directory of a protocol run). The output
is a TSV: line, drug1, drug2, predicted relation, the filter rule that forces "negative"
(as in training, if the run filtered), and the five class probabilities. With `--tuned` the
relation is called with the run's validation-tuned weight on the negative class
(`test/negative_weight` of its results.json) instead of the plain argmax.
"""

import json
import os
import re
import sys

import ml_collections
from absl import flags

from pgx_jax.commands.flags import parse
from pgx_jax.errors import PgxError

_MARK = re.compile(r"\[\[(.+?)\]\]")


def _define(flag_values: flags.FlagValues) -> None:
    flags.DEFINE_string(
        "workdir", None, "run directory of a DDI training run", flag_values=flag_values
    )
    flags.DEFINE_string(
        "input", None, "sentences with [[drug]] marks, one per line", flag_values=flag_values
    )
    flags.DEFINE_string(
        "output", None, "TSV output (default: standard output)", flag_values=flag_values
    )
    flags.DEFINE_bool(
        "tuned",
        False,
        "call relations with the run's validation-tuned negative-class weight",
        flag_values=flag_values,
    )


def marked_pairs(line: str, number: int, source: str) -> list:
    """The sentence without marks and one `ddi_corpus.Pair` per pair of marked drugs."""
    from pgx_jax.data.ddi_corpus import Entity, Pair

    entities, text, cursor = [], "", 0
    for n, match in enumerate(_MARK.finditer(line)):
        text += line[cursor : match.start()]
        name = match.group(1)
        entities.append(Entity(f"e{n}", ((len(text), len(text) + len(name)),), "drug", name))
        text += name
        cursor = match.end()
    text += line[cursor:]
    if "[[" in text or "]]" in text:
        raise PgxError(f"{source}: line {number}: unbalanced [[ ]] drug mark")
    if len(entities) < 2:
        return []
    pairs = []
    for i, e1 in enumerate(entities):
        for e2 in entities[i + 1 :]:
            others = tuple(e for e in entities if e not in (e1, e2))
            pairs.append(
                Pair(f"line{number}.{e1.id}.{e2.id}", "", "", text, e1, e2, others, "negative")
            )
    return pairs


def _load_run(workdir: str):
    """The model, its evaluation parameters, the vocabulary and the config of a DDI run."""
    import numpy as np

    from experiments.ddi import FROZEN_FILE, VOCABULARY_FILE, text_model
    from pgx_jax.checkpoint import load_state_tree, saved_eval_params
    from pgx_jax.data.vocab import Vocabulary

    config_path = os.path.join(workdir, "config.json")
    if not os.path.isfile(config_path):
        raise PgxError(f"{workdir}: no config.json (a protocol run keeps one per seed=N directory)")
    with open(config_path) as f:
        config = ml_collections.ConfigDict(json.load(f))
    if config.experiment != "ddi":
        raise PgxError(f"{config_path}: experiment is {config.experiment!r}, not 'ddi'")
    vocabulary_path = os.path.join(workdir, VOCABULARY_FILE)
    if not os.path.isfile(vocabulary_path):
        raise PgxError(f"{workdir}: no {VOCABULARY_FILE}; was the run finished?")
    vocabulary = Vocabulary.load(vocabulary_path)
    channels = len(config.words.channels)
    vectors = [
        np.load(os.path.join(workdir, FROZEN_FILE.format(c))) if c in config.words.frozen else None
        for c in range(channels)
    ]
    model = text_model(
        config.model.to_dict(),
        vocab_size=len(vocabulary),
        embed_dim=config.words.dim,
        num_channels=channels,
        init_vectors=tuple(vectors),
        frozen=tuple(config.words.frozen),
    )
    kind = "best" if os.path.isdir(os.path.join(workdir, "checkpoints", "best")) else "latest"
    _, state = load_state_tree(workdir, kind)
    return model, saved_eval_params(state), vocabulary, config


def _negative_weight(workdir: str) -> float:
    """The validation-tuned negative-class weight a finished run saved in results.json."""
    path = os.path.join(workdir, "results.json")
    results = {}
    if os.path.isfile(path):
        with open(path) as f:
            results = json.load(f)
    if "test/negative_weight" not in results:
        raise PgxError(
            f"{path}: no test/negative_weight; --tuned needs a finished run trained with "
            "config.eval.tune_negative_weight"
        )
    return float(results["test/negative_weight"])


def main(argv: list[str]) -> int:
    """Score every marked drug pair of the input sentences; write a TSV."""
    flag_values, _ = parse("predict-ddi", argv, _define, with_config=False)
    if not flag_values.workdir or not flag_values.input:
        raise PgxError("--workdir and --input are required")
    if not os.path.isfile(flag_values.input):
        raise PgxError(f"file not found: {flag_values.input}")

    import jax
    import numpy as np

    from experiments.ddi import encode_pairs, text_cnn_config
    from pgx_jax.data.ddi_corpus import CLASSES, preprocess
    from pgx_jax.metrics.classification import calls_with_negative_weight

    model, params, vocabulary, config = _load_run(flag_values.workdir)
    weight = _negative_weight(flag_values.workdir) if flag_values.tuned else 1.0
    pairs = []
    with open(flag_values.input, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            pairs.extend(marked_pairs(line.rstrip("\n"), number, flag_values.input))
    rows = ["\t".join(["line", "drug1", "drug2", "relation", "filter_rule", *CLASSES])]
    apply = jax.jit(lambda p, inputs: jax.nn.softmax(model.apply({"params": p}, **inputs)))
    for start in range(0, len(pairs), 64):
        chunk = pairs[start : start + 64]
        instances = [preprocess(p, config.data.lowercase, config.data.numbers) for p in chunk]
        batch = encode_pairs(
            {
                "tokens": np.array([" ".join(i.tokens) for i in instances]),
                "e1_index": np.array([i.e1_index for i in instances]),
                "e2_index": np.array([i.e2_index for i in instances]),
                "label": np.zeros(len(instances), np.int32),
            },
            vocabulary=vocabulary,
            max_length=config.data.max_length,
            bucket=config.data.bucket,
            max_distance=text_cnn_config(config.model)["max_distance"],
        )
        probabilities = np.asarray(apply(params, batch["inputs"]))
        calls = calls_with_negative_weight(probabilities, weight)
        for pair, instance, p, call in zip(chunk, instances, probabilities, calls, strict=True):
            rule = instance.filter_rule if config.data.filter_negatives else ""
            relation = "negative" if rule else CLASSES[call]
            line = pair.id.split(".")[0][len("line") :]
            rows.append(
                "\t".join([line, pair.e1.text, pair.e2.text, relation, rule])
                + "".join(f"\t{v:.4f}" for v in p)
            )
    text = "\n".join(rows) + "\n"
    if flag_values.output:
        with open(flag_values.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    print(f"predict-ddi: {len(pairs)} drug pairs scored", file=sys.stderr)
    return 0
