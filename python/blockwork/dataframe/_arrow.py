"""Computed partitions to pandas and back, through Arrow.

A computed frame leaves the engine as Arrow columns (the Arrow PyCapsule
protocol): pyarrow takes them without a copy, and pandas gets numeric
columns without nulls as views of the same memory (`split_blocks`).
"""

from __future__ import annotations

from typing import Any

from blockwork import _core


def _pa() -> Any:
    try:
        import pyarrow as pa
    except ImportError as e:  # pragma: no cover - a dependency of the package's dataframe extra
        raise ImportError("blockwork.dataframe needs pyarrow: pip install 'blockwork[dataframe]'") from e
    return pa


def table(columns: list[Any], names: list[str]) -> Any:
    """A pyarrow Table of the engine's exported columns."""
    pa = _pa()
    return pa.Table.from_arrays([pa.array(c) for c in columns], names=names)


def to_pandas(columns: list[Any], names: list[str]) -> Any:
    """A pandas DataFrame of the engine's exported columns (datetimes keep
    the engine's microseconds, as pandas 3's own readers give)."""
    return table(columns, names).to_pandas(split_blocks=True, self_destruct=True)


def arrow_columns(df: Any) -> list[tuple[str, Any, Any]]:
    """A pandas DataFrame's (or Series') columns as `(name, schema capsule,
    array capsule)` of the Arrow C data interface (its index is not kept)."""
    import pandas as pd

    pa = _pa()
    if isinstance(df, pd.Series):
        df = df.to_frame()
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"map_partitions' function must return a pandas DataFrame or Series, not {type(df).__name__}")
    return _columns(pa.Table.from_pandas(df, preserve_index=False))


def _columns(t: Any) -> list[tuple[str, Any, Any]]:
    out = []
    for name, col in zip(t.column_names, t.columns, strict=True):
        array = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        schema, data = array.__arrow_c_array__()
        out.append((str(name), schema, data))
    return out


def from_pandas(df: Any, npartitions: int) -> _core.Frame:
    """An engine frame of a pandas DataFrame's columns (its index is not
    kept: the caller turns a meaningful one into a column first)."""
    pa = _pa()
    t = pa.Table.from_pandas(df, preserve_index=False)
    return from_table(t, npartitions)


def from_table(t: Any, npartitions: int) -> _core.Frame:
    """An engine frame of a pyarrow Table (or anything with `__arrow_c_stream__`)."""
    pa = _pa()
    if not isinstance(t, pa.Table):
        t = pa.table(t)
    return _core.Frame.from_arrow(_columns(t), max(1, int(npartitions)))
