"""Model registry: `config.model.name` -> Flax module class."""

import flax.linen as nn

from pgx_jax.errors import PgxError
from pgx_jax.models.basset import Basset, DeepSEA
from pgx_jax.models.bpnet import BPNet
from pgx_jax.models.cnnprom import CNNProm
from pgx_jax.models.deepbind import DeepBind
from pgx_jax.models.deepconv_dti import DeepConvDTI
from pgx_jax.models.deepdbp import DeepDBP
from pgx_jax.models.deepdta import DeepDTA, SmilesCNN
from pgx_jax.models.enhancer_cnn import EnhancerCNN
from pgx_jax.models.ensemble import Ensemble
from pgx_jax.models.fp2vec import FP2VEC
from pgx_jax.models.ideepe import IDeepE
from pgx_jax.models.multitask import MultiTaskCNN
from pgx_jax.models.pileup import PileupCNN, SomaticResNet
from pgx_jax.models.recurrent import ConvRecurrent, TextRecurrent
from pgx_jax.models.textcnn import TextCNN
from pgx_jax.models.variant_effect import VariantEffectCNN

MODELS: dict[str, type[nn.Module]] = {
    "basset": Basset,
    "bpnet": BPNet,
    "deepsea": DeepSEA,
    "deepbind": DeepBind,
    "deepconv_dti": DeepConvDTI,
    "deepdbp": DeepDBP,
    "deepdta": DeepDTA,
    "smiles_cnn": SmilesCNN,
    "cnnprom": CNNProm,
    "conv_recurrent": ConvRecurrent,
    "enhancer_cnn": EnhancerCNN,
    "ideepe": IDeepE,
    "ensemble": Ensemble,
    "fp2vec": FP2VEC,
    "multitask_cnn": MultiTaskCNN,
    "pileup_cnn": PileupCNN,
    "somatic_resnet": SomaticResNet,
    "textcnn": TextCNN,
    "text_recurrent": TextRecurrent,
    "variant_effect_cnn": VariantEffectCNN,
}


def create_model(name: str, **kwargs) -> nn.Module:
    """Instantiate a registered model, with a clear error for an unknown name or field."""
    if name not in MODELS:
        raise PgxError(f"config.model.name: unknown model {name!r}; known: {sorted(MODELS)}")
    cls = MODELS[name]
    fields = set(cls.__dataclass_fields__) - {"parent", "name"}
    unknown = set(kwargs) - fields
    if unknown:
        raise PgxError(
            f"config.model: {name} has no field(s) {sorted(unknown)}; it takes {sorted(fields)}"
        )
    return cls(**kwargs)
