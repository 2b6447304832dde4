//! Aggregation kernels over group ids: what one partition contributes
//! (a partial state per group), how partial states combine, and the
//! final values. A reduction of a whole column is the one-group case.
//!
//! Partial frames have the key columns `k0, k1, …` (one row per group)
//! and, per aggregation `i`, its state columns `a{i}.s` (sum), `a{i}.n`
//! (count), `a{i}.m`/`a{i}.q` (mean and sum of squared deviations, for
//! variances, merged by Chan's formula) or `a{i}.v` (a chosen value:
//! min, max, first, last).

use polars::prelude::{
    polars_bail, BooleanChunked, ChunkAgg, ChunkFull, Column, DataFrame as PlFrame, DataType, Float64Chunked, IdxCa,
    IdxSize, Int64Chunked, IntoColumn, IntoSeries, NewChunkedArray, PolarsResult, Series, SortMultipleOptions,
    UniqueKeepStrategy,
};

use blockwork_graph::kernel_params;

use crate::expr::Expr;
use crate::param::named_enum;

named_enum! {
    /// An aggregation of a column's values per group.
    pub enum Agg {
        /// Sum (0 for a group of missing values).
        Sum = "sum",
        /// Mean of the present values.
        Mean = "mean",
        /// Number of present values.
        Count = "count",
        /// Number of rows.
        Size = "size",
        /// Smallest present value.
        Min = "min",
        /// Largest present value.
        Max = "max",
        /// Sample standard deviation (ddof = 1).
        Std = "std",
        /// Sample variance (ddof = 1).
        Var = "var",
        /// First present value.
        First = "first",
        /// Last present value.
        Last = "last",
        /// Number of distinct present values.
        NUnique = "nunique",
    }
}

kernel_params! {
    /// One output column: `agg` of `expr` per group, named `name`.
    pub struct Aggregation {
        /// The output column's name.
        pub name: String,
        /// The values aggregated.
        pub expr: Expr,
        /// How.
        pub agg: Agg,
    }
}

impl Aggregation {
    /// `agg` of `expr`, named after the expression.
    pub fn new(expr: Expr, agg: Agg) -> Self {
        Aggregation { name: expr.name().to_string(), expr, agg }
    }

    /// Renamed.
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }
}

/// Rows' group ids.
struct Groups {
    ids: Vec<u32>,
    n: usize,
    /// The first row of each group (to take its keys).
    first: Vec<IdxSize>,
}

impl Groups {
    fn of(keys: &[Series], height: usize) -> PolarsResult<Groups> {
        if keys.is_empty() {
            return Ok(Groups { ids: vec![0; height], n: 1, first: Vec::new() });
        }
        if let [key] = keys {
            if let Some(g) = Groups::dense(key)? {
                return Ok(g);
            }
        }
        let cols: Vec<Column> = keys.iter().map(|k| k.clone().into_column()).collect();
        let frame = PlFrame::new(height, cols.clone())?;
        let gb = frame.group_by_with_series(cols, false, false)?;
        let groups = gb.get_groups();
        let mut ids = vec![0u32; height];
        let mut first = Vec::with_capacity(groups.len());
        for (g, ind) in groups.iter().enumerate() {
            first.push(ind.first());
            match ind {
                polars::prelude::GroupsIndicator::Idx((_, rows)) => {
                    rows.iter().for_each(|&r| ids[r as usize] = g as u32)
                }
                polars::prelude::GroupsIndicator::Slice([start, len]) => {
                    ids[start as usize..(start + len) as usize].fill(g as u32)
                }
            }
        }
        Ok(Groups { ids, n: first.len(), first })
    }

