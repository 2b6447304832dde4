//! Skipping Parquet row groups by their statistics: a filter that is a
//! conjunction of comparisons of a column with a literal (`col("x") >
//! 3`, `col("s").eq("a")`, `col("k").isin([1, 2])`) cannot hold in a row
//! group whose min/max range excludes it, so that row group is never
//! read. Anything else keeps the row group (its rows are filtered as it
//! is read).

use polars::io::parquet::read::FileMetadata;
use polars_parquet::parquet::metadata::RowGroupMetadata;
use polars_parquet::parquet::statistics::Statistics;

use crate::expr::{BinOp, Expr};
use crate::lit::Lit;

/// A column's range in one row group.
enum Range {
    Num(f64, f64),
    Text(Vec<u8>, Vec<u8>),
}

fn range(meta: &FileMetadata, rg: &RowGroupMetadata, column: &str) -> Option<Range> {
    let mut chunks = rg.columns_under_root_iter(column)?;
    let chunk = chunks.next()?;
    if chunks.next().is_some() {
        return None; // a nested column
    }
    let stats = chunk.statistics(&meta.footer_buf)?.ok()?;
    let num = |lo: Option<f64>, hi: Option<f64>| Some(Range::Num(lo?, hi?));
    match stats {
        Statistics::Int32(s) => num(s.min_value.map(f64::from), s.max_value.map(f64::from)),
        Statistics::Int64(s) => num(s.min_value.map(|v| v as f64), s.max_value.map(|v| v as f64)),
        Statistics::Float(s) => num(s.min_value.map(f64::from), s.max_value.map(f64::from)),
        Statistics::Double(s) => num(s.min_value, s.max_value),
        Statistics::Binary(s) => Some(Range::Text(s.min_value?, s.max_value?)),
        _ => None,
    }
}

/// Whether `op` (column on the left) may hold for some value in `r`.
fn may_hold(r: &Range, op: BinOp, v: &Lit) -> bool {
    use std::cmp::Ordering::{Greater, Less};
    let (lo, hi) = match (r, v) {
        (Range::Num(lo, hi), v) => match v.as_f64() {
            Some(v) => (lo.partial_cmp(&v), hi.partial_cmp(&v)),
            None => return true,
        },
        (Range::Text(lo, hi), Lit::Str(s)) => {
            (Some(lo.as_slice().cmp(s.as_bytes())), Some(hi.as_slice().cmp(s.as_bytes())))
        }
        _ => return true,
    };
    let (Some(lo), Some(hi)) = (lo, hi) else { return true };
    match op {
        BinOp::Eq => lo != Greater && hi != Less,
        BinOp::Lt => lo == Less,
        BinOp::Le => lo != Greater,
        BinOp::Gt => hi == Greater,
        BinOp::Ge => hi != Less,
        _ => true,
    }
}

fn flip(op: BinOp) -> BinOp {
    match op {
        BinOp::Lt => BinOp::Gt,
        BinOp::Le => BinOp::Ge,
        BinOp::Gt => BinOp::Lt,
        BinOp::Ge => BinOp::Le,
        op => op,
    }
}

/// Whether `filter` may hold for some row of the row group.
pub(crate) fn may_match(meta: &FileMetadata, rg: &RowGroupMetadata, filter: &Expr) -> bool {
    match filter {
        Expr::Binary(BinOp::And, l, r) => may_match(meta, rg, l) && may_match(meta, rg, r),
        Expr::Binary(op, l, r) => {
            let (column, op, v) = match (&**l, &**r) {
                (Expr::Col(c), Expr::Lit(v)) => (c, *op, v),
                (Expr::Lit(v), Expr::Col(c)) => (c, flip(*op), v),
                _ => return true,
            };
            range(meta, rg, column).is_none_or(|r| may_hold(&r, op, v))
        }
        Expr::IsIn(e, values) => match &**e {
            Expr::Col(c) => range(meta, rg, c).is_none_or(|r| values.iter().any(|v| may_hold(&r, BinOp::Eq, v))),
            _ => true,
        },
        _ => true,
    }
}
