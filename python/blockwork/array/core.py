"""The `Array` class: dask.array's API over the engine's lazy arrays."""

from __future__ import annotations

import builtins
import functools
import inspect
import math
import operator
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from blockwork import _core, config
from blockwork._names import funcname

# The engine's element types, and how other NumPy types are held.
DTYPES = ("float64", "float32", "int64", "int32", "uint8", "bool", "complex128", "complex64")
_WIDEN = {
    "int8": "int32",
    "int16": "int32",
    "uint16": "int32",
    "uint32": "int64",
    "uint64": "int64",
    "float16": "float32",
}
AUTO_BYTES = 128 * 2**20


def engine_dtype(dtype: Any) -> str:
    """The engine's name for a NumPy dtype (narrow integers and float16 widen)."""
    name = np.dtype(dtype).name
    if name in DTYPES:
        return name
    if name in _WIDEN:
        return _WIDEN[name]
    raise TypeError(f"dtype {name} is not supported: blockwork arrays hold {', '.join(DTYPES)}")


def normalize_chunks(chunks: Any, shape: Sequence[int], dtype: str, previous: Any = None) -> Any:
    """A chunk specification in the forms the engine takes.

    Accepts what dask.array does: "auto", a byte size ("64MiB"), an int, -1
    or None per axis, "auto" per axis, block-length tuples per axis, a dict
    {axis: spec} (missing axes keep `previous` chunks, or are whole), and
    mixes of these.
    """
    ndim = len(shape)
    if isinstance(chunks, dict):
        spec: list[Any] = []
        for ax in range(ndim):
            c = chunks.get(ax, chunks.get(ax - ndim))
            if c is None:
                c = previous[ax] if previous is not None else -1
            spec.append(c)
        chunks = tuple(spec)
    if chunks is None or isinstance(chunks, (str, int, np.integer)):
        return int(chunks) if isinstance(chunks, np.integer) else chunks
    chunks = tuple(chunks)
    if len(chunks) != ndim:
        raise ValueError(f"chunks {chunks!r} give {len(chunks)} axes for an array of {ndim} dimensions")
    if not any(isinstance(c, (tuple, list, str)) for c in chunks):
        return tuple(None if c is None else int(c) for c in chunks)
    return _explicit(chunks, shape, np.dtype(dtype).itemsize)


