"""blockwork: parallel computing for scientific data, Dask's API over a Rust engine.

    import blockwork.array as da
    x = da.random.random((20000, 20000), chunks=(1000, 1000))
    ((x + x.T) - x.mean(axis=0)).sum().compute()

`blockwork.delayed` records Python calls as tasks; `blockwork.distributed`
has Dask's `Client`, `LocalCluster` and futures; `blockwork.compute(*objs)`
computes several collections in one graph; `blockwork.get` runs Dask graphs
(`dask.compute(x, scheduler=blockwork.get)`); `blockwork.config.set(scheduler=...)`
picks the scheduler.
"""

from __future__ import annotations

import sys
from typing import Any

from blockwork import config
from blockwork._core import __version__
from blockwork.dask import get
from blockwork.delayed import Delayed, delayed


def open_dataset(path: Any, chunks: Any = None, **kwargs: Any) -> Any:
    """An xarray Dataset of blockwork arrays from one file (see blockwork.xarray)."""
    from blockwork import xarray

    return xarray.open_dataset(path, chunks, **kwargs)


def open_mfdataset(paths: Any, chunks: Any = None, **kwargs: Any) -> Any:
    """An xarray Dataset of blockwork arrays from many files (see blockwork.xarray)."""
    from blockwork import xarray

    return xarray.open_mfdataset(paths, chunks, **kwargs)


def open_zarr(store: Any, chunks: Any = None, **kwargs: Any) -> Any:
    """An xarray Dataset of blockwork arrays from a Zarr store (see blockwork.xarray)."""
    from blockwork import xarray

    return xarray.open_zarr(store, chunks, **kwargs)


def compute(
    *args: Any, scheduler: Any = None, num_workers: int | None = None, traverse: bool = True, **kwargs: Any
) -> tuple[Any, ...]:
    """Computes arrays, delayed values, bags and their items, dataframes;
    several arrays share one graph (work they share runs once), as do
    delayed values, bags and items together. As in dask, they are found
    inside lists, tuples, sets and dicts too (`traverse=False`: only at the
    top), and come back in the same containers. Other values are returned
    as they are."""
    if not traverse:
        return _compute_flat(args, scheduler, num_workers)
    leaves: list[Any] = []

    def collect(x: Any) -> None:
        if isinstance(x, (list, tuple, set, frozenset)):
            for y in x:
                collect(y)
        elif isinstance(x, dict):
            for y in x.values():
                collect(y)
        elif _is_lazy(x):
            leaves.append(x)

    for a in args:
        collect(a)
    values = iter(_compute_flat(tuple(leaves), scheduler, num_workers))

    def rebuild(x: Any) -> Any:
        if isinstance(x, dict):
            return type(x)((k, rebuild(v)) for k, v in x.items())
        if isinstance(x, tuple) and hasattr(x, "_fields"):
            return type(x)(*(rebuild(y) for y in x))
        if isinstance(x, (list, tuple, set, frozenset)):
            return type(x)(rebuild(y) for y in x)
        return next(values) if _is_lazy(x) else x

    return tuple(rebuild(a) for a in args)


def _is_lazy(x: Any) -> bool:
    """Whether `compute` computes `x`: an array, a delayed value, a bag or
    its item, a dataframe, series or scalar."""
    from blockwork.array.core import Array

    bags = sys.modules.get("blockwork.bag")
    is_bag = bags is not None and isinstance(x, (bags.Bag, bags.Item))
    return isinstance(x, (Array, Delayed)) or is_bag or _is_frame(x)


def _compute_flat(args: tuple[Any, ...], scheduler: Any, num_workers: int | None) -> tuple[Any, ...]:
    """`compute` of the arguments themselves, none looked inside."""
    import numpy as np

    from blockwork import _core
    from blockwork.array.core import Array
    from blockwork.delayed import compute_delayed

    bags = sys.modules.get("blockwork.bag")
    if bags is not None:
        # A bag is a delayed list of its items, an item its delayed value.
        args = tuple(bags.as_delayed(a) if isinstance(a, (bags.Bag, bags.Item)) else a for a in args)
    arrays = [a for a in args if isinstance(a, Array)]
    lazy = [a for a in args if isinstance(a, Delayed)]
    client = config.client(scheduler)
    if client is not None:
        buffers = iter(client._compute_arrays(arrays) if arrays else [])
        values = iter(client._compute_delayed(lazy) if lazy else [])
    else:
        sched = config.scheduler(scheduler, num_workers)
        buffers = iter(_core.compute_many([a._a for a in arrays], sched) if arrays else [])
        values = iter(compute_delayed(lazy, sched[0], sched[1]) if lazy else [])
    out = []
    for a in args:
        if isinstance(a, Array):
            r = np.asarray(next(buffers))
            out.append(r[()] if r.ndim == 0 else r)
        elif isinstance(a, Delayed):
            out.append(next(values))
        elif _is_frame(a):
            out.append(a.compute(scheduler=scheduler, num_workers=num_workers))
        else:
            out.append(a)
    return tuple(out)


def _is_frame(x: Any) -> bool:
    """Whether `x` is a blockwork dataframe, series or scalar."""
    frames = sys.modules.get("blockwork.dataframe.core")
    return frames is not None and isinstance(x, (frames._Frameish, frames.Scalar))


def persist(*args: Any, scheduler: str | None = None, num_workers: int | None = None, **kwargs: Any) -> tuple[Any, ...]:
    """Each array, dataframe, series, bag and delayed value computed and
    held in memory (on the cluster, with a client); others as they are."""
    from blockwork.array.core import Array

    bags = sys.modules.get("blockwork.bag")

    def held(a: Any) -> Any:
        ours = isinstance(a, (Array, Delayed)) or _is_frame(a) or (bags is not None and isinstance(a, bags.Bag))
        return a.persist(scheduler, num_workers) if ours and hasattr(a, "persist") else a

    return tuple(held(a) for a in args)


def visualize(*args: Any, filename: str = "mydask.dot", **kwargs: Any) -> None:
    """Writes the graph behind delayed values, or an array's graph, as Graphviz dot."""
    from blockwork.array.core import Array
    from blockwork.delayed import write_dot

    arrays = [a for a in args if isinstance(a, Array)]
    lazy = [a for a in args if isinstance(a, Delayed)]
    if (arrays and lazy) or len(arrays) > 1:
        raise ValueError("visualize draws delayed values together, or one array")
    if arrays:
        arrays[0].visualize(filename)
    else:
        write_dot(lazy, filename)


__all__ = [
    "Delayed",
    "__version__",
    "compute",
    "config",
    "delayed",
    "get",
    "open_dataset",
    "open_mfdataset",
    "open_zarr",
    "persist",
    "visualize",
]
