"""Data-parallel runs over 4 CPU devices (a fresh process: the device count is fixed when JAX starts)."""

import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from jaxshift.reduce import sharding


def test_every_entry_point_gives_the_single_device_result_on_sharded_data():
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=4".strip()
    env = dict(os.environ, XLA_FLAGS=flags, JAX_PLATFORMS="cpu")
    if jax.config.jax_compilation_cache_dir:  # the suite's compilation cache (see conftest.py)
        env.update(
            JAX_COMPILATION_CACHE_DIR=jax.config.jax_compilation_cache_dir,
            JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
            JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0",
        )
    script = Path(__file__).with_name("sharded_check.py")
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "checks passed" in done.stdout


@pytest.mark.parametrize("value", [np.zeros((8, 2)), [[1.0, 2.0]], None, "data"])
def test_unsharded_values_have_no_data_axis(value):
    assert sharding.data_axis(value) is None


def test_a_one_device_mesh_runs_as_one_device():
    import jax
    from jax.sharding import NamedSharding, PartitionSpec

    import jaxshift

    X = np.random.default_rng(0).normal(size=(40, 2))
    mesh = jax.make_mesh((1,), ("data",))
    on_mesh = jax.device_put(X, NamedSharding(mesh, PartitionSpec("data")))
    np.testing.assert_allclose(jaxshift.mean_shift(on_mesh, 0.7).modes, jaxshift.mean_shift(X, 0.7).modes)
    np.testing.assert_allclose(jaxshift.kde.loo_log_likelihood(on_mesh, 0.5), jaxshift.kde.loo_log_likelihood(X, 0.5))
