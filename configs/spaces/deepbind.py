"""DeepBind search space: learning rate and weight decay (shape-preserving: trials train as
populations), or with `:model` also the filters, width and dropout (trials one by one).

  pgx tune --config configs/binding/deepbind.py:tf=GABPA --space configs/spaces/deepbind.py \
           --workdir runs/tune_gabpa --trials 30
  pgx tune ... --space configs/spaces/deepbind.py:model
"""

from pgx_jax.configs import parse_arg


def get_space(arg: str | None = None) -> dict:
    arg = parse_arg(arg, model=False)
    space = {
        "optimizer.learning_rate": ("log", 3e-4, 1e-2),
        "optimizer.weight_decay": ("log", 1e-7, 1e-3),
    }
    if arg.model:
        space["model.num_filters"] = ("choice", [8, 16, 32])
        space["model.filter_width"] = ("choice", [12, 16, 24])
        space["model.dropout_rate"] = ("float", 0.0, 0.5)
    return space
