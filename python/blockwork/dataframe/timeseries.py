"""Time series: `resample(rule)` and `rolling(window)` over a datetime
index (a frame after `set_index` on a datetime column)."""

from __future__ import annotations

from typing import Any

from blockwork import _core, config
from blockwork.dataframe import _arrow
from blockwork.dataframe.core import DataFrame, Series

_WINDOWED = ("sum", "mean", "count", "min", "max", "std", "var")
_TMP = "__rolled__"


def _indexed(s: Series, what: str) -> tuple[_core.Frame, str, str]:
    """The Series' frame with its values as a column, the datetime index's
    column, and that value column."""
    index = s._f.index
    if index is None:
        raise ValueError(f"{what} needs a datetime index: set_index on a datetime column first")
    frame = s._f.assign([s._e.alias(_TMP)])
    return frame, str(index), _TMP


class Resampler:
    """A Series binned by a fixed frequency of its index ("1h", "15min", "D")."""

    def __init__(self, s: Series, rule: str) -> None:
        self._s = s
        self._rule = rule

    def _frame(self, agg: str) -> tuple[_core.Frame, str]:
        frame, index, column = _indexed(self._s, "resample")
        return frame.resample(self._rule, column, agg), index

    def agg(self, how: str) -> Series:
        """`how` of the values in each bin (every bin from the first to the
        last; an empty one gives 0 for sums and counts, missing otherwise)."""
        frame, index = self._frame(how)
        return Series(frame, _core.Expr.col(_TMP).alias(self._s.name), [(index, index)])


class FrameResampler:
    """Every column of a frame binned by a fixed frequency of its index;
    `[column]` or an attribute picks one column's resampler."""

    def __init__(self, df: DataFrame, rule: str) -> None:
        self._df = df
        self._rule = rule

    def __getitem__(self, column: str) -> Resampler:
        return Resampler(self._df[column], self._rule)

    def __getattr__(self, name: str) -> Resampler:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def agg(self, how: str) -> ResampledFrame:
        """`how` per bin of every column, computed together."""
        return ResampledFrame([self[str(c)].agg(how) for c in self._df.columns])


class ResampledFrame:
    """Several resampled columns, computed in one run into one pandas frame."""

    def __init__(self, columns: list[Series]) -> None:
        self._columns = columns

    def compute(self, scheduler: Any = None, num_workers: int | None = None, **kwargs: Any) -> Any:
        """The bins as a pandas DataFrame, a column per input column."""
        import pandas as pd

        frames = [s._selected() for s in self._columns]
        client = config.client(scheduler)
        if client is not None:
            out = [list(client._compute_frame(f)) for f in frames]
        else:
            out = _core.compute_frames(frames, config.scheduler(scheduler, num_workers))
        series = []
        for s, frame, cols in zip(self._columns, frames, out, strict=True):
            df = _arrow.to_pandas(cols, list(frame.columns)).set_index(s._index[0][0])
            series.append(df["__value__"].rename(s.name))
        result = pd.concat(series, axis=1)
        result.index.name = self._columns[0]._index[0][1] if self._columns else None
        return result


class Rolling:
    """A rolling window: a number of rows (full windows only, as pandas'
    default; in row order, or the index's order after `set_index`) or a
    duration ("1h", over a datetime index)."""

    def __init__(self, s: Series, window: int | str) -> None:
        self._s = s
        self._window = window

    def _agg(self, how: str) -> Series:
        if how not in _WINDOWED:
            raise ValueError(f"rolling {how} is not a windowed aggregation: use one of {', '.join(_WINDOWED)}")
        if isinstance(self._window, int) and self._s._f.index is None:
            # A number of rows needs no index: the windows run in row order.
            frame, column = self._s._f.assign([self._s._e.alias(_TMP)]), _TMP
        else:
            frame, _, column = _indexed(self._s, "rolling over a duration")
        out = frame.rolling(self._window, column, how, "__window__")
        return Series(out, _core.Expr.col("__window__").alias(self._s.name), self._s._index)


_DOCS = {
    "sum": "Sum",
    "mean": "Mean",
    "count": "Count of present values",
    "min": "Smallest value",
    "max": "Largest value",
    "std": "Sample standard deviation",
    "var": "Sample variance",
    "first": "First value",
    "last": "Last value",
}


def _aggregations(cls: type, method: str, names: tuple[str, ...], what: str) -> None:
    """Gives `cls` a method per aggregation name, each `self.<method>(name)`."""
    for name in names:

        def aggregate(self: Any, _name: str = name) -> Any:
            return getattr(self, method)(_name)

        aggregate.__name__ = aggregate.__qualname__ = name
        aggregate.__doc__ = f"{_DOCS[name]} {what}."
        setattr(cls, name, aggregate)


_aggregations(Resampler, "agg", tuple(_DOCS), "per bin")
_aggregations(FrameResampler, "agg", ("sum", "mean", "count", "min", "max"), "per bin of every column")
_aggregations(Rolling, "_agg", _WINDOWED, "over each window")
