"""TFDS builders, one per data-set family, prepared to array_record and read with grain."""

from collections.abc import Iterator
from typing import ClassVar

import jax
import numpy as np
import tensorflow_datasets as tfds
from jax.experimental import multihost_utils

from pgx_jax.data.sources import RecordSource, materialize
from pgx_jax.errors import PgxError


def prepare_splits(
    builder: tfds.core.DatasetBuilder,
    splits: list[str],
    in_memory: bool = True,
    bad_records: str = "error",
) -> dict[str, RecordSource]:
    """Prepare `builder` once (array_record files) and open each split as a data source.

    `in_memory` decodes each split once into numpy columns, the fast path for data sets that
    fit in memory; otherwise records are decoded from the array_record files batch by batch.
    Under several processes, process 0 prepares while the others wait, then all read.
    The builders stop at the first bad record (naming file and line), so `bad_records`
    (`config.data.bad_records`) other than "error" is refused rather than ignored.
    """
    if bad_records != "error":
        raise PgxError(
            f"config.data.bad_records={bad_records!r}: the {builder.name} data set does not "
            "skip bad records; it stops at the first one, naming its file and line"
        )
    tfds.disable_progress_bar()
    if jax.process_index() == 0:
        builder.download_and_prepare(file_format="array_record")
    if jax.process_count() > 1:
        multihost_utils.sync_global_devices(f"prepared {builder.info.full_name}")
        if jax.process_index() != 0:
            builder = type(builder)(
                config=builder.builder_config,
                data_dir=builder.data_dir_root,
                file_format="array_record",
            )
    sources = {split: builder.as_data_source(split=split) for split in splits}
    return {split: materialize(s) if in_memory else s for split, s in sources.items()}


class SequenceRecords(tfds.core.GeneratorBasedBuilder):
    """A builder whose examples are records {id, sequence, label} (plus `EXTRA_FEATURES`);
    a subclass says which records each split holds (`split_records`).

    Examples are keyed by record id where `KEY_BY_ID` (ids unique within each split), else by
    position. TFDS orders the prepared files by a hash of the key, so a builder keeps its choice:
    another would reorder its splits and so change every seeded run on them.
    """

    VERSION = tfds.core.Version("1.0.0")
    EXTRA_FEATURES: ClassVar[dict] = {}
    KEY_BY_ID: ClassVar[bool] = False

    def _info(self) -> tfds.core.DatasetInfo:
        features = {
            "id": tfds.features.Text(),
            "sequence": tfds.features.Text(),
            "label": tfds.features.Scalar(np.int64),
            **self.EXTRA_FEATURES,
        }
        return tfds.core.DatasetInfo(
            builder=self,
            description=type(self).__doc__,
            features=tfds.features.FeaturesDict(features),
        )

    def split_records(self) -> dict[str, list[dict]]:
        """The records of each split, by split name."""
        raise NotImplementedError

    def _split_generators(self, dl_manager):
        return {name: self._generate_examples(rows) for name, rows in self.split_records().items()}

    def _generate_examples(self, records: list[dict]) -> Iterator[tuple]:
        for index, record in enumerate(records):
            yield (record["id"] if self.KEY_BY_ID else index), record