    /// Group ids of one integer key with few distinct values (hours,
    /// months, small codes) by a direct table instead of hashing; `None`
    /// for other keys.
    fn dense(key: &Series) -> PolarsResult<Option<Groups>> {
        const SPAN: i64 = 1 << 16;
        let phys = key.to_physical_repr();
        if !phys.dtype().is_integer() || key.null_count() > 0 || key.is_empty() {
            return Ok(None);
        }
        let values = i64s(&phys)?;
        let (Some(lo), Some(hi)) = (values.min(), values.max()) else { return Ok(None) };
        if hi.checked_sub(lo).is_none_or(|span| span >= SPAN) {
            return Ok(None);
        }
        let mut slot = vec![u32::MAX; (hi - lo + 1) as usize];
        let mut ids = Vec::with_capacity(key.len());
        let mut first = Vec::new();
        for (row, v) in values.iter().map(Option::unwrap_or_default).enumerate() {
            let s = &mut slot[(v - lo) as usize];
            if *s == u32::MAX {
                *s = first.len() as u32;
                first.push(row as IdxSize);
            }
            ids.push(*s);
        }
        Ok(Some(Groups { ids, n: first.len(), first }))
    }

    fn keys(&self, keys: &[Series]) -> PolarsResult<Vec<Column>> {
        let idx = IdxCa::from_vec("idx".into(), self.first.clone());
        keys.iter().map(|k| Ok(k.take(&idx)?.into_column())).collect()
    }
}

fn is_integer(s: &Series) -> bool {
    s.dtype().is_integer() || s.dtype() == &DataType::Boolean
}

fn f64s(s: &Series) -> PolarsResult<Float64Chunked> {
    Ok(s.cast(&DataType::Float64)?.f64()?.clone())
}

fn i64s(s: &Series) -> PolarsResult<Int64Chunked> {
    Ok(s.cast(&DataType::Int64)?.i64()?.clone())
}

fn sums(v: &Series, g: &Groups) -> PolarsResult<Series> {
    if is_integer(v) || v.dtype() == &DataType::Null {
        let mut acc = vec![0i64; g.n];
        for (x, &id) in i64s(v)?.iter().zip(&g.ids) {
            if let Some(x) = x {
                acc[id as usize] = acc[id as usize].wrapping_add(x);
            }
        }
        Ok(Int64Chunked::from_vec("s".into(), acc).into_series())
    } else {
        if !v.dtype().is_primitive_numeric() {
            polars_bail!(InvalidOperation: "cannot sum {} values of {}", v.dtype(), v.name());
        }
        let mut acc = vec![0f64; g.n];
        for (x, &id) in f64s(v)?.iter().zip(&g.ids) {
            if let Some(x) = x {
                acc[id as usize] += x;
            }
        }
        Ok(Float64Chunked::from_vec("s".into(), acc).into_series())
    }
}

fn counts(v: Option<&Series>, g: &Groups) -> Series {
    let mut acc = vec![0i64; g.n];
    match v.and_then(|v| v.rechunk_validity()) {
        Some(valid) => {
            for (ok, &id) in valid.iter().zip(&g.ids) {
                acc[id as usize] += i64::from(ok);
            }
        }
        None => g.ids.iter().for_each(|&id| acc[id as usize] += 1),
    }
    Int64Chunked::from_vec("n".into(), acc).into_series()
}

