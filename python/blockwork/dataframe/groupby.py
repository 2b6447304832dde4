"""Group-by: `df.groupby(keys)[column].mean()`, `.agg({...})`, `size()`.

Every aggregation is the engine's tree reduction (a partial per
partition, merged a few at a time, finished once), sorted by the keys as
pandas sorts them; `split_out` spreads the groups over that many output
partitions.
"""

from __future__ import annotations

from typing import Any

from blockwork import _core
from blockwork.dataframe.core import AGGREGATIONS, DataFrame, Series, _check_ddof

_SAME: Any = object()

# How the engine names the key columns of a result (their pandas names
# come back as the index's names).
_KEY = "__key{}__"


class GroupBy:
    """A frame grouped by keys; select columns with `[...]` or attributes,
    then aggregate."""

    def __init__(
        self,
        df: DataFrame,
        by: Any,
        split_out: int = 1,
        selection: Any = None,
        name: Any = _SAME,
        as_index: bool = True,
    ) -> None:
        by_list = by if isinstance(by, list) else [by]
        if not by_list:
            raise ValueError("groupby needs at least one key")
        keys: list[_core.Expr] = []
        names: list[str] = []
        plain: list[str] = []
        for b in by_list:
            if isinstance(b, Series):
                if b._f is not df._f:
                    raise ValueError("a group key is a Series of another frame: group by columns of this frame")
                keys.append(b._e)
                names.append(b.name)
            elif isinstance(b, str):
                if b not in df._f.columns:
                    raise KeyError(f"no column {b!r}; the columns are {list(df.columns)}")
                keys.append(_core.Expr.col(b))
                names.append(b)
                plain.append(b)
            else:
                raise TypeError(f"a group key is a column name or a Series, not {type(b).__name__}")
        self._df = df
        self._by = by
        self._keys = [k.alias(_KEY.format(i)) for i, k in enumerate(keys)]
        self._names = names
        self._plain = plain
        self._split_out = max(1, int(split_out))
        self._as_index = as_index
        self._selection = selection
        # The name of a one-column result (the selected column's, unless a
        # Series was grouped under another).
        self._name = name

    # -- selection ----------------------------------------------------------

    def __getitem__(self, key: Any) -> GroupBy:
        cols = [key] if isinstance(key, str) else list(key)
        for c in cols:
            if c not in self._df._f.columns:
                raise KeyError(f"no column {c!r}; the columns are {list(self._df.columns)}")
        selection = key if isinstance(key, str) else cols
        return GroupBy(self._df, self._by, self._split_out, selection, self._name, self._as_index)

    def __getattr__(self, name: str) -> GroupBy:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._df._f.columns:
            return self[name]
        raise AttributeError(f"'GroupBy' has no attribute or column {name!r}")

    def _columns(self) -> list[str]:
        if isinstance(self._selection, str):
            return [self._selection]
        if self._selection is not None:
            return list(self._selection)
        return [c for c in self._df.columns if c not in self._plain]

    # -- aggregation ----------------------------------------------------------

    def _frame(self, aggs: list[tuple[_core.Expr, str, str]]) -> _core.Frame:
        return self._df._f.groupby_agg(self._keys, aggs, self._split_out)

    def _index(self) -> list[tuple[str, str]]:
        return [(_KEY.format(i), n) for i, n in enumerate(self._names)]

    def _out(self, result: Any) -> Any:
        """A result as the group-by was asked: indexed by the keys, or with
        them as its first columns (`as_index=False`)."""
        if self._as_index:
            return result
        if isinstance(result, Series):
            result = result.to_frame()
        return DataFrame(result.reset_index()._f, None, result._labels)

    def _reduce(self, agg: str) -> Any:
        columns = self._columns()
        frame = self._frame([(_core.Expr.col(c), agg, c) for c in columns])
        if isinstance(self._selection, str):
            name = columns[0] if self._name is _SAME else self._name
            return self._out(Series(frame, _core.Expr.col(columns[0]), self._index(), name))
        return self._out(DataFrame(frame, self._index()))

    def sum(self) -> Any:
        """Sum per group."""
        return self._reduce("sum")

    def mean(self) -> Any:
        """Mean per group."""
        return self._reduce("mean")

    def count(self) -> Any:
        """Present values per group."""
        return self._reduce("count")

    def min(self) -> Any:
        """Smallest value per group."""
        return self._reduce("min")

    def max(self) -> Any:
        """Largest value per group."""
        return self._reduce("max")

    def std(self, ddof: int = 1) -> Any:
        """Sample standard deviation per group."""
        _check_ddof(ddof)
        return self._reduce("std")

    def var(self, ddof: int = 1) -> Any:
        """Sample variance per group."""
        _check_ddof(ddof)
        return self._reduce("var")

    def first(self) -> Any:
        """First value per group (in partition order)."""
        return self._reduce("first")

    def last(self) -> Any:
        """Last value per group."""
        return self._reduce("last")

    def nunique(self) -> Any:
        """Distinct values per group."""
        return self._reduce("nunique")

    def size(self) -> Series:
        """Rows per group."""
        frame = self._frame([(_core.Expr.lit(0), "size", "size")])
        return self._out(Series(frame, _core.Expr.col("size"), self._index(), name=None))

    def agg(self, arg: Any) -> Any:
        """Several aggregations: a name (`"mean"`), a list of names (columns
        labelled `(column, aggregation)`), or a dict per column of a name or
        a list of names."""
        if isinstance(arg, str):
            return self._reduce(_check(arg))
        if isinstance(arg, dict):
            spec = [(c, a, isinstance(v, (list, tuple))) for c, v in arg.items() for a in _as_list(v)]
            multi = any(m for _, _, m in spec)
        elif isinstance(arg, (list, tuple)):
            if isinstance(self._selection, str):
                spec = [(self._selection, a, False) for a in arg]
                return self._labelled(spec, [str(a) for a in arg])
            spec = [(c, a, True) for c in self._columns() for a in arg]
            multi = True
        else:
            raise TypeError(f"agg takes a name, a list of names or a dict, not {type(arg).__name__}")
        labels: list[Any] = [(c, a) if multi else c for c, a, _ in spec]
        return self._labelled(spec, labels)

    aggregate = agg

    def _labelled(self, spec: list[tuple[str, str, bool]], labels: list[Any]) -> DataFrame:
        for c, a, _ in spec:
            _check(a)
            if c not in self._df._f.columns:
                raise KeyError(f"no column {c!r}; the columns are {list(self._df.columns)}")
        names = [f"__agg{i}__" for i in range(len(spec))]
        frame = self._frame([(_core.Expr.col(c), a, n) for (c, a, _), n in zip(spec, names, strict=True)])
        return self._out(DataFrame(frame, self._index(), labels=dict(zip(names, labels, strict=True))))


def _as_list(v: Any) -> list[str]:
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _check(agg: Any) -> str:
    if not isinstance(agg, str) or agg not in (*AGGREGATIONS, "size"):
        raise ValueError(f"unknown aggregation {agg!r}: use one of {', '.join(AGGREGATIONS)}, size")
    return agg
