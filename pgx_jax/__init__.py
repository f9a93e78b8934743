"""pgx_jax: convolutional networks for one-dimensional pharmacogenomics data."""

__version__ = "0.1.0"