/// Per group, the row holding the chosen value (`None` for a group of
/// missing values), then those values.
fn choose(v: &Series, g: &Groups, agg: Agg) -> PolarsResult<Series> {
    let mut best: Vec<Option<IdxSize>> = vec![None; g.n];
    match agg {
        Agg::First | Agg::Last => {
            let valid: Vec<bool> = match v.rechunk_validity() {
                Some(b) => b.iter().collect(),
                None => vec![true; v.len()],
            };
            for (row, (&id, ok)) in g.ids.iter().zip(valid).enumerate() {
                let slot = &mut best[id as usize];
                if ok && (agg == Agg::Last || slot.is_none()) {
                    *slot = Some(row as IdxSize);
                }
            }
        }
        _ => {
            let wants = |o: std::cmp::Ordering| if agg == Agg::Min { o.is_lt() } else { o.is_gt() };
            let phys = v.to_physical_repr();
            if v.dtype() == &DataType::String {
                pick(v.str()?.iter(), &g.ids, &mut best, |a: &&str, b: &&str| wants(a.cmp(b)));
            } else if is_integer(&phys) {
                pick(i64s(&phys)?.iter(), &g.ids, &mut best, |a: &i64, b: &i64| wants(a.cmp(b)));
            } else if phys.dtype().is_float() {
                let vals = f64s(&phys)?;
                pick(vals.iter().map(|x| x.filter(|x| !x.is_nan())), &g.ids, &mut best, |a: &f64, b: &f64| {
                    wants(a.total_cmp(b))
                });
            } else {
                polars_bail!(InvalidOperation: "no {} of {} values ({})", agg.name(), v.dtype(), v.name());
            }
        }
    }
    let idx = IdxCa::from_iter_options("idx".into(), best.into_iter());
    v.take(&idx)
}

fn pick<T, I: Iterator<Item = Option<T>>>(
    values: I,
    ids: &[u32],
    best: &mut [Option<IdxSize>],
    better: impl Fn(&T, &T) -> bool,
) {
    let mut held: Vec<Option<T>> = (0..best.len()).map(|_| None).collect();
    for (row, (x, &id)) in values.zip(ids).enumerate() {
        let Some(x) = x else { continue };
        let slot = &mut held[id as usize];
        if slot.as_ref().is_none_or(|h| better(&x, h)) {
            *slot = Some(x);
            best[id as usize] = Some(row as IdxSize);
        }
    }
}

/// Count, mean and sum of squared deviations per group (Welford), or
/// their merge when `states` holds partial ones (Chan et al.).
fn moments(v: Option<&Series>, states: Option<[&Series; 3]>, g: &Groups) -> PolarsResult<[Series; 3]> {
    let (mut n, mut m, mut q) = (vec![0i64; g.n], vec![0f64; g.n], vec![0f64; g.n]);
    let mut merge = |id: usize, nb: i64, mb: f64, qb: f64| {
        if nb == 0 {
            return;
        }
        let na = n[id];
        let total = na + nb;
        let delta = mb - m[id];
        m[id] += delta * nb as f64 / total as f64;
        q[id] += qb + delta * delta * (na as f64) * (nb as f64) / total as f64;
        n[id] = total;
    };
    if let Some(v) = v {
        for (x, &id) in f64s(v)?.iter().zip(&g.ids) {
            if let Some(x) = x.filter(|x| !x.is_nan()) {
                merge(id as usize, 1, x, 0.0);
            }
        }
    }
    if let Some([sn, sm, sq]) = states {
        let (sn, sm, sq) = (sn.i64()?, sm.f64()?, sq.f64()?);
        for (((a, b), c), &id) in sn.iter().zip(sm.iter()).zip(sq.iter()).zip(&g.ids) {
            merge(id as usize, a.unwrap_or(0), b.unwrap_or(0.0), c.unwrap_or(0.0));
        }
    }
    Ok([
        Int64Chunked::from_vec("n".into(), n).into_series(),
        Float64Chunked::from_vec("m".into(), m).into_series(),
        Float64Chunked::from_vec("q".into(), q).into_series(),
    ])
}

fn named(i: usize, part: &str, s: Series) -> Column {
    s.with_name(format!("a{i}.{part}").into()).into_column()
}

