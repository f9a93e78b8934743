"""A mesh with a `model` axis: partitioning rules shard chosen parameters, training is unchanged."""

import jax
import numpy as np
import pytest
from conftest import run_pgx
from jax.sharding import PartitionSpec as P

from pgx_jax import parallel
from pgx_jax.checkpoint import load_state_tree

RULES = '(("hidden/kernel$", (None, "model")), ("head/dense/kernel$", ("model", None)))'


def test_rules_pick_specs_by_path_and_replicate_the_rest():
    mesh = parallel.make_mesh(None)
    tree = {
        "params": {
            "hidden": {
                "kernel": jax.ShapeDtypeStruct((16, 32), np.float32),
                "bias": jax.ShapeDtypeStruct((32,), np.float32),
            }
        },
        "opt_state": {"mu": {"hidden": {"kernel": jax.ShapeDtypeStruct((16, 32), np.float32)}}},
    }
    shardings = parallel.state_shardings(tree, mesh, [("hidden/kernel$", (None, "model"))])
    assert shardings["params"]["hidden"]["kernel"].spec == P(None, "model")
    assert shardings["opt_state"]["mu"]["hidden"]["kernel"].spec == P(None, "model")
    assert shardings["params"]["hidden"]["bias"].spec == P()


@pytest.mark.slow
def test_data_and_model_axes_train_like_one_device(tmp_path):
    args = [
        "train",
        "--config=configs/binding/deepbind.py",
        "--config.data.num_examples=3000",
        "--config.train.num_steps=20",
    ]
    one, mesh = str(tmp_path / "one"), str(tmp_path / "mesh")
    run_pgx([*args, f"--workdir={one}"], env={"XLA_FLAGS": ""})
    run_pgx(
        [
            *args,
            "--config.mesh.data=4",
            "--config.mesh.model=2",
            f"--config.mesh.rules={RULES}",
            f"--workdir={mesh}",
        ],
        env={"XLA_FLAGS": "--xla_force_host_platform_device_count=8"},
    )
    a, b = load_state_tree(one)[1]["params"], load_state_tree(mesh)[1]["params"]
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)
