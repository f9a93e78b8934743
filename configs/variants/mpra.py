"""Variant effects on the Kircher et al. 2019 saturation-mutagenesis MPRA (29 experiments over
21 regulatory elements): a CNN over reference and alternative windows, against a position-mean
and a k-mer ridge baseline fitted on the same training variants.

pgx train --config configs/variants/mpra.py:split=blocks --workdir runs/mpra_blocks
pgx train --config configs/variants/mpra.py:split=cagi5 --workdir runs/mpra_cagi5

Arguments: split (blocks: 5-fold CV over 20-bp genomic blocks; cagi5), folds, block (bp),
epochs (0: 5 for blocks, 40 for the 8x smaller CAGI5 training set, about the same number of
steps), seeds (cagi5: runs over seeds 0..seeds-1). `data.validation_folds` = v holds out 1/v
of the training blocks for early stopping (`train.early_stopping.metric`); off by default.
"""

import ml_collections

from pgx_jax.configs import parse_arg


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = parse_arg(arg, split="blocks", folds=5, block=20, epochs=0, seeds=3)
    config = ml_collections.ConfigDict()
    config.experiment = "variants"
    config.seed = 0

    config.data = ml_collections.ConfigDict()
    config.data.folder = "satmut_mpra_kircher2019"
    config.data.dir = ""
    config.data.split = arg.split
    config.data.length = 31
    config.data.batch_size = 128
    config.data.num_threads = 2
    config.data.block_size = arg.block
    config.data.fold = 0
    config.data.num_folds = arg.folds
    config.data.fold_seed = 0
    config.data.elements = ()
    config.data.validation_folds = 0
    config.data.kmer_sizes = (4, 5, 6)
    config.data.ridge_alpha = 100.0

    config.model = ml_collections.ConfigDict()
    config.model.name = "variant_effect_cnn"
    config.model.num_filters = 256
    config.model.kernel_size = 7
    config.model.conv_layers = 0
    config.model.conv_kernel_size = 5
    config.model.reverse_complement = True
    config.model.center = 13
    config.model.context_features = False
    config.model.antisymmetric = True
    config.model.hidden = 64
    config.model.num_elements = 29
    config.model.element_dim = 8
    config.model.element_scale = True
    config.model.dropout_rate = 0.2

    config.optimizer = ml_collections.ConfigDict()
    config.optimizer.name = "adamw"
    config.optimizer.learning_rate = 2e-3
    config.optimizer.schedule = "cosine"
    config.optimizer.warmup_steps = 100
    config.optimizer.weight_decay = 1e-4
    config.optimizer.grad_clip_norm = 1.0

    config.train = ml_collections.ConfigDict()
    config.train.num_epochs = arg.epochs or (5 if arg.split == "blocks" else 40)
    config.train.num_steps = 0
    config.train.eval_every_steps = 0
    config.train.log_every_steps = 50
    config.train.checkpoint_every_steps = 0
    config.train.early_stopping = ml_collections.ConfigDict()
    config.train.early_stopping.metric = ""
    config.train.early_stopping.mode = "max"
    config.train.early_stopping.patience = 0

    config.eval = ml_collections.ConfigDict()
    config.eval.metrics = ("pearson", "spearman", "mse")

    config.protocol = ml_collections.ConfigDict()
    config.protocol.field = ""
    config.protocol.choices = ()
    if arg.split == "blocks":
        config.protocol.field = "data.fold"
        config.protocol.choices = tuple(range(arg.folds))
    elif arg.seeds > 1:  # one fixed split: repeat over seeds for the spread
        config.protocol.field = "seed"
        config.protocol.choices = tuple(range(arg.seeds))

    config.mesh = ml_collections.ConfigDict()
    config.mesh.data = -1
    return config
