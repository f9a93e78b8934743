"""CNNProm promoters per organism with stratified 5-fold cross-validation (Sn, Sp, MCC).

pgx train --config configs/regulatory/promoter.py:organism=Ecoli     # Ecoli_prom vs non_prom
pgx train --config configs/regulatory/promoter.py:organism=Bacillus
pgx train --config configs/regulatory/promoter.py:organism=Arabidopsis,kind=tata
pgx train --config configs/regulatory/promoter.py:organism=Arabidopsis,kind=non_tata
pgx train --config configs/regulatory/promoter.py:organism=human_deepromoter  # DeePromoter TATA
"""

import ml_collections

from configs.regulatory.common import cross_validation, regulatory_config
from pgx_jax.configs import parse_arg


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = parse_arg(arg, organism="Ecoli", kind="prom", folds=5, epochs=20)
    config = regulatory_config(learning_rate=1e-3, num_epochs=arg.epochs, batch_size=64)
    config.data.name = "promoters"
    config.data.organism = arg.organism
    config.data.kind = arg.kind
    config.data.length = 0
    config.data.validation_fraction = 0.1
    config.data.parts = 20
    config.data.keep_parts = 12
    cross_validation(config, arg.folds)

    config.model = ml_collections.ConfigDict()
    config.model.name = "cnnprom"
    config.model.conv_layers = ((200, 21, 2),)
    config.model.hidden = 128
    config.model.dropout_rate = 0.5
    config.train.early_stopping.patience = 5
    return config
