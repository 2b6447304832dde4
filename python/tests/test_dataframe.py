"""blockwork.dataframe against pandas on random frames and partitionings."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd
import pytest
from conftest import s3_bucket
from hypothesis import given, settings
from hypothesis import strategies as st

import blockwork
import blockwork.dataframe as dd

# Workers cannot import this test module: its functions travel by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def frame(seed: int, rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "k": rng.integers(0, 7, rows),
            "big": rng.integers(0, 5, rows) + 2**60,
            "x": rng.normal(size=rows),
            "y": rng.integers(-50, 50, rows).astype("int64"),
            "s": rng.choice(["apple", "Banana", "cherry", "date"], rows),
        }
    )


def same(got: pd.DataFrame | pd.Series, want: pd.DataFrame | pd.Series, **kw: object) -> None:
    if isinstance(want, pd.DataFrame):
        pd.testing.assert_frame_equal(got, want, check_dtype=False, **kw)
    else:
        pd.testing.assert_series_equal(got, want, check_dtype=False, **kw)


frames = st.tuples(st.integers(0, 2**31), st.integers(1, 200), st.integers(1, 9))


@settings(max_examples=25, deadline=None)
@given(frames)
def test_round_trip_and_elementwise(spec: tuple[int, int, int]) -> None:
    seed, rows, parts = spec
    pdf = frame(seed, rows)
    df = dd.from_pandas(pdf, npartitions=parts)
    assert df.npartitions == parts
    same(df.compute(), pdf)
    same((df.x * 2 + df.y).compute(), pdf.x * 2 + pdf.y)
    same((1 - df.y // 3).compute(), 1 - pdf.y // 3)
    same((df.y % 7).compute(), pdf.y % 7)
    same((df.x**2).compute(), pdf.x**2)
    got = df[(df.x > 0) & ~(df.s == "apple")].compute()
    same(got, pdf[(pdf.x > 0) & ~(pdf.s == "apple")].reset_index(drop=True))
    same(df[df.k.isin([1, 3])][["k", "y"]].compute(), pdf[pdf.k.isin([1, 3])][["k", "y"]].reset_index(drop=True))
    assert len(df) == rows
    assert len(df[df.y > 0]) == int((pdf.y > 0).sum())


@settings(max_examples=25, deadline=None)
@given(frames, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
def test_missing_values_compare_as_pandas_nan(spec: tuple[int, int, int], op: str) -> None:
    seed, rows, parts = spec
    pdf = frame(seed, rows)
    rng = np.random.default_rng(seed + 1)
    pdf.loc[rng.random(rows) < 0.3, "x"] = np.nan
    pdf.loc[rng.random(rows) < 0.3, "s"] = None
    df = dd.from_pandas(pdf, npartitions=parts)
    cmp = {"==": "__eq__", "!=": "__ne__", "<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__"}[op]
    for column, literal in (("x", 0.0), ("s", "cherry")):
        want = getattr(pdf[column], cmp)(literal)
        got = getattr(df[column], cmp)(literal)
        same(got.compute(), want)
        assert got.compute().dtype == bool
        # Filters keep and drop the rows pandas keeps and drops, negated too.
        same(df[got].compute(), pdf[want].reset_index(drop=True))
        same(df[~got].compute(), pdf[~want].reset_index(drop=True))
    same(df.s.str.contains("an").compute(), pdf.s.str.contains("an"))


@settings(max_examples=25, deadline=None)
@given(frames, st.sampled_from(["sum", "mean", "count", "min", "max", "std", "var", "nunique", "first", "last"]))
def test_groupby_aggregations_equal_pandas(spec: tuple[int, int, int], agg: str) -> None:
    seed, rows, parts = spec
    pdf = frame(seed, rows)
    df = dd.from_pandas(pdf, npartitions=parts)
    got = getattr(df.groupby("k").x, agg)().compute()
    want = getattr(pdf.groupby("k").x, agg)()
    same(got, want, check_exact=False, rtol=1e-9)
    got = getattr(df.groupby(["k", "s"])[["x", "y"]], agg)().compute()
    want = getattr(pdf.groupby(["k", "s"])[["x", "y"]], agg)()
    same(got, want, check_exact=False, rtol=1e-9)


def test_groupby_keys_near_two_to_the_sixty_stay_apart() -> None:
    pdf = frame(3, 500)
    got = dd.from_pandas(pdf, npartitions=4).groupby("big").y.sum().compute()
    same(got, pdf.groupby("big").y.sum())


def test_groupby_by_expression_size_agg_and_split_out() -> None:
    pdf = frame(5, 300)
    df = dd.from_pandas(pdf, npartitions=5)
    same(df.groupby(df.y // 10).x.mean().compute(), pdf.groupby(pdf.y // 10).x.mean())
    same(df.groupby("k").size().compute(), pdf.groupby("k").size())
    got = df.groupby("k").agg({"x": "mean", "y": ["min", "max"]}).compute()
    want = pdf.groupby("k").agg({"x": ["mean"], "y": ["min", "max"]})
    same(got, want, check_exact=False, rtol=1e-12)
    same(df.groupby("k").agg({"x": "sum", "y": "max"}).compute(), pdf.groupby("k").agg({"x": "sum", "y": "max"}))
    same(df.x.groupby(df.k).mean().compute(), pdf.x.groupby(pdf.k).mean(), check_exact=False, rtol=1e-12)
    same((df.x * 2).groupby([df.k, df.s]).sum().compute(), (pdf.x * 2).groupby([pdf.k, pdf.s]).sum())
    split = df.groupby("k", split_out=3).y.sum()
    assert split.npartitions == 3
    same(split.compute().sort_index(), pdf.groupby("k").y.sum())


@pytest.mark.parametrize("seed", range(3))
def test_scalar_arithmetic_stays_lazy_and_matches_pandas(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pdf, other = frame(seed, int(rng.integers(5, 200))), frame(seed + 10, int(rng.integers(5, 200)))
    df = dd.from_pandas(pdf, npartitions=int(rng.integers(1, 5)))
    do = dd.from_pandas(other, npartitions=int(rng.integers(1, 5)))
    cases = [
        (df.x.sum() / df.x.count(), pdf.x.sum() / pdf.x.count()),
        (df.y.max() - df.y.min(), pdf.y.max() - pdf.y.min()),
        (2 * df.y.sum() + 1, 2 * pdf.y.sum() + 1),
        (1 / df.x.std(), 1 / pdf.x.std()),
        (df.x.mean() - do.x.mean(), pdf.x.mean() - other.x.mean()),
        (df.y.sum() // do.y.count(), pdf.y.sum() // other.y.count()),
        (-abs(df.x.min()), -abs(pdf.x.min())),
        (df.x.sum() > do.x.sum(), pdf.x.sum() > other.x.sum()),
        (df.y.count() ** 2 % 7, pdf.y.count() ** 2 % 7),
    ]
    for got, want in cases:
        assert isinstance(got, dd.Scalar)
        assert got.compute() == pytest.approx(want, rel=1e-12)
    assert blockwork.compute(*(g for g, _ in cases[:2])) == pytest.approx((cases[0][1], cases[1][1]), rel=1e-12)
    with pytest.raises(TypeError, match="compute"):
        bool(df.x.sum() > 0)


def test_series_reductions_value_counts_and_accessors() -> None:
    pdf = frame(11, 250)
    df = dd.from_pandas(pdf, npartitions=3)
    assert df.x.sum().compute() == pytest.approx(pdf.x.sum())
    assert df.x.mean().compute() == pytest.approx(pdf.x.mean())
    assert df.x.std().compute() == pytest.approx(pdf.x.std())
    assert df.y.min().compute() == pdf.y.min()
    assert df.k.nunique().compute() == pdf.k.nunique()
    counts = df.s.value_counts().compute()
    want = pdf.s.value_counts()
    same(counts.sort_index(), want.sort_index())
    assert list(counts.values) == sorted(counts.values, reverse=True)
    same(df.s.str.lower().compute(), pdf.s.str.lower())
    same(df.s.str.upper().compute(), pdf.s.str.upper())
    same(df.s.str.len().compute(), pdf.s.str.len())
    same(df.s.str.contains("an").compute(), pdf.s.str.contains("an"))
    same(df.sum(numeric_only=True).compute(), pdf.sum(numeric_only=True).astype(float), check_names=False)
    # Approximate statistics: within their documented errors.
    assert abs(df.x.quantile(0.5).compute() - pdf.x.quantile(0.5)) < 0.05
    quartiles = df.y.quantile([0.25, 0.75]).compute()
    assert list(quartiles.index) == [0.25, 0.75]
    assert abs(quartiles.iloc[1] - pdf.y.quantile(0.75)) <= 2
    assert abs(int(df.y.nunique_approx().compute()) - pdf.y.nunique()) <= 3
    described = df.describe()
    want = pdf.describe()
    assert list(described.columns) == list(want.columns)
    same(described.loc[["count", "mean", "std", "min", "max"]], want.loc[["count", "mean", "std", "min", "max"]])


def test_assign_setitem_fillna_dropna_astype() -> None:
    pdf = frame(13, 120)
    pdf.loc[pdf.index % 5 == 0, "x"] = np.nan
    df = dd.from_pandas(pdf, npartitions=4)
    same(df.assign(z=df.x * 2, w=1).compute(), pdf.assign(z=pdf.x * 2, w=1))
    df2 = dd.from_pandas(pdf, npartitions=4)
    df2["z"] = df2.y + 1
    same(df2.compute(), pdf.assign(z=pdf.y + 1))
    same(df.fillna(0.0).compute(), pdf.fillna(0.0))
    same(df.x.fillna(-1.0).compute(), pdf.x.fillna(-1.0))
    same(df.dropna().compute(), pdf.dropna().reset_index(drop=True))
    same(df.x.isna().compute(), pdf.x.isna())
    same(df.y.astype("float64").compute(), pdf.y.astype("float64"))
    assert str(df.dtypes["y"]) == "int64"
    # NumPy's integers cannot hold a missing value: pandas raises, and so
    # does computing; without missing values the cast is pandas'.
    for dtype in ("int64", np.int32, int):
        with pytest.raises(Exception, match="missing or non-finite"):
            df.x.astype(dtype).compute()
        same(df.x.fillna(-1.5).astype(dtype).compute(), pdf.x.fillna(-1.5).astype(dtype))
    with pytest.raises(Exception, match="missing or non-finite"):
        (df.x.fillna(0) / 0).astype("int64").compute()
    kept = df.x.astype("Int64").compute()
    assert kept.isna().sum() == pdf.x.isna().sum()
    shown = df._repr_html_()
    assert "npartitions=4" in shown and "<th>y</th>" in shown and "int64" in shown
    assert list(df.columns) == list(pdf.columns)


def test_merge_concat_sort_and_set_index() -> None:
    left = frame(17, 90)
    right = pd.DataFrame({"k": np.arange(5), "name": [f"n{i}" for i in range(5)]})
    a = dd.from_pandas(left, npartitions=3)
    b = dd.from_pandas(right, npartitions=2)
    for how in ("inner", "left"):
        got = a.merge(b, on="k", how=how).compute().sort_values(["k", "x"]).reset_index(drop=True)
        want = left.merge(right, on="k", how=how).sort_values(["k", "x"]).reset_index(drop=True)
        same(got[want.columns], want)
    both = dd.concat([a, a]).compute()
    same(both, pd.concat([left, left]).reset_index(drop=True))
    same(a.sort_values("x").compute(), left.sort_values("x").reset_index(drop=True))
    indexed = a.set_index("x")
    assert indexed.known_divisions and len(indexed.divisions) == indexed.npartitions + 1
    same(indexed.compute(), left.set_index("x").sort_index())
    assert "x" not in indexed.columns


def test_head_tail_and_persist() -> None:
    pdf = frame(19, 100)
    df = dd.from_pandas(pdf, npartitions=7)
    same(df.head(12), pdf.head(12))
    same(df.tail(9), pdf.tail(9).reset_index(drop=True))
    same(df.x.head(3), pdf.x.head(3))
    # dask's npartitions is taken; rows come from as many partitions as hold them.
    same(df.head(40, npartitions=-1), pdf.head(40))
    same(df.x.head(30, npartitions=1), pdf.x.head(30))
    kept = df[df.y > 0].persist()
    same(kept.compute(), pdf[pdf.y > 0].reset_index(drop=True))


def test_read_csv_glob_parse_dates_and_the_talks_group_by(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    parts = []
    for i in range(4):
        t = pd.date_range("2024-01-01", periods=500, freq="7min") + pd.Timedelta(days=i)
        part = pd.DataFrame({"timestamp": t, "id": rng.integers(0, 100, 500), "value": rng.normal(size=500)})
        part.to_csv(tmp_path / f"part-{i}.csv", index=False)
        parts.append(part)
    pdf = pd.concat(parts, ignore_index=True)
    df = dd.read_csv(str(tmp_path / "part-*.csv"), parse_dates=["timestamp"])
    assert df.npartitions == 4
    got = df.groupby(df.timestamp.dt.hour).value.mean().compute()
    want = pdf.groupby(pdf.timestamp.dt.hour).value.mean()
    same(got, want, check_exact=False, rtol=1e-12, check_index_type=False)
    same(df.compute(), pdf)
    listed = dd.read_csv([tmp_path / "part-0.csv", tmp_path / "part-1.csv"], usecols=["id", "value"])
    same(listed.compute(), pdf[["id", "value"]].iloc[:1000])
    small = dd.read_csv(str(tmp_path / "part-0.csv"), blocksize="8KB", dtype={"id": "float64"}, parse_dates="timestamp")
    assert small.npartitions > 1
    same(small.compute(), parts[0].astype({"id": "float64"}))


@pytest.mark.parametrize("seed", range(3))
def test_read_csv_reads_missing_texts_as_pandas_does(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 400))
    defaults = ["NA", "n/a", "NULL", "nan", "", "#N/A", "None", "<NA>"]
    cases: list[tuple[list[str], dict[str, Any]]] = [
        ([], {}),
        ([], {"na_values": {"s": ["a"]}}),
        (["-"], {"na_values": ["-"]}),
        (["-", "?"], {"na_values": {"i": "-", "x": ["-", "?"], "s": "?", "t": ["-", "?"]}}),
    ]
    for k, (extra, options) in enumerate(cases):
        texts = defaults + extra

        def column(values: list[str], texts: list[str] = texts) -> list[str]:
            return [texts[rng.integers(len(texts))] if rng.random() < 0.2 else v for v in values]

        start = pd.Timestamp("2020-01-01")
        raw = pd.DataFrame(
            {
                "i": column([str(v) for v in rng.integers(-50, 50, n)]),
                "x": column([f"{v:.3f}" for v in rng.normal(size=n)]),
                "s": column([["a", "NAB", "N", "b"][v] for v in rng.integers(0, 4, n)]),
                "t": column([str(start + pd.Timedelta(hours=int(h))) for h in rng.integers(0, 1000, n)]),
            }
        )
        if k == 3:  # "-" is no missing text in "s"
            raw["s"] = raw["s"].replace("-", "b")
        path = tmp_path / f"missing-{k}.csv"
        path.write_text("i,x,s,t\n" + "".join(",".join(row) + "\n" for row in raw.itertuples(index=False)))
        blocksize = int(rng.integers(200, 2000))
        got = dd.read_csv(str(path), blocksize=blocksize, parse_dates=["t"], **options).compute()
        same(got, pd.read_csv(path, parse_dates=["t"], **options))


def test_read_csv_keeps_texts_as_told(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    # (no empty field: blockwork reads one as missing even where pandas,
    # told to keep texts, reads an empty text)
    path.write_text("a,b,c\n1,NA,x\n2,n/a,y\n3,nan,NULL\n")
    for options in [{"keep_default_na": False}, {"keep_default_na": False, "na_values": ["n/a"]}]:
        got = dd.read_csv(str(path), **options).compute()
        same(got, pd.read_csv(path, **options))
    got = dd.read_csv(str(path), na_filter=False).compute()
    assert got.b.tolist() == ["NA", "n/a", "nan"]
    with pytest.raises(Exception, match="zzz"):
        dd.read_csv(str(path), na_values={"zzz": ["x"]})


def test_write_and_read_parquet_and_csv(tmp_path: Path) -> None:
    pdf = frame(23, 80)
    df = dd.from_pandas(pdf, npartitions=3)
    paths = df.to_parquet(str(tmp_path / "pq"))
    assert len(paths) == 3
    back = dd.read_parquet(str(tmp_path / "pq"))
    same(back.compute(), pdf)
    only = dd.read_parquet(str(tmp_path / "pq"), columns=["k", "x"], filters=[("k", ">=", 3)])
    same(only.compute(), pdf[pdf.k >= 3][["k", "x"]].reset_index(drop=True))
    df.to_csv(str(tmp_path / "csv"))
    same(dd.read_csv(str(tmp_path / "csv" / "*.csv")).compute(), pdf)
    # Files of different columns are the input's fault, not missing files.
    (tmp_path / "mixed").mkdir()
    pd.DataFrame({"a": [1, 2], "b": [1.0, 2.0]}).to_parquet(tmp_path / "mixed" / "p0.parquet")
    pd.DataFrame({"a": [3, 4], "c": ["x", "y"]}).to_parquet(tmp_path / "mixed" / "p1.parquet")
    with pytest.raises(ValueError, match=r"p1\.parquet: its columns .* differ from those of"):
        dd.read_parquet(str(tmp_path / "mixed" / "*.parquet"))


def test_read_parquet_gives_back_the_index_pandas_wrote(tmp_path: Path) -> None:
    pdf = frame(29, 60)
    named = pdf.set_index("y")
    named.to_parquet(tmp_path / "named.parquet")
    back = dd.read_parquet(str(tmp_path / "named.parquet"))
    assert list(back.columns) == list(named.columns)
    same(back.compute(), named)
    same(dd.read_parquet(str(tmp_path / "named.parquet"), columns=["x"]).compute(), named[["x"]])
    unnamed = pdf.set_index(pd.Index(pdf.y.to_numpy() * 2))
    unnamed.to_parquet(tmp_path / "unnamed.parquet")
    same(dd.read_parquet(str(tmp_path / "unnamed.parquet")).compute(), unnamed)
    pdf.to_parquet(tmp_path / "range.parquet")  # a range index: no column
    same(dd.read_parquet(str(tmp_path / "range.parquet")).compute(), pdf)
    # An indexed frame keeps its index through isin.
    same(back.isin([1, 2]).compute(), named.isin([1, 2]))


def test_resample_and_rolling_on_a_datetime_index() -> None:
    t = pd.date_range("2024-01-01", periods=200, freq="13min")
    pdf = pd.DataFrame({"t": t, "v": np.random.default_rng(1).normal(size=200)})
    df = dd.from_pandas(pdf, npartitions=4).set_index("t")
    want = pdf.set_index("t").v.resample("1h").mean()
    same(df.v.resample("1h").mean().compute(), want, check_freq=False)
    same(df.resample("1h").v.sum().compute(), pdf.set_index("t").v.resample("1h").sum(), check_freq=False)
    both = df.assign(w=df.v * 2).resample("2h").max().compute()
    same(both, pdf.set_index("t").assign(w=pdf.v.values * 2).resample("2h").max(), check_freq=False)
    rolled = df.v.rolling(5).mean().compute()
    same(rolled, pdf.set_index("t").v.rolling(5).mean())


@settings(max_examples=15, deadline=None)
@given(frames, st.integers(1, 12), st.sampled_from(["sum", "mean", "min", "max", "std", "count"]))
def test_rolling_rows_without_an_index(spec: tuple[int, int, int], window: int, how: str) -> None:
    # A number of rows needs no index, as in pandas: windows run in row
    # order, across partition edges.
    seed, rows, nparts = spec
    pdf = frame(seed, rows)
    pdf.loc[pdf.index % 5 == 3, "x"] = np.nan
    df = dd.from_pandas(pdf, npartitions=nparts)
    got = getattr(df.x.rolling(window), how)().compute()
    same(got, getattr(pdf.x.rolling(window), how)(), check_names=False)
    with pytest.raises(ValueError, match="datetime index"):
        df.x.rolling("1h").mean()


def test_to_polars_and_from_arrow() -> None:
    pa = pytest.importorskip("pyarrow")
    pdf = frame(29, 40)
    df = dd.from_arrow(pa.Table.from_pandas(pdf), npartitions=2)
    same(df.compute(), pdf)
    table = df.to_arrow()
    assert table.num_rows == 40 and table.column_names == list(pdf.columns)


def test_errors_name_what_is_wrong(tmp_path: Path) -> None:
    df = dd.from_pandas(frame(1, 10), npartitions=2)
    with pytest.raises(KeyError, match="nope"):
        df["nope"]
    with pytest.raises(AttributeError, match="nope"):
        _ = df.nope
    with pytest.raises(KeyError, match="nope"):
        df.groupby("nope")
    with pytest.raises(FileNotFoundError, match="missing"):
        dd.read_csv(str(tmp_path / "missing-*.csv"))
    # There but unreadable (a directory): an OSError, not a missing file.
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(OSError, match=r"folder\.csv") as unreadable:
        dd.read_csv(str(tmp_path / "folder.csv"))
    assert not isinstance(unreadable.value, FileNotFoundError)
    # There and readable, but not what it should be: the input's fault.
    (tmp_path / "blank.csv").write_text("\n1,2\n")
    with pytest.raises(ValueError, match=r"blank\.csv: no header line"):
        dd.read_csv(str(tmp_path / "blank.csv"))
    (tmp_path / "junk.parquet").write_bytes(b"not a parquet file")
    with pytest.raises(ValueError, match=r"junk\.parquet"):
        dd.read_parquet(str(tmp_path / "junk.parquet"))
    with pytest.raises(TypeError, match="literal"):
        df.x + object()
    with pytest.raises(ValueError, match="aggregation"):
        df.groupby("k").agg({"x": "median"})
    other = dd.from_pandas(frame(2, 10), npartitions=2)
    with pytest.raises(ValueError, match="another frame"):
        df[other.x > 0]
    with pytest.raises(ValueError, match="ambiguous"):
        bool(df.x > 0)
    with pytest.raises(ValueError, match="datetime index"):
        df.x.resample("1h").mean()


def add_ratio(part: pd.DataFrame, scale: float) -> pd.DataFrame:
    return part.assign(ratio=part.x / scale)[["k", "ratio"]]


def test_map_partitions_with_python_functions() -> None:
    pdf = frame(37, 150)
    df = dd.from_pandas(pdf, npartitions=4)
    got = df.map_partitions(add_ratio, 2.0).compute()
    same(got, add_ratio(pdf, 2.0).reset_index(drop=True))
    sizes = df.map_partitions(lambda p: pd.DataFrame({"n": [len(p)]}), meta=["n"]).compute()
    assert sizes.n.sum() == 150 and len(sizes) == 4
    with pytest.raises(ValueError, match="columns"):
        df.map_partitions(lambda p: p[["x"]], meta=["y"]).compute()
    with pytest.raises(ZeroDivisionError):
        df.map_partitions(lambda p: p.assign(z=1 // 0) if len(p) else p, meta=list(pdf.columns)).compute()


def test_frames_compute_on_a_cluster(tmp_path: Path) -> None:
    from blockwork.distributed import Client, LocalCluster

    pdf = frame(31, 200)
    pdf.to_csv(tmp_path / "a.csv", index=False)
    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
        df = dd.from_pandas(pdf, npartitions=4)
        # Client.compute gives futures of frames and series, as Dask's.
        fut = client.compute(df[df.y > 0])
        same(fut.result(timeout=60), pdf[pdf.y > 0].reset_index(drop=True))
        assert fut.status == "finished" and fut.done()
        means, total = client.compute([df.groupby("k").x.mean(), df.x.sum()], sync=True)
        same(means, pdf.groupby("k").x.mean(), check_exact=False, rtol=1e-12)
        assert total == pytest.approx(pdf.x.sum())
        same(df.groupby("k").x.mean().compute(), pdf.groupby("k").x.mean(), check_exact=False, rtol=1e-12)
        read = dd.read_csv(str(tmp_path / "*.csv"))
        same(read[read.y > 0].compute(), pdf[pdf.y > 0].reset_index(drop=True))
        assert read.x.sum().compute() == pytest.approx(pdf.x.sum())
        kept = read[read.y > 0].persist()
        assert len(kept._held) == kept.npartitions
        deadline = time.monotonic() + 60
        while not all(f.done() for f in kept._held) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert all(f.status == "finished" for f in kept._held)
        same(kept.compute(), pdf[pdf.y > 0].reset_index(drop=True))
        same(kept.groupby("k").x.sum().compute(), pdf[pdf.y > 0].groupby("k").x.sum(), check_exact=False, rtol=1e-12)
        held = read.x.persist()
        same(held.compute(), pdf.x)
        ratios = df.map_partitions(add_ratio, 4.0).compute()
        same(ratios, add_ratio(pdf, 4.0).reset_index(drop=True))


def test_csv_and_parquet_on_an_object_store() -> None:
    bucket, options = s3_bucket("bw-py")
    pdf = frame(41, 300)
    df = dd.from_pandas(pdf, npartitions=3)
    df.to_csv(f"s3://{bucket}/csv", storage_options=options)
    back = dd.read_csv(f"s3://{bucket}/csv/part.*.csv", blocksize="4KB", storage_options=options)
    assert back.npartitions > 3
    same(back.compute(), pdf)
    df.to_parquet(f"s3://{bucket}/pq", storage_options=options)
    same(dd.read_parquet(f"s3://{bucket}/pq/*.parquet", storage_options=options).compute(), pdf)


def test_arrow_columns_follow_the_pycapsule_protocol() -> None:
    pa = pytest.importorskip("pyarrow")
    from blockwork import config

    pdf = frame(1, 5)
    columns = dd.from_pandas(pdf, npartitions=2)._f.compute(config.scheduler())
    # A requested schema is a hint: the column comes in its own type.
    schema, array = columns[3].__arrow_c_array__(pa.float64().__arrow_c_schema__())
    got = pa.Array._import_from_c_capsule(schema, array)
    assert got.type == pa.int64() and got.to_pylist() == pdf.y.tolist()
    with pytest.raises(RuntimeError, match="already taken"):
        columns[3].__arrow_c_array__()


@settings(max_examples=15, deadline=None)
@given(frames)
def test_concat_merge_suffixes_as_index_and_named_index_columns(spec: tuple[int, int, int]) -> None:
    seed, rows, parts = spec
    pdf = frame(seed, rows)
    df = dd.from_pandas(pdf, npartitions=parts)
    # Series one after the other (common type), and side by side.
    got = dd.concat([df.y, df.x])
    assert isinstance(got, dd.Series)
    same(got.compute(), pd.concat([pdf.y, pdf.x], ignore_index=True).rename(None))
    same(dd.concat([df.k, df.x * 2], axis=1).compute(), pd.concat([pdf.k, pdf.x * 2], axis=1))
    # Columns both sides of a merge have take pandas' suffixes.
    right = pdf[["k", "x"]].drop_duplicates("k")
    want = pdf.merge(right, on="k").sort_values(["k", "y", "x_x"]).reset_index(drop=True)
    got = df.merge(right, on="k").compute().sort_values(["k", "y", "x_x"]).reset_index(drop=True)
    same(got[list(want.columns)], want)
    got = df.merge(dd.from_pandas(right, npartitions=2), on="k", suffixes=("_l", "_r")).compute()
    assert {"x_l", "x_r"} <= set(got.columns)
    # as_index=False: the keys as the first columns.
    same(df.groupby("k", as_index=False).y.sum().compute(), pdf.groupby("k", as_index=False).y.sum())
    same(df.groupby("k", as_index=False).size().compute(), pdf.groupby("k", as_index=False).size())
    # A group-by result's Arrow table names its key column as pandas does.
    table = df.groupby("k").y.sum().to_frame().to_arrow()
    assert table.column_names == ["k", "y"]


def test_options_that_would_change_a_result_are_refused_not_ignored(tmp_path: Path) -> None:
    pdf = frame(1, 20)
    df = dd.from_pandas(pdf, npartitions=3)
    with pytest.raises(NotImplementedError, match="single_file"):
        df.to_csv(str(tmp_path / "one.csv"), single_file=True)
    # A group-by's key column is written first, under its name; index=False leaves it out.
    sums = df.groupby("k").y.sum().to_frame()
    written = pd.concat(pd.read_csv(p) for p in sums.to_csv(str(tmp_path / "sums")))
    same(written.reset_index(drop=True), pdf.groupby("k").y.sum().reset_index())
    written = pd.concat(pd.read_csv(p) for p in sums.to_csv(str(tmp_path / "bare"), index=False))
    assert list(written.columns) == ["y"]
    with pytest.raises(NotImplementedError, match="dropna=False"):
        df.groupby("k", dropna=False)
    with pytest.raises(NotImplementedError, match="na_position"):
        df.sort_values("x", na_position="first")
    with pytest.raises(TypeError, match="unexpected keyword argument 'how_many'"):
        df.groupby("k", how_many=3)
    with pytest.raises(TypeError, match="unexpected keyword argument 'indicator'"):
        df.merge(df, on="k", indicator=True)
    with pytest.raises(ValueError, match="no suffix"):
        df.set_index("k").join(df.set_index("k"))
    # dask's tuning keywords are taken.
    df.groupby("k", split_every=4, observed=True).y.sum().compute()


def test_unique_keeps_one_missing_value_as_pandas() -> None:
    pdf = frame(3, 50)
    pdf.loc[::7, "x"] = np.nan
    pdf.loc[::5, "s"] = None
    df = dd.from_pandas(pdf, npartitions=4)
    for column in ("x", "s", "k"):
        got = df[column].unique()
        want = pd.Series(pdf[column].unique())
        assert len(got) == len(want), column
        assert int(got.isna().sum()) == int(want.isna().sum()), column
        assert sorted(got.dropna().tolist()) == sorted(want.dropna().tolist()), column


def test_missing_times_and_keys_as_pandas() -> None:
    # NaT stays NaT through floor (its slot holds the smallest integer).
    pdf = pd.DataFrame({"t": pd.to_datetime(["2024-01-01 10:30", None, "2024-03-05 23:59"]), "k": [1.0, np.nan, 2.0]})
    df = dd.from_pandas(pdf, npartitions=2)
    same(df.t.dt.floor("h").compute(), pdf.t.dt.floor("h"))
    # A missing merge key matches a missing key, as in pandas.
    right = pd.DataFrame({"k": [np.nan, 2.0], "v": ["none", "two"]})
    for how in ("inner", "left", "outer"):
        want = pdf.merge(right, on="k", how=how).sort_values("v").reset_index(drop=True)
        got = df.merge(dd.from_pandas(right, npartitions=1), on="k", how=how).compute()
        same(got.sort_values("v").reset_index(drop=True)[list(want.columns)], want)


def test_map_partitions_returning_series_or_scalars_gives_a_series() -> None:
    pdf = frame(5, 30)
    df = dd.from_pandas(pdf, npartitions=4)
    got = df.map_partitions(lambda p: p.x * 2 + p.y)
    assert isinstance(got, dd.Series)
    same(got.compute(), (pdf.x * 2 + pdf.y).reset_index(drop=True).rename(None))
    named = df.map_partitions(lambda p: p.x + 1, meta=("shifted", "f8"))
    assert named.name == "shifted"
    same(named.compute(), (pdf.x + 1).rename("shifted").reset_index(drop=True))
    sizes = df.map_partitions(len).compute()
    assert sizes.sum() == len(pdf) and len(sizes) == df.npartitions
    assert list(df.map_partitions(lambda p: p.assign(z=p.y * 3)).compute().columns) == [*pdf.columns, "z"]


def test_a_series_with_a_lazy_scalar_computes_the_scalar_first() -> None:
    pdf = frame(9, 40)
    df = dd.from_pandas(pdf, npartitions=3)
    with pytest.warns(FutureWarning, match="computed first"):
        centred = df.x - df.x.mean()
    same(centred.compute(), pdf.x - pdf.x.mean())
    with pytest.warns(FutureWarning):
        above = df[df.y > df.y.mean()]
    same(above.compute(), pdf[pdf.y > pdf.y.mean()].reset_index(drop=True))
