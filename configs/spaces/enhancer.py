"""Enhancer (iEnhancer-2L) search space: learning rate and weight decay of the ensemble
(shape-preserving: trials train as populations, fold by fold), or with `:model` also the
members' dropout and hidden width (trials one by one). The objective is the folds' held-out
AUROC; only the best trial's `final` run sees the independent test set.

  pgx tune --config configs/regulatory/enhancer.py:layer=1 --space configs/spaces/enhancer.py \
           --metric test/auroc --workdir runs/tune_enhancer --trials 20
"""

from pgx_jax.configs import parse_arg


def get_space(arg: str | None = None) -> dict:
    arg = parse_arg(arg, model=False)
    space = {
        "optimizer.learning_rate": ("log", 2e-4, 5e-3),
        "optimizer.weight_decay": ("log", 1e-6, 1e-2),
    }
    if arg.model:
        space["model.member.dropout_rate"] = ("float", 0.1, 0.6)
        space["model.member.hidden"] = ("choice", [16, 32, 64])
    return space
