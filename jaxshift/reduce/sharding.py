"""Data-parallel reductions over many devices, through JAX's own sharding.

When the data is a :class:`jax.Array` sharded along its first axis over a :class:`jax.sharding.Mesh`
(a :class:`~jax.sharding.NamedSharding` with a mesh axis in the first place of its spec), the
public entry points (:func:`jaxshift.mean_shift`, the :mod:`jaxshift.kde` functions,
:func:`jaxshift.select_bandwidth`) run the kernel reduction under :func:`jax.shard_map`: the
queries (seeds, evaluation points) are replicated, each device reduces over its own shard of the
data, and the partial sums are combined with ``psum`` (the Gaussian's reference log-weight with
``pmax`` first). The result is the same as on one device, up to the order of floating-point sums.

Example (4 CPU devices: ``XLA_FLAGS=--xla_force_host_platform_device_count=4``)::

    mesh = jax.make_mesh((4,), ("data",))
    X = jax.device_put(X, NamedSharding(mesh, PartitionSpec("data")))
    jaxshift.mean_shift(X, 0.5)           # each device sums over a quarter of the data

Meshes of ``Explicit`` axes (:func:`jax.make_mesh`'s default) and of ``Auto`` axes (the classic
``Mesh(np.array(jax.devices()), ("data",))``, or ``axis_types=Auto``) both work: the arguments are
placed with :func:`jax.reshard` on the first and :func:`jax.device_put` (a sharding constraint
when traced) on the second (see :func:`place`).

On several hosts, call ``jax.distributed.initialize()`` on each first, build the mesh over
``jax.devices()`` (all hosts' devices) and make the global array with
``jax.make_array_from_process_local_data``; the calls above are then the same on every host.
Data whose length is not a multiple of the number of shards runs unsharded (XLA's own
partitioning still applies).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import math
from typing import NamedTuple

import jax
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

Array = jax.Array


class DataAxis(NamedTuple):
    """Where the data's first axis is split: a mesh and the name (or names) of its axis."""

    mesh: Mesh
    axis: str | tuple[str, ...]

    @property
    def size(self) -> int:
        names = self.axis if isinstance(self.axis, tuple) else (self.axis,)
        return math.prod(self.mesh.shape[name] for name in names)

    def spec(self, sharded: bool) -> PartitionSpec:
        """The spec of an argument split along this axis (``sharded``) or replicated."""
        return PartitionSpec(self.axis) if sharded else PartitionSpec()


def data_axis(x) -> DataAxis | None:
    """The mesh axis ``x`` is split along in its first dimension, if it is a sharded
    :class:`jax.Array` whose length that axis divides; else None."""
    sharding = _sharding_of(x)
    if not isinstance(sharding, NamedSharding) or len(sharding.spec) == 0 or sharding.spec[0] is None:
        return None
    placement = DataAxis(sharding.mesh, sharding.spec[0])
    if placement.size < 2 or x.shape[0] % placement.size:
        return None
    return placement


_CURRENT: contextvars.ContextVar[DataAxis | None] = contextvars.ContextVar("jaxshift_data_axis", default=None)


def current() -> DataAxis | None:
    """The data axis the reductions traced now are split along (set by :func:`follow_data`)."""
    return _CURRENT.get()


@contextlib.contextmanager
def split_along(placement: DataAxis | None):
    token = _CURRENT.set(placement)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def follow_data(argument: str = "data", *, split: bool = True):
    """Decorate an entry point so that the reductions it traces are split like its ``argument``.

    Every argument that is split over a mesh is first gathered whole (the work outside the
    reduction is O(n·d)); with ``split=False``, or when ``argument`` cannot be split evenly, that
    is all, and the entry point runs as on one device. Inside another entry point's call the
    outer one's choice holds.
    """

    def decorate(fn):
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            if current() is not None:
                return fn(*args, **kwargs)
            bound = signature.bind_partial(*args, **kwargs)
            placement = data_axis(bound.arguments.get(argument)) if split else None
            gathered = False
            for name, value in bound.arguments.items():
                if _splitting(value) is not None:
                    bound.arguments[name] = whole(value)
                    gathered = True
            if placement is None and not gathered:
                return fn(*args, **kwargs)
            with split_along(placement):
                return fn(*bound.args, **bound.kwargs)

        return wrapped

    return decorate


def _sharding_of(x):
    """The sharding of a :class:`jax.Array` (None for anything else); a traced value carries its
    sharding in its type when the mesh's axes are explicit."""
    if not isinstance(x, jax.Array):
        return None
    return jax.typeof(x).sharding if isinstance(x, jax.core.Tracer) else x.sharding


def _splitting(x) -> NamedSharding | None:
    """The sharding of ``x`` if it is a :class:`jax.Array` split along some axis over a mesh."""
    sharding = _sharding_of(x)
    if isinstance(sharding, NamedSharding) and any(entry is not None for entry in sharding.spec):
        return sharding
    return None


def place(x, sharding: NamedSharding):
    """``x`` laid out as ``sharding``, on a mesh of either kind of axes: :func:`jax.reshard` where
    its axes are ``Explicit`` (the default of :func:`jax.make_mesh`); where they are ``Auto`` (a
    mesh built as ``Mesh(devices, names)``, or with ``axis_types=Auto``), which ``reshard``
    refuses, :func:`jax.device_put` on values and a sharding constraint on traced ones."""
    explicit = all(t == AxisType.Explicit for t in getattr(sharding.mesh, "axis_types", ()))
    if explicit:
        return jax.reshard(x, sharding)
    if isinstance(x, jax.core.Tracer):
        return jax.lax.with_sharding_constraint(x, sharding)
    return jax.device_put(x, sharding)


def whole(x):
    """``x`` gathered whole onto every device of its mesh, if it is split; else ``x`` itself."""
    sharding = _splitting(x)
    return x if sharding is None else place(x, NamedSharding(sharding.mesh, PartitionSpec()))


def shard_over(placement: DataAxis, fn, args: tuple, split: tuple[bool, ...], out_specs):
    """``fn(*args)`` under :func:`jax.shard_map`, the arguments flagged in ``split`` divided along
    the data axis and the others replicated (each placed so first)."""
    specs = tuple(placement.spec(s) for s in split)
    placed = tuple(place(a, NamedSharding(placement.mesh, spec)) for a, spec in zip(args, specs, strict=True))
    # check_vma=False: the blockwise loops carry replicated initial values into per-shard sums
    return jax.shard_map(fn, mesh=placement.mesh, in_specs=specs, out_specs=out_specs, check_vma=False)(*placed)
