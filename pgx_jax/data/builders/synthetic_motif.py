"""TFDS builder of the embedded default: a JASPAR motif planted in random DNA (no download)."""

import dataclasses

import ml_collections
import tensorflow_datasets as tfds

from pgx_jax.configs import tfds_directory
from pgx_jax.data.builders import SequenceRecords, prepare_splits
from pgx_jax.data.sources import RecordSource
from pgx_jax.data.synthetic import SPLITS, planted_motif_examples, split_examples


@dataclasses.dataclass(eq=False)
class SyntheticMotifConfig(tfds.core.BuilderConfig):
    motif_id: str = "MA0139"
    length: int = 101
    num_examples: int = 20000
    instances: int = 1
    seed: int = 0


class SyntheticMotif(SequenceRecords):
    """Positives carry a sampled JASPAR motif instance; negatives are background alone."""

    KEY_BY_ID = True

    def split_records(self) -> dict[str, list[dict]]:
        cfg = self.builder_config
        records = planted_motif_examples(
            cfg.motif_id, cfg.num_examples, cfg.length, cfg.seed, instances=cfg.instances
        )
        parts = split_examples(records, seed=cfg.seed)
        return {name: parts[name] for name in SPLITS}


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
