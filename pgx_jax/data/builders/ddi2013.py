"""TFDS builder of DDI-2013 pairs (SemEval-2013 Task 9.2), preprocessed as the CNN papers did.

Reads `DDICorpus-2013.xml.tar.gz` from the `ddi2013` data folder; one record per entity pair
with blinded, space-joined tokens, the target token indices, the label id (index into
`ddi_corpus.CLASSES`) and the negative-filtering rule it matches ("" if none).
"""

import dataclasses

import ml_collections
import numpy as np
import tensorflow_datasets as tfds

from pgx_jax.configs import data_directory, tfds_directory
from pgx_jax.data import ddi_corpus
from pgx_jax.data.builders import prepare_splits
from pgx_jax.data.sources import RecordSource

SPLITS = ("train", "test")


@dataclasses.dataclass(eq=False)
class Ddi2013Config(tfds.core.BuilderConfig):
    directory: str = ""
    untyped: str = "drop"
    lowercase: bool = True
    numbers: bool = True


class Ddi2013(tfds.core.GeneratorBasedBuilder):
    """DDI-2013 entity pairs: train (DrugBank + MedLine) and the DDI-extraction test set."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description=__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "id": tfds.features.Text(),
                    "source": tfds.features.Text(),
                    "tokens": tfds.features.Text(),
                    "e1_index": tfds.features.Scalar(np.int64),
                    "e2_index": tfds.features.Scalar(np.int64),
                    "label": tfds.features.Scalar(np.int64),
                    "filter_rule": tfds.features.Text(),
                }
            ),
        )

    def _split_generators(self, dl_manager):
        return {split: self._generate_examples(split) for split in SPLITS}

    def _generate_examples(self, split: str):
        cfg = self.builder_config
        for instance in ddi_corpus.instances(
            cfg.directory, split, cfg.untyped, cfg.lowercase, cfg.numbers
        ):
            yield (
                instance.id,
                {
                    "id": instance.id,
                    "source": instance.source,
                    "tokens": " ".join(instance.tokens),
                    "e1_index": instance.e1_index,
                    "e2_index": instance.e2_index,
                    "label": ddi_corpus.CLASSES.index(instance.label),
                    "filter_rule": instance.filter_rule,
                },
            )


def load(cfg: ml_collections.ConfigDict) -> dict[str, RecordSource]:
    """Prepare (once, cached under the TFDS directory) and open the train and test splits."""
    directory = data_directory("ddi2013", cfg.get("dir"))
    untyped = cfg.get("untyped", "drop")
    lowercase, numbers = cfg.get("lowercase", True), cfg.get("numbers", True)
    config = Ddi2013Config(
        name=f"untyped_{untyped}_lower{int(lowercase)}_num{int(numbers)}",
        directory=directory,
        untyped=untyped,
        lowercase=lowercase,
        numbers=numbers,
    )
    builder = Ddi2013(config=config, data_dir=tfds_directory(cfg.get("tfds_dir")))
    return prepare_splits(
        builder, list(SPLITS), cfg.get("in_memory", True), cfg.get("bad_records", "error")
    )
