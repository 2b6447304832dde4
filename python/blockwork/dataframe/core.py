"""`DataFrame`, `Series` and `Scalar`: dask.dataframe's API over the
engine's partitioned frames.

Every object is lazy: it holds an engine frame (`_core.Frame`) and, for a
Series, the column expression it evaluates on that frame (`_core.Expr`).
Operations add graph layers in Rust; `compute()` runs them (the GIL
released) and returns pandas objects.

Some of a frame's columns may stand for its pandas index (`_index`: pairs
of the column's name and the index level's name): the keys of a group-by
result, the column of `set_index`. They are hidden from `columns` and
become the index of the computed pandas object.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from blockwork import _core, config
from blockwork.dataframe import _arrow

Index = list[tuple[str, str]]
_VALUE = "__value__"
_UNSET: Any = object()

_BINARY: dict[str, str] = {
    "__add__": "add",
    "__sub__": "sub",
    "__mul__": "mul",
    "__truediv__": "truediv",
    "__floordiv__": "floordiv",
    "__mod__": "mod",
    "__pow__": "pow",
    "__eq__": "eq",
    "__ne__": "ne",
    "__lt__": "lt",
    "__le__": "le",
    "__gt__": "gt",
    "__ge__": "ge",
    "__and__": "and",
    "__or__": "or",
}
_REFLECTED = {
    "__radd__": "add",
    "__rsub__": "sub",
    "__rmul__": "mul",
    "__rtruediv__": "truediv",
    "__rfloordiv__": "floordiv",
    "__rmod__": "mod",
    "__rpow__": "pow",
    "__rand__": "and",
    "__ror__": "or",
}
# What a comparison gives where an operand is missing, as pandas gives it
# for NaN, None and NaT in its default (NumPy and `str`) dtypes.
_MISSING_COMPARES: dict[str, bool] = {"eq": False, "ne": True, "lt": False, "le": False, "gt": False, "ge": False}
AGGREGATIONS = ("sum", "mean", "count", "min", "max", "std", "var", "first", "last", "nunique")


def _compute(frame: _core.Frame, scheduler: Any, num_workers: int | None) -> list[Any]:
    client = config.client(scheduler)
    if client is not None:
        return list(client._compute_frame(frame))
    return list(frame.compute(config.scheduler(scheduler, num_workers)))


def _pandas(frame: _core.Frame, index: Index, columns: list[Any], labels: dict[str, Any] | None = None) -> Any:
    df = _arrow.to_pandas(columns, list(frame.columns))
    if index:
        df = df.set_index([c for c, _ in index])
        df.index.names = [n for _, n in index]
    if labels:
        import pandas as pd

        new = [labels.get(c, c) for c in df.columns]
        df.columns = pd.MultiIndex.from_tuples(new) if any(isinstance(x, tuple) for x in new) else pd.Index(new)
    return df


def _rows(frame: _core.Frame) -> int:
    return int(Scalar(frame.aggregate([(_core.Expr.lit(0), "size", _VALUE)])).compute())


def _literal(x: Any) -> _core.Expr:
    if isinstance(x, Scalar):
        # `df.x - df.x.mean()`: the value is computed first, then used in
        # every partition (dask keeps it lazy; the result is the same).
        warnings.warn(
            "a lazy Scalar combined with a Series is computed first, in its own pass over the data",
            FutureWarning,
            stacklevel=4,
        )
        x = x.compute()
    if isinstance(x, (Series, DataFrame)):
        raise TypeError("a Series of another frame: blockwork combines columns of one frame only")
    return _core.Expr.lit(x.item() if hasattr(x, "item") and callable(x.item) else x)


class Scalar:
    """A lazy single value (a reduction's result); `compute()` gives it."""

    def __init__(self, frame: _core.Frame) -> None:
        self._f = frame

    def compute(self, scheduler: Any = None, num_workers: int | None = None, **kwargs: Any) -> Any:
        """The value, as NumPy's scalar of its type."""
        t = _arrow.table(_compute(self._f, scheduler, num_workers), list(self._f.columns))
        value = t.column(0).to_numpy(zero_copy_only=False)[0]
        return value

    def _held_on(self, persist: Any) -> Scalar:
        """This value computed and held on a cluster (see `_Frameish._held_on`)."""
        out = Scalar(self._f)
        object.__setattr__(out, "_held", persist(self._f))
        return out

    def __repr__(self) -> str:
        return f"blockwork.dataframe.Scalar<{self._f.columns[0]}>"

    def __float__(self) -> float:
        return float(self.compute())

    def __int__(self) -> int:
        return int(self.compute())

    def _binary(self, op: str, other: Any, reflected: bool = False) -> Any:
        """`self op other` as a lazy Scalar (`other` a number or a Scalar)."""
        if isinstance(other, (Series, DataFrame)):
            return NotImplemented  # the Series' reflected operation
        name = self._f.columns[0]
        if isinstance(other, Scalar):
            frame = _beside(self._f, other._f)
            lhs, rhs = _core.Expr.col("__left__"), _core.Expr.col("__right__")
        else:
            frame, lhs, rhs = self._f, _core.Expr.col(name), _literal(other)
        if reflected:
            lhs, rhs = rhs, lhs
        return Scalar(frame.select([_combined(lhs, op, rhs).alias(name)]))

    def _unary(self, op: str) -> Scalar:
        name = self._f.columns[0]
        return Scalar(self._f.select([_core.Expr.col(name).unary(op).alias(name)]))

    def __neg__(self) -> Scalar:
        return self._unary("neg")

    def __abs__(self) -> Scalar:
        return self._unary("abs")

    def __bool__(self) -> bool:
        raise TypeError(f"the truth value of {self!r} is not known until it is computed: call compute()")

    __hash__ = None  # type: ignore[assignment]


def _combined(lhs: _core.Expr, op: str, rhs: _core.Expr) -> _core.Expr:
    """`lhs op rhs`; a missing value (pandas' NaN, None or NaT) compares
    as NaN does: unequal to everything, so `!=` is True and the rest False."""
    e = lhs.binary(op, rhs)
    return e.fillna(_MISSING_COMPARES[op]) if op in _MISSING_COMPARES else e


def _beside(a: _core.Frame, b: _core.Frame) -> _core.Frame:
    """Two one-row frames as one, with their values as `__left__` and
    `__right__` (joined on a constant key, so they may come from
    different frames)."""
    key = _core.Expr.lit(0).alias("__key__")
    left = a.select([_core.Expr.col(a.columns[0]).alias("__left__"), key])
    right = b.select([_core.Expr.col(b.columns[0]).alias("__right__"), key])
    return left.merge(right, ["__key__"], ["__key__"], "inner")


class _Frameish:
    """What DataFrame and Series share: the frame, its index columns, compute."""

    _f: _core.Frame
    _index: Index

    @property
    def npartitions(self) -> int:
        """The number of partitions."""
        return int(self._f.npartitions)

    @property
    def divisions(self) -> tuple[Any, ...]:
        """The index's bounds per partition (after `set_index`), else Nones."""
        d = self._f.divisions
        return tuple(d) if d is not None else (None,) * (self.npartitions + 1)

    @property
    def known_divisions(self) -> bool:
        """Whether the divisions are known (after `set_index`)."""
        return self._f.divisions is not None

    def __dask_keys__(self) -> list[str]:
        return list(self._f.keys())

    def _held_on(self, persist: Any) -> Any:
        """This collection with its partitions computed and held on a
        cluster (`persist` submits a frame and returns the futures)."""
        if isinstance(self, Series):
            frame = self._selected()
            out: Any = Series(frame, _core.Expr.col(_VALUE).alias(str(self._e.name)), self._index, self._name)
        else:
            frame = self._f
            out = DataFrame(frame, self._index, self._labels)
        # While the futures live, the cluster keeps the partitions and this
        # client's computations from them start there.
        object.__setattr__(out, "_held", persist(frame))
        return out

    def _series(self, expr: _core.Expr) -> Series:
        name = getattr(self, "_name", _UNSET)
        return Series(self._f, expr, self._index, name)

    def _scalar(self, expr: _core.Expr, agg: str) -> Scalar:
        return Scalar(self._f.aggregate([(expr, agg, _VALUE)]))


class Series(_Frameish):
    """A lazy column: an expression over the partitions of a frame."""

    def __init__(self, frame: _core.Frame, expr: _core.Expr, index: Index | None = None, name: Any = _UNSET) -> None:
        self._f = frame
        self._e = expr
        self._index = index or []
        # pandas' name: the column's, or None for a combination of columns
        # of different names.
        self._name = expr.name if name is _UNSET else name

    # -- description --------------------------------------------------------

    @property
    def name(self) -> Any:
        """Its name (None for a combination of differently named columns)."""
        return self._name

    @property
    def dtype(self) -> Any:
        """Its pandas dtype (from the first partition)."""
        return self.head(0).dtype

    def __repr__(self) -> str:
        return f"blockwork.dataframe.Series<{self.name}, npartitions={self.npartitions}>"

    def _repr_html_(self) -> str:
        return f"<div><strong>blockwork Series</strong> {self.name}, {self.npartitions} partitions</div>"

    def __len__(self) -> int:
        return _rows(self._f)

    # -- operators ----------------------------------------------------------

    def _operand(self, other: Any) -> _core.Expr:
        if isinstance(other, Series):
            if other._f is not self._f:
                raise ValueError(
                    "these Series belong to different frames: combine columns of one frame "
                    "(select them from the same DataFrame)"
                )
            return other._e
        return _literal(other)

    def _binary(self, op: str, other: Any, reflected: bool = False) -> Series:
        rhs = self._operand(other)
        lhs, rhs = (rhs, self._e) if reflected else (self._e, rhs)
        name = self._name if not isinstance(other, Series) or other._name == self._name else None
        return Series(self._f, _combined(lhs, op, rhs).alias(str(self._e.name)), self._index, name)

    def __neg__(self) -> Series:
        return self._series(self._e.unary("neg"))

    def __invert__(self) -> Series:
        return self._series(self._e.unary("not"))

    def __abs__(self) -> Series:
        return self.abs()

    def __bool__(self) -> bool:
        raise ValueError("the truth value of a blockwork Series is ambiguous: use &, | and ~ for element-wise logic")

    __hash__ = None  # type: ignore[assignment]

    # -- element-wise methods -----------------------------------------------

    def abs(self) -> Series:
        """Absolute values."""
        return self._series(self._e.unary("abs"))

    def isna(self) -> Series:
        """Whether each value is missing."""
        return self._series(self._e.unary("isna"))

    isnull = isna

    def notna(self) -> Series:
        """Whether each value is present."""
        return self._series(self._e.unary("notna"))

    notnull = notna

    def isin(self, values: Iterable[Any]) -> Series:
        """Whether each value is one of `values`."""
        return self._series(self._e.isin([v.item() if hasattr(v, "item") else v for v in values]))

    def fillna(self, value: Any) -> Series:
        """Missing values replaced by `value`."""
        return self._series(self._e.fillna(value))

    def astype(self, dtype: Any) -> Series:
        """Converted to `dtype` (a NumPy/pandas dtype or its name). As in
        pandas, NumPy's integer types refuse missing and non-finite values
        (computing raises); pandas' nullable `Int64` and `Int32` keep
        missing values missing."""
        name = _dtype_name(dtype)
        e = self._e.unary("present") if name in _NUMPY_INTS else self._e
        return self._series(e.astype(name))

    def rename(self, name: Any) -> Series:
        """Renamed."""
        return Series(self._f, self._e.alias(str(name)), self._index, name)

    def dropna(self) -> Series:
        """Without its missing values."""
        return Series(self._f.filter(self._e.unary("notna")), self._e, self._index, self._name)

    def between(self, left: Any, right: Any, inclusive: str = "both") -> Series:
        """Whether each value lies between `left` and `right`."""
        lo = "ge" if inclusive in ("both", "left") else "gt"
        hi = "le" if inclusive in ("both", "right") else "lt"
        return self._binary(lo, left) & self._binary(hi, right)

    @property
    def dt(self) -> _DatetimeAccessor:
        """Parts of dates and datetimes."""
        return _DatetimeAccessor(self)

    @property
    def str(self) -> _StringAccessor:
        """String operations."""
        return _StringAccessor(self)

    def to_frame(self, name: Any = None) -> DataFrame:
        """As a one-column DataFrame."""
        label = name if name is not None else self._name
        e = self._e.alias(str(label)) if label is not None else self._e
        keep = [_core.Expr.col(c) for c, _ in self._index]
        return DataFrame(self._f.select([*keep, e]), self._index)

    # -- reductions ---------------------------------------------------------

    def sum(self) -> Scalar:
        """Sum (lazy)."""
        return self._scalar(self._e, "sum")

    def mean(self) -> Scalar:
        """Mean of the present values (lazy)."""
        return self._scalar(self._e, "mean")

    def min(self) -> Scalar:
        """Smallest value (lazy)."""
        return self._scalar(self._e, "min")

    def max(self) -> Scalar:
        """Largest value (lazy)."""
        return self._scalar(self._e, "max")

    def count(self) -> Scalar:
        """Number of present values (lazy)."""
        return self._scalar(self._e, "count")

    def std(self, ddof: int = 1) -> Scalar:
        """Sample standard deviation (lazy)."""
        _check_ddof(ddof)
        return self._scalar(self._e, "std")

    def var(self, ddof: int = 1) -> Scalar:
        """Sample variance (lazy)."""
        _check_ddof(ddof)
        return self._scalar(self._e, "var")

    def nunique(self) -> Scalar:
        """Number of distinct present values (lazy)."""
        return self._scalar(self._e, "nunique")

    def nunique_approx(self) -> Scalar:
        """Approximate number of distinct values (HyperLogLog, ~1.6% error; lazy)."""
        return Scalar(self._f.nunique_approx(self._e))

    def quantile(self, q: float | list[float] = 0.5) -> Any:
        """Approximate quantiles (rank error ~0.1% of the rows): a lazy
        Scalar for one `q`, a lazy Series indexed by `q` for a list."""
        qs = [float(x) for x in q] if isinstance(q, (list, tuple)) else [float(q)]
        frame = self._f.quantile(self._e, qs)
        if isinstance(q, (list, tuple)):
            return Series(frame, _core.Expr.col("value"), [("quantile", None)], self._name)
        return Scalar(frame.select([_core.Expr.col("value")]))

    def value_counts(self) -> Series:
        """Rows per distinct value, most frequent first (lazy)."""
        counted = self._f.value_counts(self._e)
        column = str(self._e.name)
        return Series(counted, _core.Expr.col("count"), [(column, self._name)])

    def groupby(self, by: Any, split_out: int = 1, dropna: bool = True, sort: bool = True, **kwargs: Any) -> Any:
        """Grouped by `by`: Series of the same frame (or column names of
        it), as `df.value.groupby(df.key).mean()`; sorted by key, rows with
        a missing key left out."""
        from blockwork.dataframe.groupby import GroupBy

        _groupby_options(dropna, kwargs)

        grouped = "__grouped__"
        frame = self._f.assign([self._e.alias(grouped)])
        keys = [by] if not isinstance(by, list) else by
        moved = []
        for b in keys:
            if isinstance(b, Series):
                if b._f is not self._f:
                    raise ValueError("a group key is a Series of another frame: group by columns of this frame")
                b = Series(frame, b._e, b._index, b._name)
            moved.append(b)
        return GroupBy(DataFrame(frame, self._index), moved, split_out=split_out, selection=grouped, name=self._name)

    def resample(self, rule: str) -> Any:
        """Fixed-frequency bins of the datetime index (after `set_index`)."""
        from blockwork.dataframe.timeseries import Resampler

        return Resampler(self, rule)

    def rolling(self, window: int | str) -> Any:
        """A rolling window over the index order (after `set_index`)."""
        from blockwork.dataframe.timeseries import Rolling

        return Rolling(self, window)

    # -- results ------------------------------------------------------------

    def _selected(self) -> _core.Frame:
        keep = [_core.Expr.col(c) for c, _ in self._index]
        return self._f.select([*keep, self._e.alias(_VALUE)])

    def compute(self, scheduler: Any = None, num_workers: int | None = None, **kwargs: Any) -> Any:
        """The column as a pandas Series."""
        frame = self._selected()
        df = _pandas(frame, self._index, _compute(frame, scheduler, num_workers))
        s = df[_VALUE]
        s.name = self.name
        return s

    def persist(self, scheduler: Any = None, num_workers: int | None = None, **kwargs: Any) -> Series:
        """Computed into partitions held in memory (lazy results start from
        them); with a client, held by its cluster."""
        client = config.client(scheduler)
        if client is not None:
            return client.persist(self)  # type: ignore[no-any-return]
        frame = self._selected().persist(config.scheduler(scheduler, num_workers))
        return Series(frame, _core.Expr.col(_VALUE).alias(str(self._e.name)), self._index, self._name)

    def head(self, n: int = 5, npartitions: int = 1, compute: bool = True) -> Any:
        """The first `n` values (a pandas Series), from as many partitions
        as hold them (dask's `npartitions=-1`; `npartitions` is taken and
        the result is never short)."""
        frame = self._selected()
        s = _pandas(frame, self._index, list(frame.head(n)))[_VALUE]
        s.name = self.name
        return s

    def tail(self, n: int = 5, compute: bool = True) -> Any:
        """The last `n` values (a pandas Series), from as many partitions as
        hold them."""
        frame = self._selected()
        s = _pandas(frame, self._index, list(frame.tail(n)))[_VALUE]
        s.name = self.name
        return s

    def unique(self) -> Any:
        """Its distinct values (computed: a pandas Series, in sorted order,
        with one missing value last when it has any, as pandas keeps NaN)."""
        import pandas as pd

        counted = self._f.value_counts(self._e)
        values = Series(counted, _core.Expr.col(str(self._e.name)), name=self._name).compute()
        values = values.sort_values(ignore_index=True)
        if int(self.isna().sum().compute()) > 0:
            missing = pd.Series([None], dtype=values.dtype if values.dtype.kind in "fOUSM" else "float64")
            values = pd.concat([values, missing.rename(values.name)], ignore_index=True)
        return values


for _cls in (Series, Scalar):
    for _dunder, _op in _BINARY.items():
        setattr(_cls, _dunder, lambda self, other, _op=_op: self._binary(_op, other))
    for _dunder, _op in _REFLECTED.items():
        setattr(_cls, _dunder, lambda self, other, _op=_op: self._binary(_op, other, reflected=True))


def _check_ddof(ddof: int) -> None:
    if ddof != 1:
        raise ValueError(f"ddof={ddof}: blockwork's std and var are the sample ones (ddof=1)")


# Names of NumPy's integer types, which cannot hold a missing value.
_NUMPY_INTS = {"int64", "int32", "int", "i8", "i4", "int16", "int8", "uint8", "uint16", "uint32", "uint64"}


def _dtype_name(dtype: Any) -> str:
    if isinstance(dtype, str):
        return dtype
    if dtype in (str, object):
        return "str"
    try:
        import numpy as np

        return str(np.dtype(dtype))
    except TypeError:
        return str(dtype)


class _DatetimeAccessor:
    def __init__(self, s: Series) -> None:
        self._s = s

    def _part(self, part: str) -> Series:
        return self._s._series(self._s._e.dt(part))

    year = property(lambda self: self._part("year"), doc="The year.")
    month = property(lambda self: self._part("month"), doc="The month, 1-12.")
    day = property(lambda self: self._part("day"), doc="The day of the month.")
    hour = property(lambda self: self._part("hour"), doc="The hour, 0-23.")
    minute = property(lambda self: self._part("minute"), doc="The minute.")
    second = property(lambda self: self._part("second"), doc="The second.")
    dayofweek = property(lambda self: self._part("dayofweek"), doc="The day of the week, Monday = 0.")
    weekday = dayofweek
    day_of_week = dayofweek

    def floor(self, freq: str) -> Series:
        """Rounded down to a multiple of a fixed frequency ("15min", "1h", "D")."""
        return self._s._series(self._s._e.dt("floor", freq))


class _StringAccessor:
    def __init__(self, s: Series) -> None:
        self._s = s

    def lower(self) -> Series:
        """Lower case."""
        return self._s._series(self._s._e.string("lower"))

    def upper(self) -> Series:
        """Upper case."""
        return self._s._series(self._s._e.string("upper"))

    def len(self) -> Series:
        """Length in characters."""
        return self._s._series(self._s._e.string("len"))

    def contains(self, pat: str, regex: bool = True) -> Series:
        """Whether each value contains `pat` (a regular expression when
        `regex`); a missing value does not (False), as in pandas' `str` dtype."""
        return self._s._series(self._s._e.string("contains", pat, regex).fillna(False))


class DataFrame(_Frameish):
    """A lazy dataframe: partitions computed by the engine, pandas' API."""

    def __init__(self, frame: _core.Frame, index: Index | None = None, labels: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "_f", frame)
        object.__setattr__(self, "_index", index or [])
        # Column labels other than the engine's names (a group-by's
        # `(column, aggregation)` pairs), applied to computed results.
        object.__setattr__(self, "_labels", labels or {})
        object.__setattr__(self, "_meta_cache", None)

    # -- description --------------------------------------------------------

    @property
    def columns(self) -> Any:
        """Its column names (a pandas Index)."""
        import pandas as pd

        hidden = {c for c, _ in self._index}
        names = [self._labels.get(c, c) for c in self._f.columns if c not in hidden]
        if any(isinstance(x, tuple) for x in names):
            return pd.MultiIndex.from_tuples(names)
        return pd.Index(names)

    @property
    def _meta(self) -> Any:
        """An empty pandas frame with its columns and dtypes (from the first partition)."""
        if self._meta_cache is None:
            object.__setattr__(self, "_meta_cache", self.head(0))
        return self._meta_cache

    @property
    def dtypes(self) -> Any:
        """Its columns' pandas dtypes (read from the first partition)."""
        return self._meta.dtypes

    def __repr__(self) -> str:
        cols = ", ".join(map(str, self.columns))
        return f"blockwork.dataframe.DataFrame<npartitions={self.npartitions}, columns=[{cols}]>"

    def _repr_html_(self) -> str:
        """Dask's structure table: the columns, their dtypes once known (a
        repr reads nothing), a row per partition bound, and the graph's size."""
        import html

        cols = [str(c) for c in self.columns]
        dtypes = self._meta_cache.dtypes if self._meta_cache is not None else None
        head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
        types = "".join(
            f"<td>{html.escape(str(dtypes[c])) if dtypes is not None and c in dtypes else '…'}</td>" for c in cols
        )
        bounds = self.divisions
        shown = [bounds[0], "…", bounds[-1]] if len(bounds) > 3 else list(bounds)
        rows = "".join(
            f"<tr><th>{html.escape(str(b)) if b is not None else ''}</th>{'<td>…</td>' * len(cols)}</tr>" for b in shown
        )
        return (
            "<div><strong>blockwork DataFrame Structure:</strong>"
            f"<table><thead><tr><th>npartitions={self.npartitions}</th>{head}</tr></thead>"
            f"<tbody><tr><th></th>{types}</tr>{rows}</tbody></table>"
            f"<div>{len(self._f.keys())} partitions; dtypes shown once read (df.dtypes)</div></div>"
        )

    def __len__(self) -> int:
        return _rows(self._f)

    # -- columns and rows ---------------------------------------------------

    def _column(self, name: str) -> Series:
        if name not in self._f.columns:
            raise KeyError(f"no column {name!r}; the columns are {list(self.columns)}")
        return self._series(_core.Expr.col(name))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._f.columns:
            return self._column(name)
        raise AttributeError(f"'DataFrame' has no attribute or column {name!r}")

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *[c for c in self.columns if isinstance(c, str) and c.isidentifier()]]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, Series):
            if key._f is not self._f:
                raise ValueError("the mask is a Series of another frame: filter with a Series of this one")
            return DataFrame(self._f.filter(key._e), self._index)
        if isinstance(key, str):
            return self._column(key)
        if isinstance(key, (list, tuple)) or hasattr(key, "tolist"):
            names = list(key.tolist() if hasattr(key, "tolist") else key)
            for n in names:
                if n not in self._f.columns:
                    raise KeyError(f"no column {n!r}; the columns are {list(self.columns)}")
            keep = [c for c, _ in self._index]
            return DataFrame(self._f.select([_core.Expr.col(c) for c in [*keep, *names]]), self._index)
        raise TypeError(f"cannot index a DataFrame with {type(key).__name__}")

    def __setitem__(self, key: str, value: Any) -> None:
        new = self.assign(**{key: value})
        object.__setattr__(self, "_f", new._f)
        object.__setattr__(self, "_meta_cache", None)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("set a column with df[name] = value")

    def _expr(self, value: Any) -> _core.Expr:
        if callable(value) and not isinstance(value, Series):
            value = value(self)
        if isinstance(value, Series):
            if value._f is not self._f:
                raise ValueError("assign takes Series of this frame")
            return value._e
        return _literal(value)

    def assign(self, **columns: Any) -> DataFrame:
        """With new (or replaced) columns: Series of this frame, scalars, or
        callables of the frame."""
        exprs = [self._expr(v).alias(k) for k, v in columns.items()]
        return DataFrame(self._f.assign(exprs), self._index)

    def drop(self, columns: Any = None, **kwargs: Any) -> DataFrame:
        """Without the columns named."""
        drop = {columns} if isinstance(columns, str) else set(columns or [])
        missing = drop - set(self._f.columns)
        if missing:
            raise KeyError(f"no columns {sorted(missing)}; the columns are {list(self.columns)}")
        return self[[c for c in self.columns if c not in drop]]

    def rename(self, columns: dict[str, str] | None = None, **kwargs: Any) -> DataFrame:
        """With columns renamed."""
        mapping = dict(columns or {})
        exprs = [_core.Expr.col(c).alias(mapping.get(c, c)) for c in self._f.columns]
        index = [(mapping.get(c, c), n) for c, n in self._index]
        return DataFrame(self._f.select(exprs), index)

    def dropna(self, subset: Any = None, **kwargs: Any) -> DataFrame:
        """Without the rows missing a value (in `subset`, else any column)."""
        subset = [subset] if isinstance(subset, str) else list(subset or [])
        return DataFrame(self._f.dropna(subset), self._index)

    def fillna(self, value: Any) -> DataFrame:
        """Missing values replaced by `value` (a scalar, or a dict per column)."""
        if isinstance(value, dict):
            return self.assign(**{k: self._column(k).fillna(v) for k, v in value.items()})
        return DataFrame(self._f.fillna(value), self._index)

    def astype(self, dtype: Any) -> DataFrame:
        """Columns converted (one dtype for all, or a dict per column)."""
        types = dtype if isinstance(dtype, dict) else {c: dtype for c in self.columns}
        return self.assign(**{c: self._column(c).astype(t) for c, t in types.items()})

    def isin(self, values: Iterable[Any]) -> DataFrame:
        """Whether each value is one of `values`, per column."""
        values = list(values)
        index = [_core.Expr.col(c) for c, _ in self._index]
        tested = [_core.Expr.col(c).isin(values) for c in self.columns]
        return DataFrame(self._f.select([*index, *tested]), self._index)

    # -- reductions ---------------------------------------------------------

    def _reduce(self, agg: str, numeric_only: bool) -> Scalar:
        columns = list(self.columns)
        if numeric_only:
            dtypes = self.dtypes
            columns = [c for c in columns if dtypes[c].kind in "biuf"]
        frame = self._f.aggregate([(_core.Expr.col(c), agg, c) for c in columns])
        return _RowAsSeries(frame, agg)

    def sum(self, numeric_only: bool = False) -> Any:
        """Sum per column (lazy)."""
        return self._reduce("sum", numeric_only)

    def mean(self, numeric_only: bool = False) -> Any:
        """Mean per column (lazy)."""
        return self._reduce("mean", numeric_only)

    def min(self, numeric_only: bool = False) -> Any:
        """Smallest value per column (lazy)."""
        return self._reduce("min", numeric_only)

    def max(self, numeric_only: bool = False) -> Any:
        """Largest value per column (lazy)."""
        return self._reduce("max", numeric_only)

    def count(self) -> Any:
        """Present values per column (lazy)."""
        return self._reduce("count", False)

    def std(self, ddof: int = 1, numeric_only: bool = False) -> Any:
        """Sample standard deviation per column (lazy)."""
        _check_ddof(ddof)
        return self._reduce("std", numeric_only)

    def var(self, ddof: int = 1, numeric_only: bool = False) -> Any:
        """Sample variance per column (lazy)."""
        _check_ddof(ddof)
        return self._reduce("var", numeric_only)

    def nunique(self) -> Any:
        """Distinct present values per column (lazy)."""
        return self._reduce("nunique", False)

    def describe(self) -> Any:
        """Summary statistics of the numeric columns (computed; the
        quartiles approximate): a pandas DataFrame indexed by statistic."""
        df = _arrow.to_pandas(list(self._f.describe()), ["statistic", *self._numeric()])
        return df.set_index("statistic").rename_axis(None)

    def _numeric(self) -> list[str]:
        dtypes = self.dtypes
        return [c for c in self._f.columns if c in dtypes.index and dtypes[c].kind in "iuf"]

    # -- restructuring ------------------------------------------------------

    def groupby(
        self, by: Any, sort: bool = True, split_out: int = 1, dropna: bool = True, as_index: bool = True, **kwargs: Any
    ) -> Any:
        """Grouped by columns (names) or Series of this frame; groups come
        sorted by their keys (`sort=False` allows any order, so sorted is
        one), rows with a missing key left out. `as_index=False` gives the
        keys as columns."""
        from blockwork.dataframe.groupby import GroupBy

        _groupby_options(dropna, kwargs)
        return GroupBy(self, by, split_out=split_out, as_index=as_index)

    def merge(
        self,
        right: DataFrame,
        how: str = "inner",
        on: Any = None,
        left_on: Any = None,
        right_on: Any = None,
        left_index: bool = False,
        right_index: bool = False,
        **kwargs: Any,
    ) -> DataFrame:
        """Joined with `right` on equal keys (columns, or both indexes);
        `right` may be a pandas DataFrame (one partition)."""
        if not isinstance(right, DataFrame):
            from blockwork.dataframe.io import from_pandas

            right = from_pandas(right, npartitions=1)
        if left_index and right_index:
            return self.join(right, how=how)
        left_on = _names(on if on is not None else left_on)
        right_on = _names(on if on is not None else right_on)
        if not left_on or len(left_on) != len(right_on):
            raise ValueError("merge needs on=, or left_on= and right_on= of the same length, or both indexes")
        suffixes = kwargs.pop("suffixes", ("_x", "_y"))
        _refuse("merge", kwargs, hints=("npartitions", "shuffle_method", "shuffle", "broadcast"))
        # Columns both sides have, other than a key they share, take
        # pandas' suffixes (`_x`, `_y` unless given).
        shared = {lk for lk, rk in zip(left_on, right_on, strict=True) if lk == rk}
        both = (set(self._f.columns) & set(right._f.columns)) - shared
        lmap, rmap = _suffixes(both, *suffixes)
        left, right = (self.rename(columns=lmap), right.rename(columns=rmap)) if both else (self, right)
        left_on = [lmap.get(c, c) for c in left_on]
        right_on = [rmap.get(c, c) for c in right_on]
        return DataFrame(left._f.merge(right._f, left_on, right_on, how))

    def join(
        self, other: DataFrame, how: str = "left", lsuffix: str = "", rsuffix: str = "", **kwargs: Any
    ) -> DataFrame:
        """Joined with `other` on both indexes (both after `set_index`);
        columns both have take `lsuffix`/`rsuffix`, which pandas requires."""
        _refuse("join", kwargs, hints=("npartitions", "shuffle_method", "shuffle"))
        both = set(self.columns) & set(other.columns)
        if both:
            if not (lsuffix or rsuffix):
                raise ValueError(f"columns overlap but no suffix specified: {sorted(both)}")
            lmap, rmap = _suffixes(both, lsuffix, rsuffix)
            self, other = self.rename(columns=lmap), other.rename(columns=rmap)
        return DataFrame(self._f.merge(other._f, [], [], how), self._index)

    def set_index(self, column: str, **kwargs: Any) -> DataFrame:
        """Sorted by `column` and indexed by it (divisions from a sample)."""
        if isinstance(column, Series):
            column = column.name
        return DataFrame(self._f.set_index(str(column)), [(str(column), str(column))])

    def sort_values(self, by: str, ascending: bool = True, na_position: str = "last", **kwargs: Any) -> DataFrame:
        """Sorted by the column `by` across partitions, missing values last."""
        if na_position != "last":
            raise NotImplementedError(f"sort_values(na_position={na_position!r}): missing values sort last only")
        _refuse("sort_values", kwargs, hints=("npartitions", "sort_function", "sort_function_kwargs", "kind"))
        by = by[0] if isinstance(by, list) and len(by) == 1 else by
        if not isinstance(by, str):
            raise ValueError("sort_values sorts by one column")
        return DataFrame(self._f.sort_values(by, bool(ascending)), self._index)

    def reset_index(self, drop: bool = False) -> DataFrame:
        """The index columns back among the columns (or dropped)."""
        index = {c for c, _ in self._index}
        data = [_core.Expr.col(c) for c in self._f.columns if c not in index]
        if drop:
            return DataFrame(self._f.select(data), None, self._labels)
        named = [_core.Expr.col(c).alias("index" if n is None else str(n)) for c, n in self._index]
        return DataFrame(self._f.select([*named, *data]), None, self._labels)

    def resample(self, rule: str) -> Any:
        """Fixed-frequency bins of the datetime index (after `set_index`)."""
        from blockwork.dataframe.timeseries import FrameResampler

        return FrameResampler(self, rule)

    def map_partitions(self, func: Any, *args: Any, meta: Any = None, **kwargs: Any) -> Any:
        """`func(partition, *args, **kwargs)` on every partition (a pandas
        DataFrame, without its index). A function returning a DataFrame
        gives a DataFrame whose columns are `meta`'s (a pandas frame or a
        list of names), or, without `meta`, those it returns for an empty
        partition; one returning a Series or a scalar (one value per
        partition) gives a Series, named as `meta` says (a pandas Series or
        dask's `(name, dtype)`) or as the function's Series is named.
        On a cluster it runs on workers started from this package."""
        import uuid

        from blockwork._names import funcname

        call = _PartitionCall(func, args, kwargs) if args or kwargs else func
        label = f"{funcname(func)}-{uuid.uuid4().hex[:16]}"
        if meta is None:
            meta = call(self._meta.reset_index(drop=True))
        if isinstance(meta, tuple) and len(meta) == 2:
            series, name = True, meta[0]
        elif hasattr(meta, "columns") or isinstance(meta, list):
            series, name = False, None
        else:
            series, name = True, getattr(meta, "name", None)
        if series:
            frame = self._f.map_partitions(_AsColumn(call), [_VALUE], label)
            return Series(frame, _core.Expr.col(_VALUE), [], name)
        columns = [str(c) for c in (meta.columns if hasattr(meta, "columns") else meta)]
        return DataFrame(self._f.map_partitions(call, columns, label))

    # -- results ------------------------------------------------------------

    def compute(self, scheduler: Any = None, num_workers: int | None = None, **kwargs: Any) -> Any:
        """The frame as a pandas DataFrame."""
        return _pandas(self._f, self._index, _compute(self._f, scheduler, num_workers), self._labels)

    def to_polars(self, scheduler: Any = None, num_workers: int | None = None) -> Any:
        """The frame as a Polars DataFrame (its index columns kept as
        columns, first, under the index's names)."""
        import polars as pl

        return pl.from_arrow(self.to_arrow(scheduler, num_workers))

    def to_arrow(self, scheduler: Any = None, num_workers: int | None = None) -> Any:
        """The frame as a pyarrow Table (its index columns kept as columns,
        first, under the index's names)."""
        named = self._named()
        return _arrow.table(_compute(named, scheduler, num_workers), list(named.columns))

    def _named(self) -> _core.Frame:
        """The engine frame with the index columns first, named as the
        index is (a group-by's key columns are named inside the engine)."""
        if not self._index:
            return self._f
        return self.reset_index()._f

    def persist(self, scheduler: Any = None, num_workers: int | None = None, **kwargs: Any) -> DataFrame:
        """Computed into partitions held in memory; with a client, held by
        its cluster (what this client computes from it starts there)."""
        client = config.client(scheduler)
        if client is not None:
            return client.persist(self)  # type: ignore[no-any-return]
        return DataFrame(self._f.persist(config.scheduler(scheduler, num_workers)), self._index, self._labels)

    def head(self, n: int = 5, npartitions: int = 1, compute: bool = True) -> Any:
        """The first `n` rows (a pandas DataFrame), reading only the
        partitions that hold them (dask's `npartitions=-1`; `npartitions`
        is taken and the result is never short)."""
        return _pandas(self._f, self._index, list(self._f.head(n)), self._labels)

    def tail(self, n: int = 5, compute: bool = True) -> Any:
        """The last `n` rows (a pandas DataFrame)."""
        return _pandas(self._f, self._index, list(self._f.tail(n)), self._labels)

    def _write(self, path: str, fmt: str, scheduler: Any, storage_options: dict[str, Any] | None) -> list[str]:
        from blockwork._storage import apply_storage_options as _storage

        _storage(storage_options)
        written = self._named().write(str(path), fmt)
        t = _arrow.table(_compute(written, scheduler, None), list(written.columns))
        return [str(p) for p in t.column(0).to_pylist()]

    def to_csv(
        self,
        path: str,
        scheduler: Any = None,
        storage_options: dict[str, Any] | None = None,
        index: bool = True,
        single_file: bool = False,
        **kwargs: Any,
    ) -> list[str]:
        """One CSV file per partition in the directory `path` (part.0.csv,
        …), the index columns first unless `index=False`; their paths."""
        if single_file:
            raise NotImplementedError("to_csv(single_file=True): one file per partition, in the directory `path`")
        _refuse("to_csv", kwargs, hints=("compute",))
        return (self if index else self.reset_index(drop=True))._write(path, "csv", scheduler, storage_options)

    def to_parquet(
        self, path: str, scheduler: Any = None, storage_options: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[str]:
        """One Parquet file per partition in the directory `path`; their paths."""
        return self._write(path, "parquet", scheduler, storage_options)

    def to_json(
        self, path: str, scheduler: Any = None, storage_options: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[str]:
        """One JSON-lines file per partition in the directory `path`; their paths."""
        return self._write(path, "json", scheduler, storage_options)


class _PartitionCall:
    """`func(partition, *args, **kwargs)`: the partition first (a partial
    would put it last)."""

    def __init__(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.func, self.args, self.kwargs = func, args, kwargs

    def __call__(self, partition: Any) -> Any:
        return self.func(partition, *self.args, **self.kwargs)


class _AsColumn:
    """A partition function's Series (or scalar: one value per partition)
    as the one column `__value__`."""

    def __init__(self, func: Any) -> None:
        self.func = func

    def __call__(self, partition: Any) -> Any:
        import pandas as pd

        out = self.func(partition)
        if hasattr(out, "columns"):
            raise TypeError("map_partitions: the function returned a DataFrame where meta says a Series")
        out = out if isinstance(out, pd.Series) else pd.Series([out])
        return out.rename(_VALUE).to_frame()


class _RowAsSeries(Scalar):
    """A one-row frame of per-column results, computed as a pandas Series
    indexed by column name (what `df.sum()` gives)."""

    def __init__(self, frame: _core.Frame, agg: str) -> None:
        super().__init__(frame)
        self._agg = agg

    def compute(self, scheduler: Any = None, num_workers: int | None = None, **kwargs: Any) -> Any:
        df = _pandas(self._f, [], _compute(self._f, scheduler, num_workers))
        return df.iloc[0]

    def __repr__(self) -> str:
        return f"blockwork.dataframe.Series<{self._agg} per column>"


def _names(x: Any) -> list[str]:
    if x is None:
        return []
    return [x] if isinstance(x, str) else [str(c) for c in x]


def _refuse(method: str, kwargs: dict[str, Any], hints: tuple[str, ...] = ()) -> None:
    """Raises `TypeError` for a keyword `method` does not take, so none is
    silently ignored; `hints` are dask's tuning keywords, which change how
    a result is computed, not what it is, and are accepted."""
    for k in kwargs:
        if k not in hints:
            raise TypeError(f"{method}() got an unexpected keyword argument {k!r}")


def _suffixes(both: set[str], left: str | None, right: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """The renamings of the columns both sides of a join have."""
    return {c: f"{c}{left or ''}" for c in both}, {c: f"{c}{right or ''}" for c in both}


def _groupby_options(dropna: bool, kwargs: dict[str, Any]) -> None:
    """Refuses the group-by options blockwork cannot honour (`Series` and
    `DataFrame.groupby` take the same)."""
    if not dropna:
        raise NotImplementedError("groupby(dropna=False): rows with a missing key are left out")
    _refuse("groupby", kwargs, hints=("split_every", "shuffle_method", "observed", "group_keys"))


def concat(dfs: list[Any], axis: Any = 0, **kwargs: Any) -> Any:
    """Frames, or Series, one after the other (their partitions, in
    order). With `axis=1`, Series of one frame side by side as columns."""
    dfs = list(dfs)
    if not dfs:
        raise ValueError("concat needs at least one frame")
    series = [isinstance(d, Series) for d in dfs]
    if any(series) and not all(series):
        raise TypeError("concat takes frames or Series, not a mix of both")
    if axis in (1, "columns"):
        if not all(series) or any(d._f is not dfs[0]._f for d in dfs):
            raise ValueError(
                "concat(axis=1) puts Series of one frame side by side; combine other frames by a key with merge"
            )
        keep = [_core.Expr.col(c) for c, _ in dfs[0]._index]
        names = [str(d.name) if d.name is not None else str(i) for i, d in enumerate(dfs)]
        if len(set(names)) != len(names):
            raise ValueError(f"concat(axis=1) of Series with the same name: {names}")
        return DataFrame(
            dfs[0]._f.select([*keep, *(d._e.alias(n) for d, n in zip(dfs, names, strict=True))]), dfs[0]._index
        )
    if axis not in (0, "index"):
        raise ValueError(f"concat's axis is 0 or 1, not {axis!r}")
    if all(series):
        name = dfs[0].name if all(d.name == dfs[0].name for d in dfs) else None
        dtypes = [d.dtype for d in dfs]
        if any(t != dtypes[0] for t in dtypes):
            # As pandas: the Series' common type (int and float: float).
            try:
                common = np.result_type(*dtypes)
            except TypeError as e:
                raise TypeError(f"concat of Series of types {[str(t) for t in dtypes]} with no common type") from e
            dfs = [d.astype(common) for d in dfs]
        frames = [d.to_frame(_VALUE) for d in dfs]
        return Series(_core.Frame.concat([f._f for f in frames]), _core.Expr.col(_VALUE), dfs[0]._index, name)
    return DataFrame(_core.Frame.concat([d._f for d in dfs]), dfs[0]._index)
