"""Neighbour bands (jaxshift.reduce.cells): the same sums and the same mean shift as the blockwise reduction."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxshift.kernels import get_kernel
from jaxshift.reduce import block_sums, cells, prepare_data
from jaxshift.solvers import mean_shift

_prepare_cells = cells.prepare_cells


@functools.partial(jax.jit, static_argnames=("kernel", "chunk", "bands"))
def _both_sums(X, Y, bandwidth, weights, *, kernel, chunk, bands=None):
    data = prepare_data(X, bandwidth, weights, 128)
    cell_data = cells.prepare_cells(data, bands)
    y = Y - data.origin
    dense = block_sums(y, data, kernel)
    banded = cells.cell_sums(y, cell_data, kernel, chunk=chunk, band_group=16)
    read, interior, _ = cells.read_counts(y, cell_data, kernel, band_group=16)
    return dense, banded, read, interior


def both_sums(X, Y, bandwidth, kernel, weights=None, chunk=64, bands=None):
    """The blockwise and the banded sums (bands visited 16 at a time), the points read and the interior's."""
    as_array = jnp.asarray
    out = _both_sums(
        as_array(X),
        as_array(Y),
        as_array(bandwidth),
        None if weights is None else as_array(weights),
        kernel=kernel,
        chunk=chunk,
        bands=bands,
    )
    dense, banded, read, interior = out
    return dense, banded, int(read), int(interior)