/// A partition's partial states: rows with a missing key are left out
/// (pandas' `dropna=True`).
pub(crate) fn partial(df: &PlFrame, keys: &[Expr], aggs: &[Aggregation]) -> PolarsResult<PlFrame> {
    let mut key_values: Vec<Series> = keys.iter().map(|k| k.eval(df)).collect::<PolarsResult<_>>()?;
    let mut df = std::borrow::Cow::Borrowed(df);
    if key_values.iter().any(|k| k.null_count() > 0) {
        let mut mask = BooleanChunked::full("mask".into(), true, df.height());
        for k in &key_values {
            mask = &mask & &k.is_not_null();
        }
        key_values = key_values.iter().map(|k| k.filter(&mask)).collect::<PolarsResult<_>>()?;
        df = std::borrow::Cow::Owned(df.filter(&mask)?);
    }
    let key_values: Vec<Series> =
        key_values.into_iter().enumerate().map(|(i, k)| k.with_name(format!("k{i}").into())).collect();
    let g = Groups::of(&key_values, df.height())?;
    let mut cols = g.keys(&key_values)?;
    for (i, a) in aggs.iter().enumerate() {
        let v = a.expr.eval(&df)?;
        match a.agg {
            Agg::Sum => cols.push(named(i, "s", sums(&v, &g)?)),
            Agg::Count => cols.push(named(i, "n", counts(Some(&v), &g))),
            Agg::Size => cols.push(named(i, "n", counts(None, &g))),
            Agg::Mean => {
                cols.push(named(i, "s", sums(&v.cast(&DataType::Float64)?, &g)?));
                cols.push(named(i, "n", counts(Some(&v), &g)));
            }
            Agg::Min | Agg::Max | Agg::First | Agg::Last => cols.push(named(i, "v", choose(&v, &g, a.agg)?)),
            Agg::Std | Agg::Var => {
                let [n, m, q] = moments(Some(&v), None, &g)?;
                cols.extend([named(i, "n", n), named(i, "m", m), named(i, "q", q)]);
            }
            Agg::NUnique => polars_bail!(InvalidOperation: "nunique is reduced by distinct rows, not partials"),
        }
    }
    PlFrame::new(g.n, cols)
}

/// Partial states (stacked in partition order) merged per group.
pub(crate) fn combine(parts: &PlFrame, nkeys: usize, aggs: &[Aggregation]) -> PolarsResult<PlFrame> {
    let keys: Vec<Series> = (0..nkeys)
        .map(|i| Ok(parts.column(&format!("k{i}"))?.as_materialized_series().clone()))
        .collect::<PolarsResult<_>>()?;
    let g = Groups::of(&keys, parts.height())?;
    let state = |i: usize, part: &str| -> PolarsResult<Series> {
        Ok(parts.column(&format!("a{i}.{part}"))?.as_materialized_series().clone())
    };
    let mut cols = g.keys(&keys)?;
    for (i, a) in aggs.iter().enumerate() {
        match a.agg {
            Agg::Sum => cols.push(named(i, "s", sums(&state(i, "s")?, &g)?)),
            Agg::Count | Agg::Size => cols.push(named(i, "n", sums(&state(i, "n")?, &g)?)),
            Agg::Mean => {
                cols.push(named(i, "s", sums(&state(i, "s")?, &g)?));
                cols.push(named(i, "n", sums(&state(i, "n")?, &g)?));
            }
            Agg::Min | Agg::Max | Agg::First | Agg::Last => {
                cols.push(named(i, "v", choose(&state(i, "v")?, &g, a.agg)?))
            }
            Agg::Std | Agg::Var => {
                let (n, m, q) = (state(i, "n")?, state(i, "m")?, state(i, "q")?);
                let [n, m, q] = moments(None, Some([&n, &m, &q]), &g)?;
                cols.extend([named(i, "n", n), named(i, "m", m), named(i, "q", q)]);
            }
            Agg::NUnique => polars_bail!(InvalidOperation: "nunique is reduced by distinct rows, not partials"),
        }
    }
    PlFrame::new(g.n, cols)
}

