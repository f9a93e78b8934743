"""Any config over seeds: points that differ only in seed, trained as one vmapped program
where the experiment allows it (else one by one; `pgx sweep` prints why).

  pgx sweep --config configs/table.py:path=FILE --sweep configs/sweeps/seeds.py --workdir DIR
  pgx sweep ... --sweep configs/sweeps/seeds.py:seeds=0;1;2;3;4
"""

from pgx_jax.configs import parse_arg
from pgx_jax.train.sweep import grid


def get_sweep(arg: str | None = None) -> list[dict]:
    arg = parse_arg(arg, seeds="0;1;2")
    return grid(seed=[int(s) for s in arg.seeds.split(";")])
