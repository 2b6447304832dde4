"""Reading and making dataframes: CSV, Parquet and JSON piles (local paths,
globs, `s3://` URLs), pandas, pyarrow and Polars frames."""

from __future__ import annotations

import os
from typing import Any

from blockwork import _core
from blockwork._storage import apply_storage_options as _storage
from blockwork._storage import blocksize as _blocksize
from blockwork._storage import paths as _paths
from blockwork.dataframe import _arrow
from blockwork.dataframe.core import DataFrame, _dtype_name

_DEFAULT_BLOCKSIZE = 64 * 2**20


def read_csv(
    urlpath: Any,
    blocksize: Any = "default",
    parse_dates: Any = None,
    dtype: Any = None,
    usecols: Any = None,
    storage_options: dict[str, Any] | None = None,
    na_values: Any = None,
    keep_default_na: bool = True,
    na_filter: bool = True,
    **kwargs: Any,
) -> DataFrame:
    """CSV files as one frame: a path, a glob (`data/*.csv`), an `s3://`
    URL, or a list of them. Files larger than `blocksize` bytes (64 MiB
    by default; None: a partition per file) are cut into blocks. Types are
    inferred from the first rows; `dtype` (one for all, or per column)
    overrides them; `parse_dates` names datetime columns; `usecols` keeps
    only some columns. S3 credentials and endpoint come from the
    environment (`AWS_*`); `storage_options` may set them too.

    Missing values are read as pandas reads them: an empty field, and
    pandas' default texts (`NA`, `NaN`, `NULL`, `n/a`, `#N/A`, ...),
    unless `keep_default_na=False`; `na_values` adds texts (a string, a
    list, or a dict of column: texts); `na_filter=False` reads no text
    as missing (an empty field still is)."""
    if kwargs:
        raise TypeError(f"read_csv does not take {', '.join(sorted(kwargs))}")
    _storage(storage_options)
    # pandas' default texts are the engine's (`NA_VALUES`), added there.
    defaults = bool(keep_default_na and na_filter)
    missing, own = _missing_texts(na_values) if na_filter else ([], [])
    size = _DEFAULT_BLOCKSIZE if blocksize == "default" else _blocksize(blocksize)
    dates = [parse_dates] if isinstance(parse_dates, str) else list(parse_dates or [])
    if dtype is None:
        types: list[tuple[str, str]] = []
    elif isinstance(dtype, dict):
        types = [(str(c), _dtype_name(t)) for c, t in dtype.items()]
    else:
        raise TypeError("dtype is a dict of column: dtype")
    cols = [usecols] if isinstance(usecols, str) else list(usecols or [])
    return DataFrame(_core.Frame.read_csv(_paths(urlpath), dates, types, cols, size, defaults, missing, own))


def _texts(values: Any) -> list[str]:
    if values is None:
        return []
    if isinstance(values, (str, bytes, int, float)):
        values = [values]
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def _missing_texts(na_values: Any) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """The texts read as missing in every column, and per column (a
    dict), besides pandas' defaults."""
    if isinstance(na_values, dict):
        return [], [(str(c), _texts(v)) for c, v in na_values.items()]
    return _texts(na_values), []


