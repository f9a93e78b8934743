"""DeepBind over seeds: points that differ only in seed, trained as one vmapped program.

  pgx sweep --config configs/binding/deepbind.py --sweep configs/sweeps/deepbind_seeds.py \
            --workdir runs/sweep_seeds
  pgx sweep ... --sweep configs/sweeps/deepbind_seeds.py:seeds=0;1;2;3;4,rc

`--novmap_seeds` trains the same points one by one (same results to float tolerance).
"""

from pgx_jax.configs import parse_arg
from pgx_jax.train.sweep import grid


def get_sweep(arg: str | None = None) -> list[dict]:
    arg = parse_arg(arg, seeds="0;1;2", rc=False)
    return grid(
        **{
            "model.reverse_complement": [arg.rc],
            "seed": [int(s) for s in arg.seeds.split(";")],
        }
    )
