"""xarray on blockwork arrays: the chunk manager xarray finds through its
`xarray.chunkmanagers` entry point.

    import xarray as xr
    ds = xr.open_dataset("tas.nc").chunk({"time": 31}, chunked_array_type="blockwork")
    ds.tas.groupby("time.season").mean("time").compute()

Variables become `blockwork.array.Array`s; xarray's operations run on them
through NumPy's protocols and this manager (blockwise maps, reductions,
`compute`, `store` for `to_netcdf`/`to_zarr`).
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from xarray.backends import BackendEntrypoint
from xarray.namedarray.parallelcompat import ChunkManagerEntrypoint

import blockwork
import blockwork.array as da
from blockwork import _core
from blockwork._storage import apply_storage_options
from blockwork.array.core import AUTO_BYTES, Array, engine_dtype


def open_dataset(
    path: Any, chunks: dict[str, int] | None = None, storage_options: dict[str, Any] | None = None, **kwargs: Any
) -> Any:
    """One NetCDF file (a path or an `s3://` URL, read by ranges) as an
    xarray Dataset of blockwork arrays, read by the engine's own lazy
    reader (CF-decoded; each block one native read task). `chunks` maps
    dimensions to block lengths (the file's own chunking for the others);
    `storage_options` sets the object store's credentials and endpoint."""
    return _native([os.fspath(path)], chunks, storage_options=storage_options, **kwargs)


def open_mfdataset(
    paths: Any, chunks: dict[str, int] | None = None, storage_options: dict[str, Any] | None = None, **kwargs: Any
) -> Any:
    """A pile of NetCDF files (a glob or a list; paths or `s3://` URLs) as
    one xarray Dataset of blockwork arrays, combined by their coordinates
    by the engine's own `open_mfdataset`; every block a native read task."""
    listed = [os.fspath(paths)] if isinstance(paths, (str, os.PathLike)) else [os.fspath(p) for p in paths]
    return _native(listed, chunks, storage_options=storage_options, **kwargs)


def open_zarr(
    store: Any, chunks: dict[str, int] | None = None, storage_options: dict[str, Any] | None = None, **kwargs: Any
) -> Any:
    """A Zarr v2 or v3 store (a directory, or an `s3://` URL) as an xarray
    Dataset of blockwork arrays, each block a native read task."""
    return _native([os.fspath(store)], chunks, zarr=True, storage_options=storage_options, **kwargs)


def _native(
    paths: list[str],
    chunks: dict[str, int] | None,
    zarr: bool = False,
    storage_options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    import xarray as xr

    if kwargs:
        raise TypeError(f"blockwork's readers do not take {', '.join(sorted(kwargs))}")
    apply_storage_options(storage_options)
    fixed = {str(d): int(n) for d, n in (chunks or {}).items() if isinstance(n, (int, np.integer)) and n > 0}
    variables, coords, aux, attrs = _core.open_labeled(paths, list(fixed.items()), zarr)
    coord_vars: dict[str, Any] = {
        dim: xr.IndexVariable((dim,), *_coordinate(kind, vals, cattrs)) for dim, kind, vals, cattrs in coords
    }
    for name, dims, kind, vals, cattrs in aux:
        values, cattrs = _coordinate(kind, vals, cattrs)
        coord_vars[name] = xr.Variable(tuple(dims), values if dims else values[0], cattrs)
    data_vars = {name: xr.Variable(tuple(dims), Array(data), vattrs) for name, dims, data, vattrs in variables}
    ds = xr.Dataset(data_vars, coords=coord_vars, attrs=attrs)
    rest = {d: n for d, n in (chunks or {}).items() if d not in fixed and d in ds.dims}
    return ds.chunk(rest, chunked_array_type="blockwork") if rest else ds


def _is_zarr(path: str) -> bool:
    """A directory, or an object-store URL naming a `.zarr` store."""
    if path.startswith("s3://"):
        return path.rstrip("/").endswith(".zarr")
    return os.path.isdir(path)


def _coordinate(kind: str, values: Any, attrs: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
    """A coordinate's values as NumPy holds them, and its attributes."""
    if attrs.get("standard_name") == "forecast_period" and kind == "float":
        # GRIB's forecast step, in hours: a timedelta, as cfgrib gives it.
        return (np.asarray(values) * 3600e9).astype("timedelta64[ns]"), attrs
    return _coordinate_values(kind, values), attrs


def _coordinate_values(kind: str, values: Any) -> np.ndarray:
    if kind == "datetime64[us]":
        times = np.asarray(values, dtype="int64").view("datetime64[us]")
        # Nanoseconds where they reach (years 1678 to 2261), as xarray and cfgrib decode times.
        lo, hi = np.datetime64("1678-01-01"), np.datetime64("2262-01-01")
        if times.size == 0 or (times.min() >= lo and times.max() < hi):
            return times.astype("datetime64[ns]")
        return times
    if kind.startswith("cftime:"):
        try:
            import cftime
        except ImportError as e:
            raise ImportError(f"a time coordinate in the {kind[7:]} calendar needs the cftime package") from e
        calendar = kind[7:]
        return np.array([cftime.datetime(*v[:6], v[6], calendar=calendar) for v in values], dtype=object)
    return np.asarray(values)


def _unwrap(data: Any) -> Any:
    """A blockwork array under xarray's indexing wrappers (copy-on-write,
    caching, adapters: xarray puts them around every variable a backend
    returns), or `data` itself when a wrapper selects part of what it wraps."""
    from xarray.core import indexing

    inner = data
    while type(inner).__module__ == indexing.__name__ and hasattr(inner, "array"):
        key = getattr(inner, "key", None)
        if key is not None and not all(k == slice(None) for k in getattr(key, "tuple", (None,))):
            return data
        inner = inner.array
    return inner if isinstance(inner, Array) else data


_EXTENSIONS = (".nc", ".nc4", ".cdf", ".zarr", ".grib", ".grib2", ".grb", ".grb2")


# xarray's wrappers that only pass a whole variable through, and its CF
# decoders the engine's reader applies the same way.
_PASS_THROUGH = ("ImplicitToExplicitIndexingAdapter", "CopyOnWriteArray", "MemoryCachedArray", "NativeEndiannessArray")
_CF_DECODERS = ("_apply_mask", "_scale_offset_decoding")


def _native_read(data: Any, chunks: Any) -> Array | None:
    """The engine's own reads of a NetCDF variable that xarray opened with
    one of its engines (netCDF4, h5netcdf) and would read block by block in
    Python: found under xarray's wrappers, when these select the whole
    variable and decode it only as the engine's reader does (masking and
    unpacking). `None` otherwise, or when the reader's type or shape for it
    differ from xarray's."""
    x, decoded = data, False
    while True:
        kind = type(x).__name__
        if kind in _PASS_THROUGH:
            x = x.array
        elif kind == "_ElementwiseFunctionArray":
            func = getattr(x.func, "func", x.func)
            if getattr(func, "__name__", "") not in _CF_DECODERS:
                return None
            decoded, x = True, x.array
        elif kind == "LazilyIndexedArray":
            key = getattr(x.key, "tuple", None)
            if key is None or not all(k == slice(None) for k in key):
                return None
            x = x.array
        else:
            break
    filename = getattr(getattr(x, "datastore", None), "_filename", None)
    name = getattr(x, "variable_name", None)
    if not isinstance(filename, str) or not isinstance(name, str) or not os.path.isfile(filename):
        return None
    if not decoded and _has_cf_encoding(x):
        return None  # opened with mask_and_scale=False: the raw values are wanted
    # Regular chunks become the reader's block lengths; others a rechunk.
    sizes = [c[0] if len(set(c[:-1])) <= 1 and c[-1] <= c[0] else None for c in chunks]
    try:
        arr = Array(_core.open_variable(filename, name, sizes))
    except Exception:
        return None
    if arr.dtype != np.dtype(data.dtype) or arr.shape != tuple(data.shape):
        return None
    return arr if arr.chunks == tuple(tuple(c) for c in chunks) else arr.rechunk(chunks)


def _has_cf_encoding(backend_array: Any) -> bool:
    """Whether the variable under an xarray backend array holds masking or
    packing attributes (which the engine's reader would apply)."""
    try:
        var = backend_array.get_array()
        attrs = {k: var.getncattr(k) for k in var.ncattrs()} if hasattr(var, "ncattrs") else dict(var.attrs)
    except Exception:
        return True
    for k in ("_FillValue", "missing_value", "scale_factor", "add_offset", "_Unsigned"):
        if k not in attrs:
            continue
        value = np.asarray(attrs[k])
        # A NaN fill value of floats masks nothing: xarray leaves it, as the reader does.
        if k in ("_FillValue", "missing_value") and value.dtype.kind == "f" and bool(np.isnan(value).all()):
            continue
        return True
    return False


# Grouped reductions: xarray hands `groupby(...).mean()` and the like to
# flox when flox is installed, and flox knows NumPy, Dask and cubed arrays
# only (it would treat a blockwork array as NumPy and fail or compute it).
# flox's entry point as xarray calls it is wrapped so that blockwork arrays
# go to the engine's own grouped reduction: flox's map-reduce strategy, in
# Rust, one sparse partial per block, lazy like the rest. Every other
# array, and what the engine does not do (several groupers, bins, other
# functions), goes to flox as before (blockwork arrays computed first).
_GROUPED = ("count", "sum", "nansum", "mean", "nanmean", "var", "nanvar", "std", "nanstd")
_GROUPED_EXTREMES = ("min", "max", "nanmin", "nanmax")


def _grouped_reduction(array: Array, by: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
    """The grouped reduction flox's `groupby_reduce(array, *by, **kwargs)`
    asks for, by the engine; `None` where it is not one the engine does."""
    import pandas as pd

    func = kwargs.get("func")
    floats = array.dtype.kind == "f"
    if not isinstance(func, str) or not (func in _GROUPED or (floats and func in _GROUPED_EXTREMES)):
        return None
    if not floats and func in ("sum", "nansum"):
        return None  # integer sums stay exact in flox (the engine accumulates in float64)
    if len(by) != 1 or isinstance(by[0], Array) or np.ndim(by[0]) != 1 or array.ndim == 0:
        return None
    axis = kwargs.get("axis")
    if axis not in (None, -1, array.ndim - 1, (-1,), (array.ndim - 1,)):
        return None
    isbin = kwargs.get("isbin", False)
    finalize = kwargs.get("finalize_kwargs") or {}
    if any(isbin) if isinstance(isbin, (tuple, list)) else isbin:
        return None
    if set(finalize) - {"ddof"} or kwargs.get("min_count") not in (None, 0) or kwargs.get("reindex") is False:
        return None
    fill = kwargs.get("fill_value")
    if (
        fill is not None
        and not (func in ("sum", "nansum", "count") and fill == 0)
        and not (isinstance(fill, float) and np.isnan(fill))
    ):
        return None
    labels = np.asarray(by[0])
    expected = kwargs.get("expected_groups")
    if isinstance(expected, tuple):
        expected = expected[0] if len(expected) == 1 else None
    groups = pd.Index(pd.unique(labels[~pd.isnull(labels)]) if expected is None else expected)
    if expected is None or kwargs.get("sort", True):
        groups = groups.sort_values()
    codes = groups.get_indexer(labels).tolist()
    ddof = int(finalize.get("ddof", 0))
    # xarray moved the grouped axis last: reduce on the source's own layout
    # (the transpose would copy every block) and move the small result.
    source, perm = array._permuted or (array, tuple(range(array.ndim)))
    reduced = Array(source._a.groupby_reduce(func, perm[-1], codes, len(groups), ddof))
    result = reduced if source is array else reduced.transpose((*perm[:-1], perm[-1]))
    dtype = kwargs.get("dtype")
    if dtype is not None and result.dtype != np.dtype(dtype):
        result = result.astype(dtype)
    return (result, np.asarray(groups))


def _install_flox_dispatch() -> None:
    """Wraps flox's `groupby_reduce` as `flox.xarray` calls it (see above);
    nothing when flox is not installed."""
    import importlib.util

    if importlib.util.find_spec("flox") is None:
        return
    import flox.xarray

    original = flox.xarray.groupby_reduce
    if getattr(original, "_blockwork", False):
        return

    def groupby_reduce(array: Any, *by: Any, **kwargs: Any) -> Any:
        if isinstance(array, Array):
            done = _grouped_reduction(array, by, kwargs)
            if done is not None:
                return done
            warnings.warn(
                f"flox's grouped {kwargs.get('func')!r} of a blockwork array is not one the engine does: "
                "computing the array and calling flox",
                FutureWarning,
                stacklevel=2,
            )
            array = np.asarray(array)
        return original(array, *by, **kwargs)

    groupby_reduce._blockwork = True  # type: ignore[attr-defined]
    flox.xarray.groupby_reduce = groupby_reduce


class BlockworkBackend(BackendEntrypoint):
    """xarray's `engine="blockwork"`: NetCDF-4/NetCDF-3 and GRIB2 files (told
    apart by their content) and Zarr stores read by blockwork's own lazy readers. Pass `chunks=` (`{}` for the
    file's chunking) and `chunked_array_type="blockwork"` to keep the
    variables blockwork arrays."""

    description = "NetCDF, GRIB2 and Zarr read by blockwork's own tasks (lazy, CF-decoded)"
    url = "https://github.com/blockwork/blockwork"
    open_dataset_parameters = ("filename_or_obj", "drop_variables")

    def open_dataset(self, filename_or_obj: Any, *, drop_variables: Any = None) -> Any:  # type: ignore[override]
        path = os.fspath(filename_or_obj)
        ds = _native([path], None, zarr=_is_zarr(path))
        return ds.drop_vars(drop_variables) if drop_variables else ds

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        try:
            path = os.fspath(filename_or_obj)
        except TypeError:
            return False
        return os.path.splitext(str(path).rstrip("/"))[1] in _EXTENSIONS


class BlockworkManager(ChunkManagerEntrypoint[Array]):
    """xarray's chunk manager for blockwork arrays (`chunked_array_type="blockwork"`)."""

    array_cls: type[Array] = Array
    available: bool = True

    def __init__(self) -> None:
        self.array_cls = Array

    def is_chunked_array(self, data: Any) -> bool:
        return isinstance(data, Array)

    def chunks(self, data: Array) -> tuple[tuple[int, ...], ...]:
        return data.chunks

    def normalize_chunks(
        self,
        chunks: Any,
        shape: tuple[int, ...] | None = None,
        limit: int | None = None,
        dtype: Any = None,
        previous_chunks: Any = None,
    ) -> tuple[tuple[int, ...], ...]:
        """Explicit block lengths per axis, as the engine cuts `shape` by `chunks`."""
        if shape is None:
            if isinstance(chunks, tuple) and all(isinstance(c, tuple) for c in chunks):
                return chunks
            raise ValueError("normalize_chunks needs the shape unless the chunks are explicit")
        if isinstance(chunks, dict):
            chunks = tuple(chunks.get(i, chunks.get(i - len(shape), -1)) for i in range(len(shape)))
        if isinstance(chunks, tuple):
            chunks = tuple(
                previous_chunks[i] if c == "preserve" and previous_chunks is not None else c
                for i, c in enumerate(chunks)
            )
        kind = np.dtype(dtype if dtype is not None else "float64")
        probe = da.empty(tuple(shape), chunks=chunks, dtype=kind if kind.kind in "biuf" else "float64")
        return probe.chunks

    def from_array(self, data: Any, chunks: Any, **kwargs: Any) -> Array:
        """In-memory data as it is (NumPy's memory, viewed); a lazily
        indexed array (a file xarray opened) read block by block, each
        block's task indexing only its own region."""
        data = _unwrap(data)
        if isinstance(data, Array):
            return data.rechunk(chunks)
        native = _native_read(data, chunks)
        if native is not None:
            return native
        if isinstance(data, np.ndarray) or not hasattr(data, "__getitem__") or np.dtype(data.dtype).kind not in "biuf":
            return da.from_array(np.asarray(data), chunks=chunks)
        placeholder = da.empty(tuple(data.shape), chunks=chunks, dtype=engine_dtype(data.dtype))
        return placeholder.map_blocks(_BlockReader(data), dtype=placeholder.dtype)

    def rechunk(self, data: Array, chunks: Any, **kwargs: Any) -> Array:
        return data.rechunk(chunks)

    def compute(self, *data: Any, **kwargs: Any) -> tuple[Any, ...]:
        return blockwork.compute(*data, **kwargs)

    def persist(self, *data: Any, **kwargs: Any) -> tuple[Any, ...]:
        return blockwork.persist(*data, **kwargs)

    @property
    def array_api(self) -> Any:
        return da

    def reduction(
        self,
        arr: Array,
        func: Callable[..., Any],
        combine_func: Callable[..., Any] | None = None,
        aggregate_func: Callable[..., Any] | None = None,
        axis: int | Sequence[int] | None = None,
        dtype: Any = None,
        keepdims: bool = False,
    ) -> Array:
        """A tree reduction with Python functions: `func` on every block,
        then `aggregate_func` once over the blocks' results joined along
        the reduced axes."""
        axes = tuple(range(arr.ndim)) if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
        axes = tuple(a % arr.ndim for a in axes)
        out_dtype = np.dtype(dtype) if dtype is not None else arr.dtype
        partial_chunks = tuple((1,) * len(c) if i in axes else c for i, c in enumerate(arr.chunks))
        partial = da.map_blocks(
            lambda b: np.asarray(func(b, axis=axes, keepdims=True)),
            arr,
            dtype=out_dtype,
            chunks=partial_chunks,
        )
        whole = partial.rechunk(tuple(-1 if i in axes else c for i, c in enumerate(partial.chunks)))
        finish = aggregate_func or combine_func or func
        kept = enumerate(whole.chunks)
        out_chunks = tuple(((1,) if i in axes else c) for i, c in kept if keepdims or i not in axes)
        return da.map_blocks(
            lambda b: np.asarray(finish(b, axis=axes, keepdims=keepdims)),
            whole,
            dtype=out_dtype,
            chunks=out_chunks,
            drop_axis=[] if keepdims else list(axes),
        )

    def apply_gufunc(
        self,
        func: Callable[..., Any],
        signature: str,
        *args: Any,
        axes: Sequence[tuple[int, ...]] | None = None,
        keepdims: bool = False,
        output_dtypes: Sequence[Any] | None = None,
        vectorize: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """A generalized ufunc over blocks: core dimensions must be one block
        (rechunk them first), loop dimensions line up block by block."""
        # Dask's own options: blockwork never rechunks core dimensions
        # behind the caller's back, and needs no meta.
        kwargs.pop("allow_rechunk", None)
        kwargs.pop("meta", None)
        if kwargs.pop("output_sizes", None):
            raise NotImplementedError("blockwork's apply_gufunc cannot make new output dimensions (output_sizes=)")
        inputs, outputs = _parse_signature(signature)
        if len(outputs) != 1:
            raise NotImplementedError("blockwork's apply_gufunc makes one output")
        if axes is not None or keepdims:
            raise NotImplementedError("blockwork's apply_gufunc takes no axes= or keepdims=")
        if vectorize:
            func = np.vectorize(func, signature=signature)
        arrays = [a if isinstance(a, Array) else da.from_array(np.asarray(a)) for a in args]
        for a, core in zip(arrays, inputs, strict=True):
            for ax in range(a.ndim - len(core), a.ndim):
                if len(a.chunks[ax]) > 1:
                    raise ValueError(
                        f"core dimension {ax} of an apply_gufunc input has {len(a.chunks[ax])} blocks: "
                        "rechunk it to one block first"
                    )
        loop = max(a.ndim - len(core) for a, core in zip(arrays, inputs, strict=True))
        letters = "abcdefghijklmnopqrstuvwxyz"
        core_names = sorted({d for core in (*inputs, *outputs) for d in core})
        if len(core_names) + loop > len(letters):
            raise ValueError("too many dimensions for apply_gufunc")
        core_letter = {d: letters[loop + i] for i, d in enumerate(core_names)}
        loop_ind = letters[:loop]
        pairs: list[Any] = []
        for a, core in zip(arrays, inputs, strict=True):
            n_loop = a.ndim - len(core)
            pairs += [a, loop_ind[loop - n_loop :] + "".join(core_letter[d] for d in core)]
        out_ind = loop_ind + "".join(core_letter[d] for d in outputs[0])
        dtype = output_dtypes[0] if output_dtypes else arrays[0].dtype
        return da.blockwise(lambda *blocks: func(*blocks, **kwargs), out_ind, *pairs, dtype=dtype)

    def map_blocks(
        self,
        func: Callable[..., Any],
        *args: Any,
        dtype: Any = None,
        chunks: Any = None,
        drop_axis: Any = None,
        new_axis: Any = None,
        **kwargs: Any,
    ) -> Any:
        return da.map_blocks(func, *args, dtype=dtype, chunks=chunks, drop_axis=drop_axis, new_axis=new_axis, **kwargs)

    def blockwise(
        self,
        func: Callable[..., Any],
        out_ind: Any,
        *args: Any,
        adjust_chunks: Any = None,
        new_axes: Any = None,
        align_arrays: bool = True,
        **kwargs: Any,
    ) -> Any:
        if adjust_chunks or new_axes:
            raise NotImplementedError("blockwork's blockwise takes no adjust_chunks= or new_axes=")
        return da.blockwise(func, out_ind, *args, **kwargs)

    def unify_chunks(self, *args: Any, **kwargs: Any) -> tuple[dict[str, Any], list[Any]]:
        """Arrays rechunked so that each index letter has one chunking (the
        finest of those given)."""
        pairs = list(zip(args[::2], args[1::2], strict=True))
        chosen: dict[str, tuple[int, ...]] = {}
        for a, ind in pairs:
            if a is None or ind is None:
                continue
            for letter, c in zip(ind, a.chunks, strict=True):
                if letter not in chosen or len(c) > len(chosen[letter]):
                    chosen[letter] = c
        out = []
        for a, ind in pairs:
            if isinstance(a, Array) and ind is not None:
                want = tuple(chosen[letter] for letter in ind)
                out.append(a if a.chunks == want else a.rechunk(want))
            else:
                out.append(a)
        return chosen, out

    def store(self, sources: Any, targets: Any, **kwargs: Any) -> Any:
        """Writes each source into its target (`target[region] = value`) in
        slabs of whole blocks along the first axis, each slab computed on
        its own, so that at most about `STORE_BYTES` is in memory at once."""
        many = isinstance(sources, (list, tuple))
        sources = list(sources) if many else [sources]
        targets = list(targets) if many else [targets]
        regions = kwargs.get("regions")
        regions = list(regions) if isinstance(regions, (list, tuple)) else [regions] * len(sources)
        for source, target, region in zip(sources, targets, regions, strict=True):
            base = _region_starts(region, source.ndim)
            for lo, hi in _slabs(source):
                value = source[lo:hi].compute() if source.ndim else source.compute()
                where = (slice(base[0] + lo, base[0] + hi), *base[1:]) if source.ndim else ...
                target[where] = value
        return None

    def get_auto_chunk_size(self) -> int:
        return AUTO_BYTES


STORE_BYTES = 256 * 2**20


def _slabs(x: Array) -> list[tuple[int, int]]:
    """Row ranges of whole blocks along the first axis, each about
    `STORE_BYTES` (at least one block)."""
    if x.ndim == 0:
        return [(0, 0)]
    row_bytes = max(1, x.nbytes // max(1, x.shape[0]))
    out: list[tuple[int, int]] = []
    start = stop = 0
    for length in x.chunks[0]:
        if stop > start and (stop + length - start) * row_bytes > STORE_BYTES:
            out.append((start, stop))
            start = stop
        stop += length
    out.append((start, stop))
    return out


def _region_starts(region: Any, ndim: int) -> list[Any]:
    """The first axis' offset and the other axes' slices of a target region."""
    if region is None or region is Ellipsis:
        return [0, *[slice(None)] * (ndim - 1)] if ndim else [0]
    parts = list(region) if isinstance(region, tuple) else [region]
    parts += [slice(None)] * (ndim - len(parts))
    first = parts[0]
    start = first.start or 0 if isinstance(first, slice) else int(first)
    return [start, *parts[1:]]


# The C libraries behind xarray's file backends (netCDF4, HDF5) are not
# safe to call from several threads at once: block reads through them take
# turns, as xarray's own locks make them under Dask.
_READ_LOCK = threading.Lock()


class _BlockReader:
    """Reads one block's region of a lazily indexed array (picklable with
    the array, so a cluster's workers read their own blocks)."""

    def __init__(self, source: Any) -> None:
        self.source = source

    def __call__(self, block: np.ndarray, block_info: dict[Any, Any] | None = None) -> np.ndarray:
        assert block_info is not None
        where = block_info[None]["array-location"]
        region = tuple(slice(start, stop) for start, stop in where)
        with _READ_LOCK:
            return np.asarray(self.source[region])


def _parse_signature(signature: str) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    def dims(part: str) -> list[tuple[str, ...]]:
        out = []
        for group in part.split("),"):
            g = group.strip().strip("()")
            out.append(tuple(d.strip() for d in g.split(",") if d.strip()))
        return out

    left, right = signature.replace(" ", "").split("->")
    return dims(left), dims(right)


_install_flox_dispatch()
