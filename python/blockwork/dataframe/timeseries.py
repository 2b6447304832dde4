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

    def sum(self) -> Series:
        """Sum per bin."""
        return self.agg("sum")

    def mean(self) -> Series:
        """Mean per bin."""
        return self.agg("mean")

    def count(self) -> Series:
        """Present values per bin."""
        return self.agg("count")

    def min(self) -> Series:
        """Smallest value per bin."""
        return self.agg("min")

    def max(self) -> Series:
        """Largest value per bin."""
        return self.agg("max")

    def std(self) -> Series:
        """Sample standard deviation per bin."""
        return self.agg("std")

    def var(self) -> Series:
        """Sample variance per bin."""
        return self.agg("var")

    def first(self) -> Series:
        """First value per bin."""
        return self.agg("first")

    def last(self) -> Series:
        """Last value per bin."""
        return self.agg("last")


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

    def sum(self) -> ResampledFrame:
        """Sum per bin of every column."""
        return self.agg("sum")

    def mean(self) -> ResampledFrame:
        """Mean per bin of every column."""
        return self.agg("mean")

    def count(self) -> ResampledFrame:
        """Present values per bin of every column."""
        return self.agg("count")

    def min(self) -> ResampledFrame:
        """Smallest value per bin of every column."""
        return self.agg("min")

    def max(self) -> ResampledFrame:
        """Largest value per bin of every column."""
        return self.agg("max")


class ResampledFrame:
    """Several resampled columns, computed in one run into one pandas frame."""

    def __init__(self, columns: list[Series]) -> None:
        self._columns = columns

    def compute(self, scheduler: Any = None, num_workers: int | None = None, **kwargs: Any) -> Any:
        """The bins as a pandas DataFrame, a column per input column."""
        import pandas as pd

        frames = [s._selected() for s in self._columns]
        if config.client(scheduler) is not None:
            out = [list(config.client(scheduler)._compute_frame(f)) for f in frames]
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
    """A rolling window over a Series' datetime index: a number of rows
    (full windows only, as pandas' default) or a duration ("1h")."""

    def __init__(self, s: Series, window: int | str) -> None:
        self._s = s
        self._window = window

    def _agg(self, how: str) -> Series:
        if how not in _WINDOWED:
            raise ValueError(f"rolling {how} is not a windowed aggregation: use one of {', '.join(_WINDOWED)}")
        frame, _, column = _indexed(self._s, "rolling")
        out = frame.rolling(self._window, column, how, "__window__")
        return Series(out, _core.Expr.col("__window__").alias(self._s.name), self._s._index)

    def sum(self) -> Series:
        """Rolling sum."""
        return self._agg("sum")

    def mean(self) -> Series:
        """Rolling mean."""
        return self._agg("mean")

    def count(self) -> Series:
        """Rolling count of present values."""
        return self._agg("count")

    def min(self) -> Series:
        """Rolling minimum."""
        return self._agg("min")

    def max(self) -> Series:
        """Rolling maximum."""
        return self._agg("max")

    def std(self) -> Series:
        """Rolling sample standard deviation."""
        return self._agg("std")

    def var(self) -> Series:
        """Rolling sample variance."""
        return self._agg("var")
