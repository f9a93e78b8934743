"""TFDS builder of the embedded default: a JASPAR motif planted in random DNA (no download)."""

import dataclasses

import ml_collections
import numpy as np
import tensorflow_datasets as tfds

from pgx_jax.configs import tfds_directory
from pgx_jax.data.builders import prepare_splits
from pgx_jax.data.synthetic import SPLITS, planted_motif_examples, split_examples
from pgx_jax.experiment import RecordSource


@dataclasses.dataclass(eq=False)
class SyntheticMotifConfig(tfds.core.BuilderConfig):
    motif_id: str = "MA0139"
    length: int = 101
    num_examples: int = 20000
    instances: int = 1
    seed: int = 0


class SyntheticMotif(tfds.core.GeneratorBasedBuilder):
    """Positives carry a sampled JASPAR motif instance; negatives are background alone."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description=__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "id": tfds.features.Text(),
                    "sequence": tfds.features.Text(),
                    "label": tfds.features.Scalar(np.int64),
                }
            ),
        )

    def _split_generators(self, dl_manager):
        cfg = self.builder_config
        records = planted_motif_examples(
            cfg.motif_id, cfg.num_examples, cfg.length, cfg.seed, instances=cfg.instances
        )
        parts = split_examples(records, seed=cfg.seed)
        return {name: self._generate_examples(parts[name]) for name in SPLITS}

    def _generate_examples(self, records):
        for record in records:
            yield record["id"], record


def load(cfg: ml_collections.ConfigDict) -> dict[str, RecordSource]:
    """Prepare (once, cached under the TFDS directory) and open train/validation/test."""
    config = SyntheticMotifConfig(
        name=f"{cfg.motif_id}_L{cfg.length}_n{cfg.num_examples}_i{cfg.instances}_s{cfg.seed}",
        motif_id=cfg.motif_id,
        length=cfg.length,
        num_examples=cfg.num_examples,
        instances=cfg.instances,
        seed=cfg.seed,
    )
    builder = SyntheticMotif(config=config, data_dir=tfds_directory(cfg.get("tfds_dir")))
    return prepare_splits(
        builder, list(SPLITS), cfg.get("in_memory", True), cfg.get("bad_records", "error")
    )