def _explicit(chunks: tuple[Any, ...], shape: Sequence[int], itemsize: int) -> tuple[tuple[int, ...], ...]:
    fixed = [c for c in chunks if not (isinstance(c, str) and c == "auto")]
    lengths: list[int | None] = []
    for c, n in zip(chunks, shape, strict=True):
        if isinstance(c, (tuple, list)):
            lengths.append(None)
        elif isinstance(c, str):
            lengths.append(None if c == "auto" else _raise_chunk(c))
        else:
            lengths.append(n if c is None or c == -1 else int(c))
    n_auto = len(chunks) - len(fixed)
    known = math.prod(
        (sum(c) // max(len(c), 1) if isinstance(c, (tuple, list)) else (lengths[i] or 1))
        for i, c in enumerate(chunks)
        if not (isinstance(c, str) and c == "auto")
    )
    auto_len = max(1, int((AUTO_BYTES / itemsize / max(known, 1)) ** (1 / max(n_auto, 1))))
    out = []
    for c, n, length in zip(chunks, shape, lengths, strict=True):
        if isinstance(c, (tuple, list)):
            if sum(c) != n:
                raise ValueError(f"chunks {tuple(c)} sum to {sum(c)}, the axis has length {n}")
            out.append(tuple(int(x) for x in c))
            continue
        step = min(n, auto_len) if length is None else length
        if step <= 0 and n > 0:
            raise ValueError(f"chunk length {step} must be positive")
        out.append(tuple([step] * (n // step) + ([n % step] if n % step else [])) if n else (0,))
    return tuple(out)


def _raise_chunk(c: str) -> int:
    raise ValueError(f"per-axis chunks {c!r} must be an int, -1, None, 'auto' or a tuple of block lengths")


def _scalar(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    return x


def _operand(x: Any) -> Any:
    """An operand for the engine: an engine array or a Python scalar; None if unknown."""
    if isinstance(x, Array):
        return x._a
    if isinstance(x, (np.generic, list, tuple)):
        # A NumPy scalar keeps its type (NEP 50: uint8 + np.int64(1) is
        # int64); a sequence is an array, as NumPy reads it.
        return asarray(np.asarray(x))._a
    if isinstance(x, (bool, int, float, complex)):
        return x
    if isinstance(x, np.ndarray) or hasattr(x, "__array__"):
        return asarray(x)._a
    return None


def _matmul(a: Array, b: Array) -> Array:
    """`a @ b` as NumPy's `matmul` for 1-d and 2-d operands: a vector on the
    left is a row, on the right a column, and that axis is dropped again."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: an operand is 0-d (shapes {a.shape} and {b.shape}); scale with * instead")
    row, column = a.ndim == 1, b.ndim == 1
    out = Array((a[None, :] if row else a)._a.matmul((b[:, None] if column else b)._a))
    if row and column:
        return out[0, 0]
    if row:
        return out[0]
    return out[:, 0] if column else out


# `np.<ufunc>.reduce(x, axis=…)` as the reduction it is.
_UFUNC_REDUCTIONS = {
    "add": "sum",
    "multiply": "prod",
    "minimum": "min",
    "maximum": "max",
    "logical_and": "all",
    "logical_or": "any",
}


def _binary(op: str, reflected: bool = False) -> Callable[[Array, Any], Any]:
    def method(self: Array, other: Any) -> Any:
        o = _operand(other)
        if o is None:
            return NotImplemented
        return Array(self._a.binary(op, o, reflected))

    method.__name__ = f"__{'r' if reflected else ''}{op}__"
    return method


def _binaries(op: str) -> tuple[Callable[[Array, Any], Any], Callable[[Array, Any], Any]]:
    """The operator `op` and its reflected twin (`__add__`, `__radd__`)."""
    return _binary(op), _binary(op, True)


def _named(method: Callable[..., Array], name: str, doc: str) -> Callable[..., Array]:
    method.__name__ = name
    method.__qualname__ = f"Array.{name}"
    method.__doc__ = doc
    return method


# The parameters of the reduction methods, after `self`, in Dask's order:
# `sum`, `prod` and `mean` take `dtype`; `var` and `std` also `ddof`; the
# selections (`min`, `argmax`, `any`, …) neither.
_SUM_PARAMS = ("axis", "dtype", "keepdims", "split_every", "out")
_MOMENT_PARAMS = ("axis", "dtype", "keepdims", "ddof", "split_every", "out")
_SELECTION_PARAMS = ("axis", "keepdims", "split_every", "out")
_REDUCE_DEFAULTS: dict[str, Any] = {
    "axis": None,
    "dtype": None,
    "keepdims": False,
    "ddof": 0,
    "split_every": None,
    "out": None,
}


def _reduction(name: str, doc: str, params: Sequence[str] = _SUM_PARAMS) -> Callable[..., Array]:
    """The reduction method `name`, taking `params` as NumPy's does."""
    p = inspect.Parameter
    signature = inspect.Signature(
        [p("self", p.POSITIONAL_OR_KEYWORD)]
        + [p(k, p.POSITIONAL_OR_KEYWORD, default=_REDUCE_DEFAULTS[k]) for k in params]
    )

    def method(*args: Any, **kwargs: Any) -> Array:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        given = dict(bound.arguments)
        self: Array = given.pop("self")
        return self._reduce(name, **given)

    method.__signature__ = signature  # type: ignore[attr-defined]
    return _named(method, name, doc)


def _axes(axis: int | Sequence[int] | None) -> list[int] | None:
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)):
        return [int(axis)]
    return [int(a) for a in axis]


# Reductions that a gathered axis can take run by run (see `gathered.py`).
_RUN_REDUCTIONS = ("sum", "nansum", "mean", "nanmean")


class Array:
    """A lazy N-d array cut into blocks, as `dask.array.Array`.

    Operations build a task graph; `compute()` runs it (on the configured
    scheduler, the GIL released) and returns a `numpy.ndarray`.
    """

    __slots__ = ("_a", "_gathered", "_held", "_permuted")
    __array_priority__ = 11

    def __init__(self, core: _core.Array, held: Any = None, gathered: Any = None) -> None:
        self._a = core
        # Futures of its blocks on a cluster (after a client's `persist`):
        # while they live, computations on that client reuse the blocks.
        self._held = held
        # For `source.take(indices, axis)`: (source, axis, indices), so that
        # a sum or mean over that axis reads the source's runs of rows
        # instead of gathering them (xarray's group-by selects each group
        # this way, then reduces it).
        self._gathered = gathered
        # For `source.transpose(perm)`: (source, perm), so that a grouped
        # reduction along an axis of it runs on the source's own layout
        # (xarray moves the grouped axis last before handing it to flox).
        self._permuted: tuple[Array, tuple[int, ...]] | None = None

    # -- metadata -----------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape."""
        return self._a.shape

    @property
    def dtype(self) -> np.dtype[Any]:
        """The element type, a `numpy.dtype`."""
        return np.dtype(self._a.dtype)

    @property
    def chunks(self) -> tuple[tuple[int, ...], ...]:
        """Block lengths along each axis."""
        return self._a.chunks

    @property
    def chunksize(self) -> tuple[int, ...]:
        """The largest block length along each axis."""
        return tuple(max(c) if c else 0 for c in self.chunks)

    @property
    def numblocks(self) -> tuple[int, ...]:
        """Number of blocks along each axis."""
        return tuple(len(c) for c in self.chunks)

    @property
    def npartitions(self) -> int:
        """Total number of blocks."""
        return math.prod(self.numblocks)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """Number of elements."""
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        """Bytes of the elements."""
        return self.size * self.dtype.itemsize

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self.dtype.itemsize

    @property
    def name(self) -> str:
        """The name of the layer that makes the blocks."""
        return self._a.name

    @property
    def T(self) -> Array:
        """The transpose."""
        return self.transpose()

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __repr__(self) -> str:
        chunksize = self.chunksize
        return (
            f"blockwork.array<{self.name.rsplit('-', 1)[0]}, shape={self.shape}, dtype={self.dtype}, "
            f"chunksize={chunksize}, chunktype=numpy.ndarray>"
        )

    def _repr_html_(self) -> str:
        def fmt(n: float) -> str:
            for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
                if n < 1024 or unit == "TiB":
                    return f"{n:.2f} {unit}" if unit != "B" else f"{int(n)} B"
                n /= 1024
            return str(n)

        chunk_bytes = math.prod(self.chunksize) * self.itemsize
        rows = [
            ("Bytes", fmt(self.nbytes), fmt(chunk_bytes)),
            ("Shape", str(self.shape), str(self.chunksize)),
            ("Dtype", str(self.dtype), ""),
        ]
        body = "".join(f"<tr><th>{a}</th><td>{b}</td><td>{c}</td></tr>" for a, b, c in rows)
        tasks = f"{self._a.ntasks} tasks, {self.npartitions} chunks in 1 graph layer"
        return (
            "<table><thead><tr><td></td><th>Array</th><th>Chunk</th></tr></thead>"
            f"<tbody>{body}<tr><th>Graph</th><td colspan='2'>{tasks}</td></tr></tbody></table>"
        )

    # -- computing ----------------------------------------------------
    def compute(self, scheduler: Any = None, num_workers: int | None = None, **kwargs: Any) -> Any:
        """Runs the graph and returns a `numpy.ndarray` (a NumPy scalar for 0-d results)."""
        client = config.client(scheduler)
        if client is not None:
            out = client._compute_arrays([self])[0]
        else:
            out = np.asarray(self._a.compute(config.scheduler(scheduler, num_workers)))
        return out[()] if out.ndim == 0 else out

    def persist(self, scheduler: Any = None, num_workers: int | None = None, **kwargs: Any) -> Array:
        """Computes the blocks and returns an array backed by them (with a
        client: computed on its cluster, the blocks held here)."""
        client = config.client(scheduler)
        if client is not None:
            return client.persist(self)  # type: ignore[no-any-return]
        return Array(self._a.persist(config.scheduler(scheduler, num_workers)))

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        client = config.client()
        if client is not None:
            out = client._compute_arrays([self])[0]
        else:
            out = np.asarray(self._a.compute(config.scheduler()))
        return out if dtype is None else out.astype(dtype, copy=False)

    def __bool__(self) -> bool:
        return bool(self.compute())

    def __float__(self) -> float:
        return float(self.compute())

    def __int__(self) -> int:
        return int(self.compute())

    def __index__(self) -> int:
        return operator.index(self.compute())

    def __iter__(self) -> Iterator[Array]:
        for i in range(len(self)):
            yield self[i]

    def visualize(self, filename: str = "mydask.dot") -> None:
        """Writes the task graph as Graphviz dot to `filename`."""
        self._a.visualize(filename)

    def to_npy(self, path: str, scheduler: Any = None, num_workers: int | None = None) -> None:
        """Computes the array and writes it to a `.npy` file from the result's memory."""
        client = config.client(scheduler)
        if client is not None:
            np.save(path, client._compute_arrays([self])[0])
            return
        self._a.to_npy(path, config.scheduler(scheduler, num_workers))

    def to_zarr(self, url: str, component: str | None = None, zarr_format: int = 3) -> None:
        """Writes the array as a new Zarr store whose root is the array (see `blockwork.array.to_zarr`)."""
        from blockwork.array.routines import to_zarr

        to_zarr(self, url, component, zarr_format)

    def store(self, target: Any) -> None:
        """Writes the computed array into `target` (anything with `__setitem__`)."""
        target[...] = self.compute()

    # -- operators ----------------------------------------------------
    __add__, __radd__ = _binaries("add")
    __sub__, __rsub__ = _binaries("sub")
    __mul__, __rmul__ = _binaries("mul")
    __truediv__, __rtruediv__ = _binaries("truediv")
    __mod__, __rmod__ = _binaries("mod")
    __pow__, __rpow__ = _binaries("pow")
    __and__, __rand__ = _binaries("and")
    __or__, __ror__ = _binaries("or")
    __xor__, __rxor__ = _binaries("xor")
    __eq__ = _binary("eq")  # type: ignore[assignment]
    __ne__ = _binary("ne")  # type: ignore[assignment]
    __lt__ = _binary("lt")
    __le__ = _binary("le")
    __gt__ = _binary("gt")
    __ge__ = _binary("ge")
    __hash__ = None  # type: ignore[assignment]

    def __floordiv__(self, other: Any) -> Any:
        o = _operand(other)
        return NotImplemented if o is None else Array(self._a.floordiv(o, False))

    def __rfloordiv__(self, other: Any) -> Any:
        o = _operand(other)
        return NotImplemented if o is None else Array(self._a.floordiv(o, True))

    def __copy__(self) -> Array:
        # A lazy array never changes: a copy is the array itself (what
        # xarray's `copy(deep=True)` and `copy.deepcopy` get).
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Array:
        return self

    def __matmul__(self, other: Any) -> Any:
        o = _operand(other)
        if o is None or not isinstance(o, _core.Array):
            return NotImplemented
        return _matmul(self, Array(o))

    def __rmatmul__(self, other: Any) -> Any:
        o = _operand(other)
        if o is None or not isinstance(o, _core.Array):
            return NotImplemented
        return _matmul(Array(o), self)

    def __neg__(self) -> Array:
        return Array(self._a.unary("neg"))

    def __pos__(self) -> Array:
        return self

    def __abs__(self) -> Array:
        return Array(self._a.unary("abs"))

    def __invert__(self) -> Array:
        return Array(self._a.unary("invert"))

    # -- NumPy protocols ----------------------------------------------
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        from blockwork.array import ufuncs

        if kwargs.get("out") is not None:
            return NotImplemented
        if method == "reduce" and ufunc.__name__ in _UFUNC_REDUCTIONS and isinstance(inputs[0], Array):
            axis = kwargs.get("axis", 0)
            result = inputs[0]._reduce(
                _UFUNC_REDUCTIONS[ufunc.__name__], axis, kwargs.get("dtype"), bool(kwargs.get("keepdims", False))
            )
            return result
        if method != "__call__":
            return NotImplemented
        impl = ufuncs.UFUNCS.get(ufunc.__name__)
        if impl is None:
            warnings.warn(
                f"numpy.{ufunc.__name__} is not implemented by blockwork arrays: computing the inputs "
                "and calling NumPy. Use map_blocks to stay lazy.",
                FutureWarning,
                stacklevel=2,
            )
            return ufunc(*(i.compute() if isinstance(i, Array) else i for i in inputs), **kwargs)
        dtype = kwargs.pop("dtype", None)
        kwargs.pop("casting", None)
        if kwargs:
            return NotImplemented
        out = impl(*inputs)
        return out.astype(dtype) if dtype is not None and isinstance(out, Array) else out

    @property
    def real(self) -> Array:
        """The real parts (the array itself when its elements are real)."""
        return Array(self._a.unary("real")) if self.dtype.kind == "c" else self

    @property
    def imag(self) -> Array:
        """The imaginary parts (zeros of the same type when the elements are real)."""
        return Array(self._a.unary("imag"))

    def conj(self) -> Array:
        """The complex conjugates (the array itself when its elements are real)."""
        return Array(self._a.unary("conj")) if self.dtype.kind == "c" else self

    conjugate = conj

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        from blockwork.array import routines

        impl = routines.ARRAY_FUNCTIONS.get(func)
        if impl is not None:
            return impl(*args, **kwargs)
        warnings.warn(
            f"numpy.{func.__name__} is not implemented by blockwork arrays: computing the inputs "
            "and calling NumPy. Use map_blocks or a blockwork function to stay lazy.",
            FutureWarning,
            stacklevel=2,
        )

        def computed(x: Any) -> Any:
            if isinstance(x, Array):
                return x.compute()
            if isinstance(x, (list, tuple)):
                return type(x)(computed(y) for y in x)
            return x

        return func(*computed(args), **{k: computed(v) for k, v in kwargs.items()})

    # -- reductions ---------------------------------------------------
    def _reduce(
        self,
        name: str,
        axis: Any = None,
        dtype: Any = None,
        keepdims: bool = False,
        ddof: int = 0,
        split_every: int | None = None,
        out: Any = None,
    ) -> Array:
        if out is not None:
            raise TypeError(f"{name}: the out= argument is not supported by lazy arrays")
        if self._gathered is not None and dtype is None and name in _RUN_REDUCTIONS:
            from blockwork.array.gathered import reduce_runs

            reduced = reduce_runs(self, name, _axes(axis), keepdims)
            if reduced is not None:
                return reduced
        x = self if dtype is None else self.astype(dtype)
        result = Array(x._a.reduce(name, _axes(axis), keepdims, ddof, split_every))
        return result if dtype is None else result.astype(dtype)

    sum = _reduction("sum", "Sum of the elements (integers widen to int64).")
    prod = _reduction("prod", "Product of the elements.")
    mean = _reduction("mean", "Arithmetic mean (float64; float32 for float32 input).")
    var = _reduction("var", "Variance with `ddof` delta degrees of freedom.", _MOMENT_PARAMS)
    std = _reduction("std", "Standard deviation with `ddof` delta degrees of freedom.", _MOMENT_PARAMS)
    min = _reduction("min", "Smallest element (NaN if any is NaN).", _SELECTION_PARAMS)
    max = _reduction("max", "Largest element (NaN if any is NaN).", _SELECTION_PARAMS)
    argmin = _reduction("argmin", "Index of the smallest element (flat when `axis` is None).", _SELECTION_PARAMS)
    argmax = _reduction("argmax", "Index of the largest element (flat when `axis` is None).", _SELECTION_PARAMS)
    any = _reduction("any", "Whether any element is nonzero.", _SELECTION_PARAMS)
    all = _reduction("all", "Whether every element is nonzero.", _SELECTION_PARAMS)

    def cumsum(self, axis: int | None = None, dtype: Any = None, out: Any = None) -> Array:
        """Cumulative sum along an axis (of the flattened array when `axis` is None)."""
        return self._cumulative("cumsum", axis, dtype, out)

    def cumprod(self, axis: int | None = None, dtype: Any = None, out: Any = None) -> Array:
        """Cumulative product along an axis (of the flattened array when `axis` is None)."""
        return self._cumulative("cumprod", axis, dtype, out)

    def _cumulative(self, name: str, axis: int | None, dtype: Any, out: Any) -> Array:
        if out is not None:
            raise TypeError(f"{name}: the out= argument is not supported by lazy arrays")
        x = self if dtype is None else self.astype(dtype)
        if axis is None:
            x, axis = x.reshape(-1), 0
        return Array(x._a.cumulative(name, int(axis)))

    # -- elementwise and shape ----------------------------------------
    def astype(self, dtype: Any, **kwargs: Any) -> Array:
        """The array with another element type."""
        name = engine_dtype(dtype)
        return self if name == self._a.dtype else Array(self._a.astype(name))

    def clip(self, min: Any = None, max: Any = None, **kwargs: Any) -> Array:
        """Elements limited to `[min, max]`, in the type NumPy gives (an
        integer array clipped by floats is float); bounds may be arrays."""
        lo = kwargs.pop("a_min", min)
        hi = kwargs.pop("a_max", max)
        bounds = [b for b in (lo, hi) if b is not None]
        if not builtins.all(not isinstance(b, Array) and np.ndim(b) == 0 for b in bounds):
            from blockwork.array.ufuncs import UFUNCS

            out = self if lo is None else UFUNCS["maximum"](self, lo)
            return out if hi is None else UFUNCS["minimum"](out, hi)
        bounds = [_scalar(b) for b in bounds]
        dtype = np.result_type(self.dtype, *bounds) if bounds else self.dtype
        x = self if dtype == self.dtype else self.astype(dtype)
        return Array(x._a.clip(None if lo is None else float(lo), None if hi is None else float(hi)))

    def round(self, decimals: int = 0) -> Array:
        """Rounded to `decimals` places, halves to even (as NumPy); integers
        round to tens, hundreds, … for negative `decimals`, exactly."""
        if self.dtype.kind in "iub":
            if decimals >= 0 or self.dtype.kind == "b":
                return self
            step = 10 ** (-decimals)
            q = self // step
            twice = 2 * (self - q * step)
            up = (twice > step) | ((twice == step) & (q % 2 == 1))
            from blockwork.array.routines import where

            return where(up, q + 1, q) * step
        if decimals == 0:
            return Array(self._a.unary("rint"))
        scale = 10.0**decimals
        return Array((self * scale)._a.unary("rint")) / scale

    def dot(self, other: Any) -> Array:
        """The matrix product."""
        return self @ other

    def transpose(self, *axes: Any) -> Array:
        """Axes permuted (reversed by default)."""
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = () if axes[0] is None else tuple(axes[0])
        perm = tuple(int(a) % self.ndim for a in axes) if axes else tuple(range(self.ndim))[::-1]
        out = Array(self._a.transpose(list(perm)))
        out._permuted = (self, perm)
        return out

    def swapaxes(self, axis1: int, axis2: int) -> Array:
        """Two axes swapped."""
        return Array(self._a.swapaxes(axis1, axis2))

    def reshape(self, *shape: Any, merge_chunks: bool = True, limit: Any = None) -> Array:
        """The same elements in another shape (C order); one length may be -1."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        shape = tuple(int(s) for s in shape)
        if shape.count(-1) > 1:
            raise ValueError("can only specify one unknown dimension")
        if -1 in shape:
            known = math.prod(s for s in shape if s != -1)
            if known == 0 or self.size % known:
                raise ValueError(f"cannot reshape an array of size {self.size} into shape {shape}")
            shape = tuple(self.size // known if s == -1 else s for s in shape)
        return Array(self._a.reshape(list(shape)))

    def ravel(self) -> Array:
        """The array as one dimension."""
        return self.reshape(-1)

    flatten = ravel

    def squeeze(self, axis: Any = None) -> Array:
        """Length-1 axes removed."""
        return Array(self._a.squeeze(_axes(axis)))

    def rechunk(
        self,
        chunks: Any = "auto",
        threshold: Any = None,
        block_size_limit: Any = None,
        balance: bool = False,
        method: Any = None,
    ) -> Array:
        """The same array cut into other blocks (`None` for an axis keeps its
        blocks, as in dask's `rechunk`)."""
        if isinstance(chunks, (tuple, list)) and len(chunks) == self.ndim:
            chunks = tuple(old if c is None else c for c, old in zip(chunks, self.chunks, strict=True))
        return Array(self._a.rechunk(normalize_chunks(chunks, self.shape, self._a.dtype, self.chunks)))

    def blocks_at(self, *index: int) -> Array:
        """One block as an array."""
        return Array(self._a.block([int(i) for i in index]))

    # -- user functions -----------------------------------------------
    def map_overlap(
        self, func: Callable[..., Any], depth: Any, boundary: Any = "none", trim: bool = True, **kwargs: Any
    ) -> Array:
        """`func` on every block grown by `depth` neighbouring elements, then trimmed back."""
        return map_overlap(func, self, depth=depth, boundary=boundary, trim=trim, **kwargs)

    def map_blocks(
        self,
        func: Callable[..., Any],
        *args: Any,
        dtype: Any = None,
        chunks: Any = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> Array:
        """`func(block, *args, **kwargs)` on every block (a NumPy array).

        The result has `dtype` (inferred by calling `func` on a small array of
        ones when not given) and the block lengths `chunks` (the input's by
        default; a tuple of ints is the shape of every block, as in Dask).
        """
        return map_blocks(func, self, *args, dtype=dtype, chunks=chunks, name=name, **kwargs)

    # -- indexing -----------------------------------------------------
    def __getitem__(self, key: Any) -> Array:
        from blockwork.array.indexing import getitem

        return getitem(self, key)


def map_blocks(
    func: Callable[..., Any],
    *args: Any,
    dtype: Any = None,
    chunks: Any = None,
    name: str | None = None,
    drop_axis: Any = None,
    new_axis: Any = None,
    meta: Any = None,
    **kwargs: Any,
) -> Array:
    """`func` on every block, as `dask.array.map_blocks`.

    A `func` with a `block_info` or `block_id` parameter gets dask's
    description of the block, or the output block's index; `meta` gives
    the result's type when `dtype` is not given.

    `args` holds the array, then further arguments passed to every call;
    with several arrays among them, their blocks line up by position
    (trailing axes aligned, a length-1 axis broadcast) and `func` gets one
    block of each.
    """
    arrays = [a for a in args if isinstance(a, Array)]
    if not arrays:
        raise TypeError("map_blocks needs a blockwork array among its arguments")
    if len(arrays) > 1 or not isinstance(args[0], Array):
        if chunks is not None or drop_axis is not None or new_axis is not None or _takes_block_info(func):
            raise ValueError(
                "map_blocks over several arrays keeps the blocks' shapes: chunks=, drop_axis=, new_axis= "
                "and block_info are taken with one array only"
            )
        from blockwork.array.blockwise import map_blocks_many

        return map_blocks_many(func, args, dtype, name, kwargs)
    x, rest = args[0], args[1:]
    if dtype is None and meta is not None:
        dtype = np.asarray(meta).dtype
    if dtype is None:
        try:
            probe = func(np.ones((1,) * x.ndim, dtype=x.dtype), *rest, **kwargs)
            dtype = np.asarray(probe).dtype
        except Exception:
            dtype = x.dtype
    if chunks is None:
        out_chunks = _dropped_and_added(x, drop_axis, new_axis)
    elif all(isinstance(c, (int, np.integer)) for c in chunks):
        # Each block's shape: as many blocks per axis as the input has
        # (one on an added axis).
        blocks = [len(c) for c in _dropped_and_added(x, drop_axis, new_axis)]
        if len(blocks) != len(chunks):
            raise ValueError(f"map_blocks: chunks={chunks} for a result of {len(blocks)} dimensions")
        out_chunks = [[int(c)] * n for c, n in zip(chunks, blocks, strict=True)]
    else:
        out_chunks = [[int(b) for b in c] for c in chunks]
    label = name or funcname(func)
    if _takes_block_info(func):
        wanted = frozenset(_block_params(func))
        f = functools.partial(_call_with_info, func, rest, kwargs, x.chunks, out_chunks, np.dtype(dtype), wanted)
        return Array(x._a.map_blocks(f, engine_dtype(dtype), out_chunks, label, True))
    f = func if not rest and not kwargs else functools.partial(_call_with, func, rest, kwargs)
    return Array(x._a.map_blocks(f, engine_dtype(dtype), out_chunks, label))


def _axis_list(axes: Any, ndim: int) -> list[int]:
    if axes is None:
        return []
    items = [axes] if isinstance(axes, (int, np.integer)) else list(axes)
    out = []
    for a in items:
        if not -ndim <= int(a) < ndim:
            raise ValueError(f"axis {a} is out of bounds for {ndim} dimensions")
        out.append(int(a) % ndim)
    return sorted(set(out))


def _dropped_and_added(x: Array, drop_axis: Any, new_axis: Any) -> list[list[int]]:
    """The output chunks of map_blocks with Dask's `drop_axis`/`new_axis`:
    dropped axes must hold one block (each block's result lacks them), new
    axes are one block of length 1."""
    drop = _axis_list(drop_axis, x.ndim)
    for a in drop:
        if len(x.chunks[a]) > 1:
            raise ValueError(
                f"map_blocks: drop_axis {a} has {len(x.chunks[a])} blocks; make it one block first "
                f"(x.rechunk({{{a}: -1}}))"
            )
    out = [list(c) for i, c in enumerate(x.chunks) if i not in drop]
    for a in _axis_list(new_axis, len(out) + len(_as_list(new_axis))):
        out.insert(a, [1])
    return out


def _as_list(axes: Any) -> list[Any]:
    if axes is None:
        return []
    return [axes] if isinstance(axes, (int, np.integer)) else list(axes)


def _depths(depth: Any, ndim: int) -> list[int]:
    if isinstance(depth, dict):
        return [int(depth.get(ax, depth.get(ax - ndim, 0))) for ax in range(ndim)]
    if isinstance(depth, (int, np.integer)):
        return [int(depth)] * ndim
    out = [int(d) for d in depth]
    if len(out) != ndim:
        raise ValueError(f"depth {depth!r} gives {len(out)} axes for an array of {ndim} dimensions")
    return out


def overlap(x: Array, depth: Any, boundary: Any = "none") -> Array:
    """Each block grown by `depth` elements per axis from its neighbours; at
    the array's edges by `boundary` ("reflect", "periodic", "none", or a
    constant), as `dask.array.overlap.overlap`."""
    boundary = "none" if boundary is None else boundary
    return Array(x._a.overlap(_depths(depth, x.ndim), boundary))


def map_overlap(
    func: Callable[..., Any],
    *args: Any,
    depth: Any = None,
    boundary: Any = "none",
    trim: bool = True,
    dtype: Any = None,
    name: str | None = None,
    **kwargs: Any,
) -> Array:
    """`func` on every block grown by `depth` neighbouring elements, then
    trimmed back (with `trim`), as `dask.array.map_overlap`."""
    if not args or not isinstance(args[0], Array) or any(isinstance(a, Array) for a in args[1:]):
        raise TypeError("map_overlap takes one blockwork array as its first argument here")
    x, rest = args[0], args[1:]
    depths = _depths(0 if depth is None else depth, x.ndim)
    ext = overlap(x, depths, boundary)
    if dtype is None:
        try:
            dtype = np.asarray(func(np.ones((1,) * x.ndim, dtype=x.dtype), *rest, **kwargs)).dtype
        except Exception:
            dtype = x.dtype
    label = name or funcname(func)
    if not trim:
        f = func if not rest and not kwargs else functools.partial(_call_with, func, rest, kwargs)
        return Array(ext._a.map_blocks(f, engine_dtype(dtype), [list(c) for c in ext.chunks], label))
    edge = boundary in (None, "none")
    f = functools.partial(_call_trimmed, func, rest, kwargs, depths, x.numblocks, edge)
    return Array(ext._a.map_blocks(f, engine_dtype(dtype), [list(c) for c in x.chunks], label, True))


def _call_trimmed(
    func: Callable[..., Any],
    rest: tuple[Any, ...],
    kwargs: dict[str, Any],
    depths: list[int],
    numblocks: tuple[int, ...],
    edge: bool,
    block: Any,
    where: Any,
) -> Any:
    out = np.asarray(func(block, *rest, **kwargs))
    index = where[0]
    cut = []
    for ax, (d, i, nb) in enumerate(zip(depths, index, numblocks, strict=True)):
        lo = 0 if edge and i == 0 else d
        hi = 0 if edge and i + 1 == nb else d
        n = out.shape[ax]
        cut.append(slice(min(lo, n), max(n - hi, min(lo, n))))
    return out[tuple(cut)]


def _takes_block_info(func: Callable[..., Any]) -> bool:
    """Whether `func` takes dask's `block_info` or `block_id`."""
    return bool(_block_params(func))


def _block_params(func: Callable[..., Any]) -> set[str]:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return set()
    return {"block_info", "block_id"} & set(params)


def _locations(chunks: Any, index: Any) -> list[tuple[int, int]]:
    out = []
    for axis, i in zip(chunks, index, strict=True):
        start = sum(axis[:i])
        out.append((start, start + axis[i]))
    return out


def _call_with_info(
    func: Callable[..., Any],
    rest: tuple[Any, ...],
    kwargs: dict[str, Any],
    in_chunks: Any,
    out_chunks: Any,
    dtype: Any,
    wanted: frozenset[str],
    block: Any,
    where: Any,
) -> Any:
    index, _offset, _shape, array_shape = where
    location = tuple(index)
    # The output block's place: the input's indices along axes of several
    # blocks, in order (axes dropped or added hold one block).
    several = iter(i for i, c in zip(index, in_chunks, strict=True) if len(c) > 1)
    out_index = tuple(next(several, 0) if len(c) > 1 else 0 for c in out_chunks)
    block_info = {
        0: {
            "shape": tuple(array_shape),
            "num-chunks": tuple(len(c) for c in in_chunks),
            "chunk-location": location,
            "array-location": _locations(in_chunks, index),
        },
        None: {
            "shape": tuple(sum(c) for c in out_chunks),
            "num-chunks": tuple(len(c) for c in out_chunks),
            "chunk-location": out_index,
            "array-location": _locations(out_chunks, out_index),
            "chunk-shape": tuple(c[i] for c, i in zip(out_chunks, out_index, strict=True)),
            "dtype": dtype,
        },
    }
    given = {"block_info": block_info, "block_id": out_index}
    return func(block, *rest, **{k: v for k, v in given.items() if k in wanted}, **kwargs)


def _call_with(func: Callable[..., Any], rest: tuple[Any, ...], kwargs: dict[str, Any], block: Any) -> Any:
    return func(block, *rest, **kwargs)


def asarray(x: Any, chunks: Any = "auto", dtype: Any = None) -> Array:
    """`x` as a blockwork array (NumPy arrays are read lazily, as `from_array`)."""
    if isinstance(x, Array):
        return x if dtype is None else x.astype(dtype)
    return from_array(np.asarray(x, dtype=dtype), chunks=chunks)


def from_array(x: Any, chunks: Any = "auto", name: Any = None, **kwargs: Any) -> Array:
    """A lazy array over a NumPy array (or anything `numpy.asarray` takes).

    Nothing is copied when it is made (unless the array must first become
    C-contiguous or change type); each block task copies its rectangle when
    it runs, so changes to the NumPy array before `compute` are seen, as in
    Dask.
    """
    a = np.asarray(x)
    dtype = engine_dtype(a.dtype)
    if a.dtype.kind == "u" and a.dtype.itemsize == 8 and a.size and int(a.max()) > np.iinfo(np.int64).max:
        raise OverflowError("uint64 values above 2**63 - 1 do not fit blockwork's widest integer, int64")
    a = np.require(a.astype(dtype, copy=False), requirements=["C", "A"])
    return Array(_core.from_numpy(a, normalize_chunks(chunks, a.shape, dtype)))