@pytest.mark.parametrize(
    "name, dim, per_dim, weighted",
    [
        ("flat", 2, False, True),
        ("flat", 1, True, False),
        ("epanechnikov", 3, True, True),
        ("biweight", 2, True, False),
    ],
)
def test_cell_sums_equal_the_blockwise_sums(name, dim, per_dim, weighted):
    # a dense query block next to the data (flat profiles: the interior is summed by prefix sums), and a
    # spread one reaching several bands; the band groups (16) are fewer than the bands in reach
    rng = np.random.default_rng(dim)
    X = rng.normal(size=(600, dim)) * 1.5
    bandwidth = np.linspace(0.6, 1.1, dim) if per_dim else 0.8
    weights = rng.uniform(0.1, 2.0, 600) if weighted else None
    kernel = get_kernel(name)
    interiors = []
    for Y in (X[:40] * 0.05, rng.normal(size=(40, dim)) * 2.0):
        dense, banded, read, interior = both_sums(X, Y, bandwidth, kernel, weights)
        interiors.append(interior)
        np.testing.assert_allclose(np.asarray(banded.total), np.asarray(dense.total), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(np.asarray(banded.moment), np.asarray(dense.moment), rtol=1e-12, atol=1e-11)
        assert np.any(np.asarray(dense.total) > 0)
        assert read < 600  # only the bands in reach are read
    # the flat shadow (flat and Epanechnikov) sums the dense block's interior without reading it
    assert (interiors[0] > 0) == (name != "biweight")


@pytest.mark.parametrize("bands", [32, 48])  # the 2-D band densities (below and from cells.LARGE points)
def test_points_on_band_edges_and_on_the_ball_are_counted_as_the_blockwise_path_does(bands):
    # a lattice whose step is the bands' side and queries on it: many points lie on band edges and at
    # distance exactly one bandwidth (r = 1, inside the flat kernel's ball)
    assert bands in (cells.bands_per_bandwidth(2), cells.bands_per_bandwidth(2, cells.LARGE))
    step = 1.0 / bands
    grid = np.arange(-60, 61) * step
    X = np.stack(np.meshgrid(grid, grid[::4]), axis=-1).reshape(-1, 2)
    spread = np.array([[0.0, 0.0], [step, 8 * step], [-0.5, 0.25], [1.0, -1.0], [0.0, 1.0]])
    tight = np.array([[0.0, 0.0], [step, 0.0], [0.0, step], [-step, step], [2 * step, -step]])
    for name in ("flat", "biweight"):
        for Y in (spread, tight):
            dense, banded, _, interior = both_sums(X, Y, 1.0, get_kernel(name), chunk=32, bands=bands)
            if name == "flat":  # counts: the same points, exactly
                np.testing.assert_array_equal(np.asarray(banded.total), np.asarray(dense.total))
            else:  # sums of weights off the binary grid: the same up to the order of the additions
                np.testing.assert_allclose(np.asarray(banded.total), np.asarray(dense.total), rtol=1e-13)
            np.testing.assert_allclose(np.asarray(banded.moment), np.asarray(dense.moment), rtol=0, atol=1e-12)
            # the point at distance exactly 1 from (0, 0) is in: the count includes (0, ±1) and (±1, 0)
            assert name != "flat" or np.asarray(dense.total)[0] == np.sum(np.sum(X**2, axis=1) <= 1.0)
        # the tight block's interior is summed by prefix sums (flat), none for the biweight's shadow
        assert (interior > 0) == (name == "flat")


@functools.partial(jax.jit, static_argnames=("kernel",))
def blockwise_climb(X, seeds, bandwidth, weights, kernel):
    data = prepare_data(X, bandwidth, weights, spatially_ordered=True)
    state = mean_shift.init(seeds, data, spatially_ordered=True)
    state, _, n_iter = mean_shift.run(state, data, kernel=kernel)
    return mean_shift.modes(state, data), state.seed_steps, n_iter


@pytest.mark.parametrize("name, dim", [("flat", 2), ("epanechnikov", 1)])
def test_mean_shift_climbs_as_the_blockwise_path(monkeypatch, name, dim):
    rng = np.random.default_rng(7)
    centres = rng.uniform(-4, 4, size=(3, dim))
    X = jnp.asarray(np.concatenate([c + rng.normal(size=(150, dim)) for c in centres]))
    weights = jnp.asarray(rng.uniform(0.5, 1.5, len(X)))
    weights = weights / jnp.max(weights)
    bandwidth = jnp.asarray(np.linspace(1.2, 1.6, dim))
    kernel = get_kernel(name)
    # the cells path at this small n (by default from CELLS_MIN_POINTS data points), seen to be taken
    monkeypatch.setattr(mean_shift, "CELLS_MIN_POINTS", 0)
    prepared = []
    monkeypatch.setattr(cells, "prepare_cells", lambda data: prepared.append(1) or _prepare_cells(data))
    climb = jax.jit(mean_shift.climb, static_argnames=("kernel",))(X, X, bandwidth, weights, kernel=kernel)
    assert prepared
    modes, steps, n_iter = blockwise_climb(X, X, bandwidth, weights, kernel)
    np.testing.assert_allclose(np.asarray(climb.modes), np.asarray(modes), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(np.asarray(climb.seed_steps), np.asarray(steps))
    assert int(climb.n_iter) == int(n_iter) > 1


def test_seeds_are_ordered_anew_while_most_move_and_when_half_of_them_have_stopped():
    rng = np.random.default_rng(3)
    X = jnp.asarray(rng.normal(size=(400, 2)))
    data = prepare_data(X, 0.5, None)
    cell_data = cells.prepare_cells(data)
    state = mean_shift.init(X, data)  # in the seeds' own order, not along the curve
    moved = state._replace(position=state.position[::-1])
    fresh = moved  # no step taken yet: the order is the one the seeds were given
    np.testing.assert_array_equal(mean_shift.resorted_when_thinned(fresh, cell_data).order, fresh.order)
    stepped = moved._replace(seed_steps=jnp.ones(400, jnp.int32), ordered_for=jnp.asarray(300, jnp.int32))
    order, codes = cells.seed_order(moved.position, cell_data)
    # 200 of 400 still move (half): ordered by where they are now, whatever the last ordering
    most = stepped._replace(converged=jnp.arange(400) < 200)
    resorted = mean_shift.resorted_when_thinned(most, cell_data)
    np.testing.assert_array_equal(resorted.order, order)
    np.testing.assert_array_equal(resorted.codes, codes)
    assert int(resorted.ordered_for) == 200
    assert not np.array_equal(resorted.order, state.order)
    # fewer than half move: only once those moving at the last ordering (300) have halved
    kept = stepped._replace(converged=jnp.arange(400) < 249)  # 151 moving
    np.testing.assert_array_equal(mean_shift.resorted_when_thinned(kept, cell_data).order, kept.order)
    halved = stepped._replace(converged=jnp.arange(400) < 250)  # 150 moving
    np.testing.assert_array_equal(mean_shift.resorted_when_thinned(halved, cell_data).order, order)
    np.testing.assert_array_equal(np.asarray(codes), np.sort(np.asarray(cells.seed_codes(moved.position, cell_data))))


def test_blocks_never_straddle_two_piles_of_seeds():
    # seeds gathered at three modes (300, 300 and 100 seeds) and 7 stragglers: the plain layout
    # (64 consecutive seeds along the curve) has blocks holding two modes' seeds, boxes several
    # bandwidths wide; the layout keeps each block within one cell of the curve's quadtree
    rng = np.random.default_rng(0)
    X = jnp.asarray(rng.normal(size=(2000, 2)) * 4.0)
    data = prepare_data(X, 1.0, None)
    cell_data = cells.prepare_cells(data)
    piles = [np.array([-6.0, 1.0]), np.array([5.0, 5.0]), np.array([2.0, -7.0])]
    parts = [p + 1e-3 * rng.normal(size=(k, 2)) for p, k in zip(piles, (300, 300, 100), strict=True)]
    seeds = jnp.asarray(np.concatenate(parts + [rng.uniform(-8, 8, (7, 2))]))
    position = seeds - data.origin
    m, block = position.shape[0], 64
    order, codes = cells.seed_order(position, cell_data)
    active = jnp.asarray(rng.random(m) < 0.9)
    slots, n_blocks = cells.block_layout(order, codes, active, block, 2)
    slots, n_blocks = np.asarray(slots), int(n_blocks)
    used = slots[: n_blocks * block]
    assert np.all(slots[n_blocks * block :] == m)
    np.testing.assert_array_equal(np.sort(used[used < m]), np.flatnonzero(np.asarray(active)))
    plain = -(-int(np.sum(active)) // block)
    assert plain <= n_blocks <= plain + max(plain // cells.EXTRA_BLOCKS, cells.MIN_EXTRA_BLOCKS)
    blocks = used.reshape(n_blocks, block)
    assert np.all(blocks[:, 0] < m)  # every block starts with a seed
    widths = [np.ptp(np.asarray(position)[b[b < m]], axis=0).max() for b in blocks]
    assert max(widths) <= 1.0  # within one cell of at most 32 bands of 1/32 (one bandwidth)
    # the plain layout, for contrast: a block spans two piles
    ranks = np.flatnonzero(np.asarray(active)[np.asarray(order)])
    plain_blocks = [np.asarray(order)[ranks[i : i + block]] for i in range(0, len(ranks), block)]
    assert max(np.ptp(np.asarray(position)[b], axis=0).max() for b in plain_blocks) > 5.0
