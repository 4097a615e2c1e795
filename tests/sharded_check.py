"""Run by tests/test_sharding.py in a fresh process with 4 CPU devices: every entry point on data sharded over a
4-device mesh gives what it gives on one device. Exits non-zero (AssertionError) on any difference."""

import os
import sys

assert "--xla_force_host_platform_device_count=4" in os.environ.get("XLA_FLAGS", ""), "needs 4 host devices"

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
from jax.sharding import NamedSharding, PartitionSpec  # noqa: E402

import jaxshift  # noqa: E402
from jaxshift import kde  # noqa: E402
from jaxshift.reduce import sharding  # noqa: E402


def main() -> None:
    assert jax.device_count() == 4, jax.devices()
    mesh = jax.make_mesh((4,), ("data",))
    split = NamedSharding(mesh, PartitionSpec("data"))
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(c, 1.0, (150, 2)) for c in [(0, 0), (6, 6), (0, 7)]])  # 450 = 4 x 112 + 2
    X = X[:448]
    w = rng.uniform(0.5, 2.0, len(X))
    Xs = jax.device_put(X, split)
    ws = jax.device_put(w, split)
    assert sharding.data_axis(Xs) is not None and sharding.data_axis(X) is None

    checks = 0
    # (unweighted Gaussian data are checked below, with seeds and inside jit)
    for kernel, h, weights in [("gaussian", 0.8, (w, ws)), ("flat", 1.5, None), ("epanechnikov", 1.8, (w, ws))]:
        if True:
            one = jaxshift.mean_shift(X, h, kernel=kernel, weights=None if weights is None else weights[0])
            many = jaxshift.mean_shift(Xs, h, kernel=kernel, weights=None if weights is None else weights[1])
            np.testing.assert_allclose(many.modes, one.modes, atol=1e-9 * h, err_msg=kernel)
            np.testing.assert_array_equal(many.labels, one.labels)
            assert int(many.n_clusters) == int(one.n_clusters) and int(many.n_iter) == int(one.n_iter)
            checks += 1
    # seeds sharded too, and labels by nearest centre
    seeds = X[::5]
    one = jaxshift.mean_shift(X, 0.8, seeds=seeds)
    many = jaxshift.mean_shift(Xs, 0.8, seeds=jax.device_put(seeds[:88], split))
    np.testing.assert_allclose(many.modes, one.modes[:88], atol=1e-9)
    checks += 1
    # inside the user's jit, with the bandwidth traced
    jitted = jax.jit(lambda X, h: jaxshift.mean_shift(X, h).modes)
    np.testing.assert_allclose(jitted(Xs, 0.8), jaxshift.mean_shift(X, 0.8).modes, atol=1e-9)
    checks += 1

    H = np.array([[0.6, 0.2], [0.2, 0.9]])
    for bandwidth in [H]:  # a full matrix: the whitened path, which scalars and (d,) bandwidths skip
        np.testing.assert_allclose(kde.log_density(X[:20], Xs, bandwidth), kde.log_density(X[:20], X, bandwidth))
        np.testing.assert_allclose(kde.loo_log_likelihood(Xs, bandwidth), kde.loo_log_likelihood(X, bandwidth))
        np.testing.assert_allclose(
            kde.loo_log_likelihood(Xs, bandwidth, weights=ws), kde.loo_log_likelihood(X, bandwidth, weights=w)
        )
        np.testing.assert_allclose(kde.kfold_log_likelihood(Xs, bandwidth), kde.kfold_log_likelihood(X, bandwidth))
        np.testing.assert_allclose(
            kde.heldout_log_likelihood(X[:30], Xs, bandwidth), kde.heldout_log_likelihood(X[:30], X, bandwidth)
        )
        checks += 4
    key = jax.random.key(0)
    np.testing.assert_allclose(
        kde.minibatch_loo_log_likelihood(Xs, 0.5, key, batch_size=64),
        kde.minibatch_loo_log_likelihood(X, 0.5, key, batch_size=64),
    )
    # the gradient goes through the psum (explicit meshes want a mesh context around traced code)
    with jax.set_mesh(mesh):
        grad_many = jax.grad(lambda h: kde.loo_log_likelihood(Xs, h))(0.5)
    grad_one = jax.grad(lambda h: kde.loo_log_likelihood(X, h))(0.5)
    np.testing.assert_allclose(grad_many, grad_one, rtol=1e-10)
    checks += 2
    for form in ["diagonal"]:
        one = jaxshift.select_bandwidth(X, form=form)
        with jax.set_mesh(mesh):
            many = jaxshift.select_bandwidth(Xs, form=form)
        np.testing.assert_allclose(many.bandwidth, one.bandwidth, rtol=1e-6)
        checks += 1
    # what is not split runs on the whole data (gathered first)
    blurred = jaxshift.blurring_mean_shift(Xs, 0.8)
    assert int(blurred.n_clusters) == int(jaxshift.blurring_mean_shift(X, 0.8).n_clusters)
    assert int(jaxshift.grid_mean_shift(Xs, 1.0).n_clusters) == int(jaxshift.grid_mean_shift(X, 1.0).n_clusters)
    np.testing.assert_allclose(jaxshift.mean_shift(Xs, "scott").modes, jaxshift.mean_shift(X, "scott").modes, atol=1e-9)
    checks += 5
    # gradients of the modes at the fixed point: the backward reduction is split and summed like the forward
    with jax.set_mesh(mesh):
        grad_many = jax.grad(lambda h: jaxshift.mean_shift(Xs, h, seeds=X[::16]).modes.sum())(0.8)
    grad_one = jax.grad(lambda h: jaxshift.mean_shift(X, h, seeds=X[::16]).modes.sum())(0.8)
    np.testing.assert_allclose(grad_many, grad_one, rtol=1e-9)
    checks += 1
    # a mesh of Auto axes (the classic Mesh(devices, names), and make_mesh with axis_types=Auto), which
    # jax.reshard refuses: one mean shift and one density each
    from jax.sharding import AxisType, Mesh

    classic = Mesh(np.array(jax.devices()), ("data",))
    assert sharding.data_axis(jax.device_put(X, NamedSharding(classic, PartitionSpec("data")))) is not None
    auto = jax.make_mesh((4,), ("data",), axis_types=(AxisType.Auto,))
    on_auto = jax.device_put(X, NamedSharding(auto, PartitionSpec("data")))
    assert sharding.data_axis(on_auto) is not None
    many = jaxshift.mean_shift(on_auto, 0.8, weights=jax.device_put(w, NamedSharding(auto, PartitionSpec("data"))))
    np.testing.assert_allclose(many.modes, jaxshift.mean_shift(X, 0.8, weights=w).modes, atol=1e-9)
    np.testing.assert_allclose(kde.log_density(X[:20], on_auto, 0.5), kde.log_density(X[:20], X, 0.5))
    checks += 2
    # the sharded program really sums across devices
    text = jax.jit(lambda X: kde.loo_log_likelihood(X, 0.5)).lower(Xs).as_text()
    assert "all_reduce" in text or "all-reduce" in text, "no cross-device sum in the sharded program"
    print(f"sharded: {checks} checks passed")


if __name__ == "__main__":
    main()
    sys.exit(0)