/// The final values from merged states: keys renamed to `key_names`,
/// one column per aggregation, rows sorted by the keys.
pub(crate) fn finish(merged: &PlFrame, key_names: &[String], aggs: &[Aggregation]) -> PolarsResult<PlFrame> {
    let state = |i: usize, part: &str| -> PolarsResult<Series> {
        Ok(merged.column(&format!("a{i}.{part}"))?.as_materialized_series().clone())
    };
    let mut cols: Vec<Column> = key_names
        .iter()
        .enumerate()
        .map(|(i, name)| Ok(merged.column(&format!("k{i}"))?.clone().with_name(name.as_str().into())))
        .collect::<PolarsResult<_>>()?;
    for (i, a) in aggs.iter().enumerate() {
        let out = match a.agg {
            Agg::Sum => state(i, "s")?,
            Agg::Count | Agg::Size => state(i, "n")?,
            Agg::Mean => {
                let (s, n) = (f64s(&state(i, "s")?)?, i64s(&state(i, "n")?)?);
                let v = s.iter().zip(n.iter()).map(|(s, n)| Some(s? / (n.filter(|&n| n > 0)? as f64)));
                Float64Chunked::from_iter_options("v".into(), v).into_series()
            }
            Agg::Min | Agg::Max | Agg::First | Agg::Last => state(i, "v")?,
            Agg::Std | Agg::Var => {
                let (n, q) = (i64s(&state(i, "n")?)?, f64s(&state(i, "q")?)?);
                let std = a.agg == Agg::Std;
                let v = n.iter().zip(q.iter()).map(|(n, q)| {
                    let var = q? / (n.filter(|&n| n > 1)? - 1) as f64;
                    Some(if std { var.sqrt() } else { var })
                });
                Float64Chunked::from_iter_options("v".into(), v).into_series()
            }
            Agg::NUnique => polars_bail!(InvalidOperation: "nunique is reduced by distinct rows, not partials"),
        };
        cols.push(out.with_name(a.name.as_str().into()).into_column());
    }
    sorted(PlFrame::new(merged.height(), cols)?, key_names)
}

fn sorted(df: PlFrame, keys: &[String]) -> PolarsResult<PlFrame> {
    if keys.is_empty() {
        return Ok(df);
    }
    df.sort(keys.iter().map(String::as_str).collect::<Vec<_>>(), SortMultipleOptions::default())
}

/// A partition's distinct `(keys…, value)` rows, for `nunique`.
pub(crate) fn distinct_partial(df: &PlFrame, keys: &[Expr], value: &Expr) -> PolarsResult<PlFrame> {
    let mut cols: Vec<Column> = Vec::with_capacity(keys.len() + 1);
    for (i, k) in keys.iter().enumerate() {
        cols.push(k.eval(df)?.with_name(format!("k{i}").into()).into_column());
    }
    cols.push(value.eval(df)?.with_name("v".into()).into_column());
    let frame = PlFrame::new(df.height(), cols)?;
    let frame = if keys.is_empty() {
        frame
    } else {
        frame.drop_nulls(Some(&(0..keys.len()).map(|i| format!("k{i}")).collect::<Vec<_>>()))?
    };
    distinct(&frame)
}

/// Distinct rows (of stacked distinct partials).
pub(crate) fn distinct(df: &PlFrame) -> PolarsResult<PlFrame> {
    df.unique_stable(None, UniqueKeepStrategy::Any, None)
}

/// Distinct present values per group, from stacked distinct partials.
pub(crate) fn distinct_finish(parts: &PlFrame, key_names: &[String], name: &str) -> PolarsResult<PlFrame> {
    let rows = distinct(parts)?;
    let keys: Vec<Series> = (0..key_names.len())
        .map(|i| Ok(rows.column(&format!("k{i}"))?.as_materialized_series().clone()))
        .collect::<PolarsResult<_>>()?;
    let g = Groups::of(&keys, rows.height())?;
    let v = rows.column("v")?.as_materialized_series();
    let mut cols = g.keys(&keys)?;
    for (c, n) in cols.iter_mut().zip(key_names) {
        c.rename(n.as_str().into());
    }
    cols.push(counts(Some(v), &g).with_name(name.into()).into_column());
    sorted(PlFrame::new(g.n, cols)?, key_names)
}
