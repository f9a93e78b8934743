"""DeepBind ablation: reverse-complement weight sharing x first-layer kernel width.

  pgx sweep --config configs/binding/deepbind.py --sweep configs/sweeps/deepbind_rc_width.py \
            --workdir runs/sweep_rc_width
"""

from pgx_jax.configs import parse_arg
from pgx_jax.train.sweep import grid


def get_sweep(arg: str | None = None) -> list[dict]:
    arg = parse_arg(arg, widths="12;24", seeds="0")
    return grid(
        **{
            "model.reverse_complement": [False, True],
            "model.filter_width": [int(w) for w in arg.widths.split(";")],
            "seed": [int(s) for s in arg.seeds.split(";")],
        }
    )