def read_parquet(
    path: Any,
    columns: Any = None,
    filters: Any = None,
    split_row_groups: bool = False,
    storage_options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> DataFrame:
    """Parquet files (a path, a glob, a directory or an `s3://` URL): a
    partition per file (or per row group with `split_row_groups`), maybe
    only `columns`, and only the rows `filters` keep (pyarrow's DNF list
    of `(column, op, value)`; row groups that cannot match are skipped)."""
    if kwargs:
        raise TypeError(f"read_parquet does not take {', '.join(sorted(kwargs))}")
    _storage(storage_options)
    cols = [columns] if isinstance(columns, str) else list(columns or [])
    pattern = os.fspath(path)
    if os.path.isdir(pattern):
        pattern = os.path.join(pattern, "*.parquet")
    index = _pandas_index(pattern)
    if cols:
        cols += [c for c, _ in index if c not in cols]
    frame = _core.Frame.read_parquet(pattern, cols, _filters(filters), bool(split_row_groups))
    return DataFrame(frame, [(c, n) for c, n in index if c in frame.columns])


def _pandas_index(pattern: str) -> list[tuple[str, Any]]:
    """The index columns pandas recorded in the first local file
    `pattern` matches (its `pandas` metadata), with the index's names: a
    frame pandas wrote with an index has it back as its index, as in
    dask. None for other files, or for a range index, stored as no
    column."""
    import glob
    import json

    if "://" in pattern:
        return []
    first = sorted(glob.glob(pattern))[:1]
    if not first:
        return []
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(first[0]).metadata or {}
        pandas = json.loads(meta.get(b"pandas", b"{}"))
    except (OSError, ValueError):
        return []  # the engine's reading reports what is wrong with the file
    names = {c.get("field_name"): c.get("name") for c in pandas.get("columns", [])}
    return [(c, names.get(c, c)) for c in pandas.get("index_columns", []) if isinstance(c, str)]


def read_json(urlpath: Any, lines: bool = True, storage_options: dict[str, Any] | None = None) -> DataFrame:
    """JSON-lines files (a path, a glob or an `s3://` URL), a partition per file."""
    if not lines:
        raise ValueError("read_json reads JSON lines (lines=True)")
    _storage(storage_options)
    return DataFrame(_core.Frame.read_json(os.fspath(urlpath)))


def from_pandas(data: Any, npartitions: int | None = None, chunksize: int | None = None, sort: bool = True) -> Any:
    """A pandas DataFrame (or Series) cut into `npartitions` row ranges
    (or ranges of `chunksize` rows). A named or non-default index becomes
    the frame's index (its column, sorted when `sort`)."""
    import pandas as pd

    if isinstance(data, pd.Series):
        name = data.name if data.name is not None else 0
        return from_pandas(data.to_frame(name=name), npartitions, chunksize, sort)[name]
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"from_pandas takes a pandas DataFrame or Series, not {type(data).__name__}")
    n = _npartitions(len(data), npartitions, chunksize)
    index = data.index
    default = isinstance(index, pd.RangeIndex) and index.name is None
    if default:
        return DataFrame(_arrow.from_pandas(data, n))
    name = index.name if index.name is not None else "index"
    df = DataFrame(_arrow.from_pandas(data.reset_index(names=name), n))
    if sort:
        return df.set_index(name)
    return DataFrame(df._f, [(name, name)])


def from_arrow(table: Any, npartitions: int = 1) -> DataFrame:
    """A pyarrow Table (or anything with `__arrow_c_stream__`) cut into `npartitions`."""
    return DataFrame(_arrow.from_table(table, npartitions))


def from_polars(df: Any, npartitions: int = 1) -> DataFrame:
    """A Polars DataFrame cut into `npartitions` (through Arrow)."""
    return from_arrow(df.to_arrow(), npartitions)


def _npartitions(rows: int, npartitions: int | None, chunksize: int | None) -> int:
    if (npartitions is None) == (chunksize is None):
        raise ValueError("give exactly one of npartitions= and chunksize=")
    if chunksize is not None:
        if chunksize <= 0:
            raise ValueError(f"chunksize {chunksize} must be positive")
        return max(1, -(-rows // int(chunksize)))
    if int(npartitions or 0) <= 0:
        raise ValueError(f"npartitions {npartitions} must be positive")
    return int(npartitions or 1)


def _filters(filters: Any) -> _core.Expr | None:
    if not filters:
        return None
    groups = (
        filters if isinstance(filters[0], (list, tuple)) and isinstance(filters[0][0], (list, tuple)) else [filters]
    )
    ops = {"=": "eq", "==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
    out: _core.Expr | None = None
    for group in groups:
        conj: _core.Expr | None = None
        for column, op, value in group:
            c = _core.Expr.col(str(column))
            if op in ("in", "not in"):
                term = c.isin(list(value))
                term = term.unary("not") if op == "not in" else term
            elif op in ops:
                term = c.binary(ops[op], _core.Expr.lit(value))
            else:
                raise ValueError(f"unknown filter operator {op!r}: use =, ==, !=, <, <=, >, >=, in, not in")
            conj = term if conj is None else conj.binary("and", term)
        if conj is not None:
            out = conj if out is None else out.binary("or", conj)
    return out
