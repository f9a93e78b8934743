"""DDI-2013 relation extraction: Liu et al. 2016 text CNN, or MCCNN (Quan et al. 2016).

pgx train --config configs/ddi/textcnn.py                  # text CNN, corpus word2vec, 3 seeds
pgx train --config configs/ddi/textcnn.py:mccnn            # MCCNN: several embedding channels
pgx train --config configs/ddi/textcnn.py:vectors=random   # random word vectors
pgx train --config configs/ddi/textcnn.py:vectors=PATH     # a word2vec file (text or binary)
pgx train --config configs/ddi/textcnn.py:nofilter         # keep every training pair
pgx train --config configs/ddi/textcnn.py:piecewise      # pool the three stretches apart (PCNN)
pgx train --config configs/ddi/textcnn.py:seeds=1          # one run (seed 0) instead of three
pgx train --config configs/ddi/textcnn.py:schedule=cosine,epochs=5    # the first, shorter schedule
pgx train --config configs/ddi/textcnn.py:members=5        # 5 CNNs trained at once, averaged
pgx train --config configs/ddi/textcnn.py:sgru_cnn         # BiGRU, then the convolutions (SGRU-CNN)
pgx train --config configs/ddi/textcnn.py:rhcnn            # convolutions, then BiGRU + attention
pgx train --config configs/ddi/textcnn.py:rhcnn,focal=2    # ... trained with the focal loss
"""

import ml_collections

from configs.base import base_config
from pgx_jax.configs import identical_members, parse_arg


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = parse_arg(
        arg,
        mccnn=False,
        vectors="corpus",
        nofilter=False,
        piecewise=False,
        seeds=3,
        epochs=15,
        schedule="constant",
        patience=4,
        members=1,
        sgru_cnn=False,
        rhcnn=False,
        focal=0.0,
        focal_alpha=-1.0,
    )
    config = base_config(
        "ddi",
        batch_size=64,
        learning_rate=1e-3,
        num_epochs=arg.epochs,
        metrics=("micro_precision", "micro_recall", "micro_f1", "accuracy"),
        early_stopping="validation/micro_f1",
        patience=arg.patience,
    )
    config.eval.tune_negative_weight = True  # also report calls tuned on validation F1
    config.optimizer.schedule = arg.schedule
    config.optimizer.grad_clip_norm = 5.0
    config.train.log_every_steps = 50
    config.train.focal_gamma = arg.focal
    config.train.focal_alpha = arg.focal_alpha
    config.protocol.field = "seed" if arg.seeds > 1 else ""
    config.protocol.choices = tuple(range(arg.seeds))
    data = config.data
    data.name = "ddi2013"
    data.dir = ""
    data.untyped = "drop"  # the one ddi="true" training pair without a type
    data.lowercase = True
    data.numbers = True
    data.filter_negatives = not arg.nofilter
    data.validation_fraction = 0.1
    data.validation_seed = 0
    data.min_count = 1
    data.max_length = 160
    data.bucket = 32

    vectors = arg.vectors if arg.vectors in ("corpus", "random") else f"file:{arg.vectors}"
    config.words = ml_collections.ConfigDict()
    config.words.dim = 100
    config.words.word2vec_epochs = 20
    if arg.mccnn:
        # MCCNN: several embedding channels over the same words; here a static and a
        # fine-tuned copy of the word vectors (Quan et al. used five pre-trained sets).
        config.words.channels = (vectors, vectors)
        config.words.frozen = (0,)
    else:
        config.words.channels = (vectors,)
        config.words.frozen = ()

    config.model = ml_collections.ConfigDict()
    config.model.name = "textcnn"
    config.model.max_distance = 100
    config.model.position_dim = 10
    config.model.window_sizes = (3, 4, 5)
    config.model.num_filters = 100
    config.model.activation = "relu"
    config.model.pooling = "piecewise" if arg.piecewise else "max"
    config.model.dropout_rate = 0.5
    config.model.task = "multiclass"
    config.model.num_outputs = 5
    if arg.sgru_cnn or arg.rhcnn:
        config.model.name = "text_recurrent"
        config.model.order = "rnn_cnn" if arg.sgru_cnn else "cnn_rnn"
        config.model.cell = "gru"
        config.model.rnn_hidden = 100
        config.model.rnn_pooling = "attention"  # where the states are pooled (cnn_rnn)
        config.model.attention_dim = 100
    # Each member embeds its own words: vmapped, a step runs ~24x slower on CPUs.
    config.model = identical_members(config.model, arg.members, unroll=True)

    return config
