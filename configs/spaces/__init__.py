"""Search spaces for `pgx tune`: each file defines `get_space(arg=None)` (see pgx_jax/tune.py)."""
