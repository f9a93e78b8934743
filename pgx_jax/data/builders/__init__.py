"""TFDS builders, one per data-set family, prepared to array_record and read with grain."""

import tensorflow_datasets as tfds

from pgx_jax.experiment import RecordSource


def prepare_splits(builder: tfds.core.DatasetBuilder, splits: list[str]) -> dict[str, RecordSource]:
    """Prepare `builder` once (array_record files) and open each split as a data source."""
    tfds.disable_progress_bar()
    builder.download_and_prepare(file_format="array_record")
    return {split: builder.as_data_source(split=split) for split in splits}
