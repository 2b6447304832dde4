"""Partitioned dataframes with dask.dataframe's API: pandas' operations
over many Polars partitions, computed by the engine.

    import blockwork.dataframe as dd
    df = dd.read_csv("data/part-*.csv", parse_dates=["timestamp"])
    df.groupby(df.timestamp.dt.hour).value.mean().compute()   # a pandas Series

Reading, parsing, filtering, grouping and reducing run in Rust with the
GIL released; `compute()` hands the result to pandas through Arrow
(numeric columns without a copy). Needs pandas and pyarrow
(`pip install 'blockwork[dataframe]'`).
"""

from __future__ import annotations

from blockwork.dataframe.core import DataFrame, Scalar, Series, concat
from blockwork.dataframe.groupby import GroupBy
from blockwork.dataframe.io import from_arrow, from_pandas, from_polars, read_csv, read_json, read_parquet

__all__ = [
    "DataFrame",
    "GroupBy",
    "Scalar",
    "Series",
    "concat",
    "from_arrow",
    "from_pandas",
    "from_polars",
    "read_csv",
    "read_json",
    "read_parquet",
]
