"""What a run trained and was tested on, in a few lines: each split's size and the balance of
its labels (class counts, or the targets' mean and standard deviation). A run writes it to
`data_summary.json` when it starts; the report reads it."""

import numpy as np

from pgx_jax.data.sources import InMemorySource

SUMMARY_FILE = "data_summary.json"
SHOWN_CLASSES = 10
"""Classes or tasks listed by name at most; the rest are summed as "others"."""


def _share(count: float, total: float) -> str:
    return f"{count:g} ({100 * count / max(total, 1):.1f}%)"


def label_balance(
    task: str, labels: np.ndarray, weights: np.ndarray | None = None, classes: tuple = ()
) -> str:
    """The balance of `labels` in one line: positives and negatives (binary), counts per class
    (multiclass), the share of positives per task (multilabel), the targets' mean and standard
    deviation (regression), or the labels' shape. Entries of weight 0 (masked) do not count."""
    labels = np.asarray(labels, np.float64)
    if labels.size == 0:
        return "no records"
    if task not in ("binary", "multiclass", "multilabel", "regression"):
        return f"{task} labels of shape {list(labels.shape)}"
    keep = np.ones(labels.shape, bool)
    if weights is not None:
        w = np.asarray(weights)
        keep = np.broadcast_to(w.reshape(w.shape + (1,) * (labels.ndim - w.ndim)), labels.shape) > 0
    if task == "binary":
        values = labels[keep & np.isfinite(labels)]
        positives = float(np.sum(values > 0.5))
        return f"positives {_share(positives, len(values))}, negatives {len(values) - positives:g}"
    if task == "multiclass":
        values = labels[keep].astype(np.int64)
        counts = np.bincount(values, minlength=len(classes))
        names = list(classes) + [str(c) for c in range(len(classes), len(counts))]
        order = np.argsort(-counts, kind="stable")
        shown = [f"{names[c]} {_share(counts[c], len(values))}" for c in order[:SHOWN_CLASSES]]
        rest = counts[order[SHOWN_CLASSES:]].sum()
        return ", ".join(shown + ([f"others {_share(rest, len(values))}"] if rest else []))
    if task == "multilabel":
        tasks = labels.reshape(len(labels), -1)
        mask = keep.reshape(tasks.shape)
        share = np.array(
            [np.mean(tasks[mask[:, t], t] > 0.5) if mask[:, t].any() else np.nan
             for t in range(tasks.shape[1])]
        )  # fmt: skip
        return (
            f"{tasks.shape[1]} tasks; positives per task: mean {100 * np.nanmean(share):.1f}%, "
            f"min {100 * np.nanmin(share):.1f}%, max {100 * np.nanmax(share):.1f}%"
        )
    values = labels.reshape(len(labels), -1)
    mask = keep.reshape(values.shape) & np.isfinite(values)
    parts = [
        f"mean {np.mean(values[mask[:, t], t]):.4g}, sd {np.std(values[mask[:, t], t], ddof=1):.4g}"
        if mask[:, t].sum() > 1
        else "fewer than 2 values"
        for t in range(min(values.shape[1], SHOWN_CLASSES))
    ]
    if values.shape[1] == 1:
        return parts[0]
    return "; ".join(f"target {t}: {p}" for t, p in enumerate(parts))


def split_summary(task: str, splits: dict, classes: tuple = (), lengths: list = ()) -> dict:
    """{"task", "splits": {split: {"records", "labels"}}, "lengths"} of an experiment's splits:
    the label balance of splits held in memory with a `label` column ("not read" for the
    others, read batch by batch) and the `lengths` lines (records cut and padded)."""
    found = {}
    for name, source in splits.items():
        columns = source.columns if isinstance(source, InMemorySource) else {}
        labels = columns.get("label")
        numeric = labels is not None and np.issubdtype(np.asarray(labels).dtype, np.number)
        balance = label_balance(task, labels, classes=classes) if numeric else "not read"
        found[name] = {"records": len(source), "labels": balance}
    return {"task": task, "splits": found, "lengths": list(lengths)}
