"""pgx_jax: convolutional networks for one-dimensional pharmacogenomics data.

`pgx_jax.load_run(workdir)` restores a trained run from its directory alone (`pgx_jax.runs`).
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "load_run":  # imported on first use: `import pgx_jax` stays light for the CLI
        from pgx_jax.runs import load_run

        return load_run
    raise AttributeError(f"module 'pgx_jax' has no attribute {name!r}")
