//! Column expressions: what a column computes from a partition's columns
//! (`col("value") * 2`, `col("timestamp").dt().hour()`,
//! `col("name").str().contains("^A")`). An expression is data: it travels
//! to workers as a task parameter and is evaluated on each partition
//! with Polars' kernels.

use std::ops::{Add, BitAnd, BitOr, Div, Mul, Neg, Not, Rem, Sub};
use std::sync::Arc;

use blockwork_graph::{Param, Tokenize, Tokenizer, Value};
use polars::prelude::{
    polars_bail, polars_err, BooleanChunked, ChunkApply, ChunkCompareEq, ChunkCompareIneq, ChunkExpandAtIndex,
    ChunkFull, Column, DataFrame as PlFrame, DataType, DateMethods, DatetimeMethods, Float64Chunked, Int32Chunked,
    Int64Chunked, IntoSeries, NamedFrom, NewChunkedArray, PolarsResult, Series, StringNameSpaceImpl,
};

use crate::lit::{DType, Lit};
use crate::param::{by_name, name_of, named_enum, tagged, untag};

/// A column expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A column of the frame.
    Col(Arc<str>),
    /// A literal, broadcast to the partition's length.
    Lit(Lit),
    /// An arithmetic, comparison or logical operation.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// A unary operation.
    Unary(UnaryOp, Box<Expr>),
    /// Whether each value is one of the literals (pandas' `isin`).
    IsIn(Box<Expr>, Vec<Lit>),
    /// Missing values replaced by a literal (`fillna`).
    FillNull(Box<Expr>, Lit),
    /// Converted to a type (`astype`); text becomes dates by the ISO parser.
    Cast(Box<Expr>, DType),
    /// A part of a date or datetime (the `dt` accessor).
    Dt(Box<Expr>, DtOp),
    /// A string operation (the `str` accessor).
    Str(Box<Expr>, StrOp),
    /// Renamed.
    Alias(Box<Expr>, Arc<str>),
}

named_enum! {
    /// Binary operations.
    pub enum BinOp {
        /// `+`
        Add = "add",
        /// `-`
        Sub = "sub",
        /// `*`
        Mul = "mul",
        /// `/` (true division: always floats)
        Div = "truediv",
        /// `//` (floor division)
        FloorDiv = "floordiv",
        /// `%` (the remainder has the divisor's sign, as in Python)
        Mod = "mod",
        /// `**`
        Pow = "pow",
        /// `==`
        Eq = "eq",
        /// `!=`
        Ne = "ne",
        /// `<`
        Lt = "lt",
        /// `<=`
        Le = "le",
        /// `>`
        Gt = "gt",
        /// `>=`
        Ge = "ge",
        /// `&`
        And = "and",
        /// `|`
        Or = "or",
    }
}

named_enum! {
    /// Unary operations.
    pub enum UnaryOp {
        /// `-x`
        Neg = "neg",
        /// `~x` of booleans
        Not = "not",
        /// `isna`
        IsNull = "isna",
        /// `notna`
        NotNull = "notna",
        /// `abs`
        Abs = "abs",
        /// The values, or an error if one is missing or, in floats, NaN
        /// or infinite: what a cast to NumPy's integers needs (pandas'
        /// `astype("int64")` refuses them the same way).
        Present = "present",
    }
}

/// Parts of dates and datetimes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DtOp {
    /// The year.
    Year,
    /// The month, 1–12.
    Month,
    /// The day of the month, 1–31.
    Day,
    /// The hour, 0–23.
    Hour,
    /// The minute, 0–59.
    Minute,
    /// The second, 0–59.
    Second,
    /// The day of the week, Monday = 0 (pandas' `dayofweek`).
    DayOfWeek,
    /// Rounded down to a multiple of this many microseconds since the
    /// epoch (pandas' `floor("15min")`; see [`parse_duration`]).
    Floor(i64),
}

/// String operations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StrOp {
    /// Lower case.
    Lower,
    /// Upper case.
    Upper,
    /// Length in characters.
    Len,
    /// Whether it contains a match of a regular expression.
    Contains(String),
    /// Whether it contains a literal text.
    ContainsLiteral(String),
}

/// A column by name.
pub fn col(name: &str) -> Expr {
    Expr::Col(name.into())
}

/// A literal.
pub fn lit(x: impl Into<Lit>) -> Expr {
    Expr::Lit(x.into())
}

/// A fixed duration in pandas' spelling (`"15min"`, `"1h"`, `"D"`, `"30s"`,
/// `"2ms"`, `"us"`, `"W"`) as microseconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let n: i64 = if split == 0 { 1 } else { t[..split].parse().ok()? };
    let unit: i64 = match &t[split..] {
        "us" | "U" => 1,
        "ms" | "L" => 1_000,
        "s" | "S" => 1_000_000,
        "min" | "T" => 60_000_000,
        "h" | "H" => 3_600_000_000,
        "D" | "d" => 86_400_000_000,
        "W" => 7 * 86_400_000_000,
        _ => return None,
    };
    (n > 0).then_some(n * unit)
}

impl Expr {
    fn binary(self, op: BinOp, rhs: impl Into<Expr>) -> Expr {
        Expr::Binary(op, Box::new(self), Box::new(rhs.into()))
    }

    /// `self == rhs`
    pub fn eq(self, rhs: impl Into<Expr>) -> Expr {
        self.binary(BinOp::Eq, rhs)
    }
    /// `self != rhs`
    pub fn neq(self, rhs: impl Into<Expr>) -> Expr {
        self.binary(BinOp::Ne, rhs)
    }
    /// `self < rhs`
    pub fn lt(self, rhs: impl Into<Expr>) -> Expr {
        self.binary(BinOp::Lt, rhs)
    }
    /// `self <= rhs`
    pub fn le(self, rhs: impl Into<Expr>) -> Expr {
        self.binary(BinOp::Le, rhs)
    }
    /// `self > rhs`
    pub fn gt(self, rhs: impl Into<Expr>) -> Expr {
        self.binary(BinOp::Gt, rhs)
    }
    /// `self >= rhs`
    pub fn ge(self, rhs: impl Into<Expr>) -> Expr {
        self.binary(BinOp::Ge, rhs)
    }
    /// `self // rhs`
    pub fn floordiv(self, rhs: impl Into<Expr>) -> Expr {
        self.binary(BinOp::FloorDiv, rhs)
    }
    /// `self ** rhs`
    pub fn pow(self, rhs: impl Into<Expr>) -> Expr {
        self.binary(BinOp::Pow, rhs)
    }
    /// Missing values (`isna`).
    pub fn is_null(self) -> Expr {
        Expr::Unary(UnaryOp::IsNull, Box::new(self))
    }
    /// Present values (`notna`).
    pub fn is_not_null(self) -> Expr {
        Expr::Unary(UnaryOp::NotNull, Box::new(self))
    }
    /// Absolute values.
    pub fn abs(self) -> Expr {
        Expr::Unary(UnaryOp::Abs, Box::new(self))
    }
    /// Whether each value is one of `values`.
    pub fn isin<T: Into<Lit>>(self, values: impl IntoIterator<Item = T>) -> Expr {
        Expr::IsIn(Box::new(self), values.into_iter().map(Into::into).collect())
    }
    /// Missing values replaced by `value`.
    pub fn fillna(self, value: impl Into<Lit>) -> Expr {
        Expr::FillNull(Box::new(self), value.into())
    }
    /// Converted to `dtype`.
    pub fn astype(self, dtype: DType) -> Expr {
        Expr::Cast(Box::new(self), dtype)
    }
    /// Renamed.
    pub fn alias(self, name: &str) -> Expr {
        Expr::Alias(Box::new(self), name.into())
    }
    /// The `dt` accessor.
    pub fn dt(self) -> DtAccessor {
        DtAccessor(self)
    }
    /// The `str` accessor.
    pub fn str(self) -> StrAccessor {
        StrAccessor(self)
    }

    /// The name of its result: the first column it reads, or its alias
    /// (`col("a") + col("b")` is named `a`, as in pandas when names differ
    /// only by operand order; a literal alone is `literal`).
    pub fn name(&self) -> Arc<str> {
        match self {
            Expr::Col(c) | Expr::Alias(_, c) => c.clone(),
            Expr::Lit(_) => "literal".into(),
            Expr::Binary(_, l, r) => match (&**l, &**r) {
                (Expr::Lit(_), r) => r.name(),
                (l, _) => l.name(),
            },
            Expr::Unary(_, e)
            | Expr::IsIn(e, _)
            | Expr::FillNull(e, _)
            | Expr::Cast(e, _)
            | Expr::Dt(e, _)
            | Expr::Str(e, _) => e.name(),
        }
    }

    /// The columns it reads, each once, in order of appearance.
    pub fn columns(&self) -> Vec<Arc<str>> {
        let mut out = Vec::new();
        self.visit_columns(&mut |c| {
            if !out.contains(c) {
                out.push(c.clone());
            }
        });
        out
    }

    fn visit_columns(&self, f: &mut impl FnMut(&Arc<str>)) {
        match self {
            Expr::Col(c) => f(c),
            Expr::Lit(_) => {}
            Expr::Binary(_, l, r) => {
                l.visit_columns(f);
                r.visit_columns(f);
            }
            Expr::Unary(_, e)
            | Expr::IsIn(e, _)
            | Expr::FillNull(e, _)
            | Expr::Cast(e, _)
            | Expr::Dt(e, _)
            | Expr::Str(e, _)
            | Expr::Alias(e, _) => e.visit_columns(f),
        }
    }

    /// Evaluates it on a partition: a column as long as the partition.
    pub fn eval(&self, df: &PlFrame) -> PolarsResult<Series> {
        let s = self.eval_inner(df)?;
        let s = if s.len() == 1 && df.height() != 1 { s.new_from_index(0, df.height()) } else { s };
        Ok(s.with_name(self.name().as_ref().into()))
    }

    fn eval_inner(&self, df: &PlFrame) -> PolarsResult<Series> {
        Ok(match self {
            Expr::Col(c) => df.column(c)?.as_materialized_series().clone(),
            Expr::Lit(l) => l.series("literal"),
            Expr::Binary(op, l, r) => binary(*op, &l.eval_inner(df)?, &r.eval_inner(df)?)?,
            Expr::Unary(op, e) => unary(*op, &e.eval_inner(df)?)?,
            Expr::IsIn(e, values) => is_in(&e.eval_inner(df)?, values)?,
            Expr::FillNull(e, v) => fill_null(&e.eval_inner(df)?, v)?,
            Expr::Cast(e, dtype) => cast(&e.eval_inner(df)?, *dtype)?,
            Expr::Dt(e, op) => dt(&e.eval_inner(df)?, *op)?,
            Expr::Str(e, op) => string_op(&e.eval_inner(df)?, op)?,
            Expr::Alias(e, _) => e.eval_inner(df)?,
        })
    }
}

/// The `dt` accessor of an expression.
pub struct DtAccessor(Expr);

impl DtAccessor {
    fn op(self, op: DtOp) -> Expr {
        Expr::Dt(Box::new(self.0), op)
    }
    /// The year.
    pub fn year(self) -> Expr {
        self.op(DtOp::Year)
    }
    /// The month, 1–12.
    pub fn month(self) -> Expr {
        self.op(DtOp::Month)
    }
    /// The day of the month.
    pub fn day(self) -> Expr {
        self.op(DtOp::Day)
    }
    /// The hour.
    pub fn hour(self) -> Expr {
        self.op(DtOp::Hour)
    }
    /// The minute.
    pub fn minute(self) -> Expr {
        self.op(DtOp::Minute)
    }
    /// The second.
    pub fn second(self) -> Expr {
        self.op(DtOp::Second)
    }
    /// The day of the week, Monday = 0.
    pub fn dayofweek(self) -> Expr {
        self.op(DtOp::DayOfWeek)
    }
    /// Rounded down to a multiple of `freq` (`"15min"`, `"1h"`, `"D"`);
    /// `None` when `freq` is not a fixed duration.
    pub fn floor(self, freq: &str) -> Option<Expr> {
        parse_duration(freq).map(|us| self.op(DtOp::Floor(us)))
    }
}

/// The `str` accessor of an expression.
pub struct StrAccessor(Expr);

impl StrAccessor {
    fn op(self, op: StrOp) -> Expr {
        Expr::Str(Box::new(self.0), op)
    }
    /// Lower case.
    pub fn lower(self) -> Expr {
        self.op(StrOp::Lower)
    }
    /// Upper case.
    pub fn upper(self) -> Expr {
        self.op(StrOp::Upper)
    }
    /// Length in characters.
    pub fn len(self) -> Expr {
        self.op(StrOp::Len)
    }
    /// Whether it matches the regular expression `pattern` somewhere.
    pub fn contains(self, pattern: &str) -> Expr {
        self.op(StrOp::Contains(pattern.to_string()))
    }
    /// Whether it contains `text` (no regular expression).
    pub fn contains_literal(self, text: &str) -> Expr {
        self.op(StrOp::ContainsLiteral(text.to_string()))
    }
}

fn is_numeric(s: &Series) -> bool {
    s.dtype().is_primitive_numeric() || s.dtype() == &DataType::Boolean || s.dtype() == &DataType::Null
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

/// Elementwise over two columns (either may be one row long).
fn zip_map<T, U, F>(a: &polars::prelude::ChunkedArray<T>, b: &polars::prelude::ChunkedArray<T>, f: F) -> Vec<Option<U>>
where
    T: polars::prelude::PolarsNumericType,
    F: Fn(T::Native, T::Native) -> Option<U>,
{
    // A one-row side broadcasts to the other's length, which may be 0.
    let n = if a.len() == 1 { b.len() } else { a.len() };
    let get = |c: &polars::prelude::ChunkedArray<T>, i: usize| if c.len() == 1 { c.get(0) } else { c.get(i) };
    if a.len() == b.len() {
        a.iter().zip(b.iter()).map(|(x, y)| f(x?, y?)).collect()
    } else {
        (0..n).map(|i| f(get(a, i)?, get(b, i)?)).collect()
    }
}

fn binary(op: BinOp, l: &Series, r: &Series) -> PolarsResult<Series> {
    if l.len() != r.len() && l.len() != 1 && r.len() != 1 {
        polars_bail!(ShapeMismatch: "operands of {} have lengths {} and {}", op.name(), l.len(), r.len());
    }
    let numeric = is_numeric(l) && is_numeric(r);
    let ints = is_integer(l) && is_integer(r);
    let name = l.name().clone();
    Ok(match op {
        BinOp::Add => (l + r)?,
        BinOp::Sub => (l - r)?,
        BinOp::Mul => (l * r)?,
        BinOp::Div => (&l.cast(&DataType::Float64)? / &r.cast(&DataType::Float64)?)?,
        BinOp::FloorDiv | BinOp::Mod | BinOp::Pow if !numeric => {
            polars_bail!(InvalidOperation: "{} of {} and {}", op.name(), l.dtype(), r.dtype())
        }
        BinOp::FloorDiv if ints => {
            let v = zip_map(&i64s(l)?, &i64s(r)?, |a, b| {
                (b != 0).then(|| a.div_euclid(b) - i64::from(b < 0 && a.rem_euclid(b) != 0))
            });
            Int64Chunked::from_iter_options(name, v.into_iter()).into_series()
        }
        BinOp::FloorDiv => {
            let v = zip_map(&f64s(l)?, &f64s(r)?, |a, b| Some((a / b).floor()));
            Float64Chunked::from_iter_options(name, v.into_iter()).into_series()
        }
        BinOp::Mod if ints => {
            let v = zip_map(&i64s(l)?, &i64s(r)?, |a, b| (b != 0).then(|| py_mod(a, b)));
            Int64Chunked::from_iter_options(name, v.into_iter()).into_series()
        }
        BinOp::Mod => {
            let v = zip_map(&f64s(l)?, &f64s(r)?, |a, b| Some(py_fmod(a, b)));
            Float64Chunked::from_iter_options(name, v.into_iter()).into_series()
        }
        BinOp::Pow => {
            let v = zip_map(&f64s(l)?, &f64s(r)?, |a, b| Some(a.powf(b)));
            let out = Float64Chunked::from_iter_options(name, v.into_iter()).into_series();
            // Integers to a non-negative integer power stay integers.
            let int_result = ints && r.cast(&DataType::Int64)?.i64()?.iter().flatten().all(|e| e >= 0);
            if int_result {
                out.cast(&DataType::Int64)?
            } else {
                out
            }
        }
        BinOp::Eq => l.equal(r)?.into_series(),
        BinOp::Ne => l.not_equal(r)?.into_series(),
        BinOp::Lt => l.lt(r)?.into_series(),
        BinOp::Le => l.lt_eq(r)?.into_series(),
        BinOp::Gt => l.gt(r)?.into_series(),
        BinOp::Ge => l.gt_eq(r)?.into_series(),
        BinOp::And | BinOp::Or => {
            let (a, b) = (booleans(l, op)?, booleans(r, op)?);
            let (a, b) = broadcast_bool(a, b);
            if op == BinOp::And {
                (&a & &b).into_series()
            } else {
                (&a | &b).into_series()
            }
        }
    })
}

fn py_mod(a: i64, b: i64) -> i64 {
    let r = a % b;
    if r != 0 && ((r < 0) != (b < 0)) {
        r + b
    } else {
        r
    }
}

fn py_fmod(a: f64, b: f64) -> f64 {
    let r = a % b;
    if r != 0.0 && ((r < 0.0) != (b < 0.0)) {
        r + b
    } else {
        r
    }
}

fn booleans(s: &Series, op: BinOp) -> PolarsResult<BooleanChunked> {
    s.bool().cloned().map_err(|_| polars_err!(InvalidOperation: "{} wants booleans, got {}", op.name(), s.dtype()))
}

fn broadcast_bool(a: BooleanChunked, b: BooleanChunked) -> (BooleanChunked, BooleanChunked) {
    match (a.len(), b.len()) {
        (1, n) if n != 1 => (a.new_from_index(0, n), b),
        (n, 1) if n != 1 => (a, b.new_from_index(0, n)),
        _ => (a, b),
    }
}

fn unary(op: UnaryOp, s: &Series) -> PolarsResult<Series> {
    Ok(match op {
        UnaryOp::Neg => (&Series::new("zero".into(), [0i32]).cast(s.dtype())? - s)?,
        UnaryOp::Not => (!booleans(s, BinOp::And)?).into_series(),
        UnaryOp::IsNull => s.is_null().into_series(),
        UnaryOp::NotNull => s.is_not_null().into_series(),
        UnaryOp::Abs if s.dtype().is_integer() => {
            let v = i64s(s)?;
            v.apply_values(|x| x.wrapping_abs()).into_series().cast(s.dtype())?
        }
        UnaryOp::Abs => f64s(s)?.apply_values(f64::abs).into_series().cast(s.dtype())?,
        UnaryOp::Present => {
            let bad = s.null_count() > 0 || (s.dtype().is_float() && f64s(s)?.iter().flatten().any(|x| !x.is_finite()));
            if bad {
                polars_bail!(ComputeError: "column {:?} has missing or non-finite values, which integers cannot hold", s.name().as_str());
            }
            s.clone()
        }
    })
}

fn is_in(s: &Series, values: &[Lit]) -> PolarsResult<Series> {
    let mut mask = BooleanChunked::full(s.name().clone(), false, s.len());
    for v in values {
        if *v == Lit::Null {
            mask = &mask | &s.is_null();
            continue;
        }
        let one = v.series("v");
        // A literal of another kind (text among numbers) matches nothing.
        if let Ok(eq) = s.equal_missing(&one) {
            mask = &mask | &eq;
        }
    }
    Ok(mask.into_series())
}

fn fill_null(s: &Series, v: &Lit) -> PolarsResult<Series> {
    if *v == Lit::Null || s.null_count() == 0 {
        return Ok(s.clone());
    }
    let fill =
        v.series(s.name()).cast(s.dtype()).or_else(|_| Ok::<_, polars::prelude::PolarsError>(v.series(s.name())))?;
    let target = if fill.dtype() == s.dtype() { s.clone() } else { s.cast(fill.dtype())? };
    let fill = fill.new_from_index(0, s.len());
    target.zip_with(&s.is_not_null(), &fill)
}

fn cast(s: &Series, dtype: DType) -> PolarsResult<Series> {
    if s.dtype() == &DataType::String && matches!(dtype, DType::Datetime | DType::Date) {
        let parsed = crate::dates::parse_datetimes(s.str()?)
            .map_err(|(row, text)| polars_err!(ComputeError: "row {row} of {}: {text:?} is not a date", s.name()))?;
        return parsed.cast(&dtype.polars());
    }
    s.strict_cast(&dtype.polars())
}

/// Units of a time unit per second.
fn per_second(unit: polars::prelude::TimeUnit) -> i64 {
    match unit {
        polars::prelude::TimeUnit::Nanoseconds => 1_000_000_000,
        polars::prelude::TimeUnit::Microseconds => 1_000_000,
        polars::prelude::TimeUnit::Milliseconds => 1_000,
    }
}

/// Time-of-day parts and the weekday of naive datetimes by integer
/// arithmetic on their physical values (no calendar conversion per value).
fn naive_part(ca: &polars::prelude::DatetimeChunked, unit: polars::prelude::TimeUnit, op: DtOp) -> Option<Series> {
    let sec = per_second(unit);
    let (div, modulo, shift) = match op {
        DtOp::Hour => (3600 * sec, 24, 0),
        DtOp::Minute => (60 * sec, 60, 0),
        DtOp::Second => (sec, 60, 0),
        // 1970-01-01 was a Thursday (3, Monday = 0).
        DtOp::DayOfWeek => (86_400 * sec, 7, 3),
        _ => return None,
    };
    let out: Int32Chunked = ca
        .physical()
        .apply_nonnull_values_generic(DataType::Int32, |v| (v.div_euclid(div) + shift).rem_euclid(modulo) as i32);
    Some(out.with_name(ca.name().clone()).into_series())
}

fn dt(s: &Series, op: DtOp) -> PolarsResult<Series> {
    if let DataType::Datetime(unit, None) = s.dtype() {
        if let Some(out) = naive_part(s.datetime()?, *unit, op) {
            return Ok(out);
        }
    }
    let out = match s.dtype() {
        DataType::Datetime(unit, _) => {
            let ca = s.datetime()?;
            match op {
                DtOp::Year => ca.year().into_series(),
                DtOp::Month => ca.month().into_series(),
                DtOp::Day => ca.day().into_series(),
                DtOp::Hour => ca.hour().into_series(),
                DtOp::Minute => ca.minute().into_series(),
                DtOp::Second => ca.second().into_series(),
                DtOp::DayOfWeek => &ca.weekday().into_series() - 1,
                DtOp::Floor(us) => {
                    let step = (us * per_second(*unit) / 1_000_000).max(1);
                    // Wrapping: a missing value's slot holds any number (NaT's is i64::MIN).
                    let phys = ca.physical().apply_values(|v| v.div_euclid(step).wrapping_mul(step));
                    return phys.into_series().cast(s.dtype());
                }
            }
        }
        DataType::Date => {
            let ca = s.date()?;
            match op {
                DtOp::Year => ca.year().into_series(),
                DtOp::Month => ca.month().into_series(),
                DtOp::Day => ca.day().into_series(),
                DtOp::DayOfWeek => ca.physical().apply_values(|d| (d + 3).rem_euclid(7)).into_series(),
                DtOp::Hour | DtOp::Minute | DtOp::Second => Series::new(s.name().clone(), vec![0i32; s.len()]),
                DtOp::Floor(_) => return dt(&s.cast(&crate::dates::datetime_type())?, op),
            }
        }
        other => polars_bail!(InvalidOperation: "the dt accessor wants dates or datetimes; {} is {other}", s.name()),
    };
    // Integers as pandas gives them.
    out.cast(&DataType::Int32)
}

fn string_op(s: &Series, op: &StrOp) -> PolarsResult<Series> {
    let ca = s
        .str()
        .map_err(|_| polars_err!(InvalidOperation: "the str accessor wants text; {} is {}", s.name(), s.dtype()))?;
    Ok(match op {
        StrOp::Lower => ca.to_lowercase().into_series(),
        StrOp::Upper => ca.to_uppercase().into_series(),
        StrOp::Len => ca.str_len_chars().into_series().cast(&DataType::Int64)?,
        StrOp::Contains(p) => ca.contains(p, true)?.into_series(),
        StrOp::ContainsLiteral(t) => ca.contains_literal(t)?.into_series(),
    })
}

macro_rules! std_op {
    ($tr:ident, $f:ident, $op:expr) => {
        impl<T: Into<Expr>> $tr<T> for Expr {
            type Output = Expr;
            fn $f(self, rhs: T) -> Expr {
                self.binary($op, rhs)
            }
        }
    };
}
std_op!(Add, add, BinOp::Add);
std_op!(Sub, sub, BinOp::Sub);
std_op!(Mul, mul, BinOp::Mul);
std_op!(Div, div, BinOp::Div);
std_op!(Rem, rem, BinOp::Mod);
std_op!(BitAnd, bitand, BinOp::And);
std_op!(BitOr, bitor, BinOp::Or);

impl Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::Unary(UnaryOp::Neg, Box::new(self))
    }
}

impl Not for Expr {
    type Output = Expr;
    fn not(self) -> Expr {
        Expr::Unary(UnaryOp::Not, Box::new(self))
    }
}

impl<T: Into<Lit>> From<T> for Expr {
    fn from(x: T) -> Self {
        Expr::Lit(x.into())
    }
}

const DT_OPS: [(DtOp, &str); 7] = [
    (DtOp::Year, "year"),
    (DtOp::Month, "month"),
    (DtOp::Day, "day"),
    (DtOp::Hour, "hour"),
    (DtOp::Minute, "minute"),
    (DtOp::Second, "second"),
    (DtOp::DayOfWeek, "dayofweek"),
];

impl Param for Expr {
    fn to_param(&self) -> Value {
        let b = |e: &Expr| e.to_param();
        let s = |x: &str| Value::Str(x.into());
        match self {
            Expr::Col(c) => tagged("col", [c.to_param()]),
            Expr::Lit(l) => tagged("lit", [l.to_param()]),
            Expr::Binary(op, l, r) => tagged("bin", [s(op.name()), b(l), b(r)]),
            Expr::Unary(op, e) => tagged("un", [s(op.name()), b(e)]),
            Expr::IsIn(e, xs) => tagged("isin", [b(e), xs.to_param()]),
            Expr::FillNull(e, v) => tagged("fillna", [b(e), v.to_param()]),
            Expr::Cast(e, d) => tagged("cast", [b(e), d.to_param()]),
            Expr::Dt(e, DtOp::Floor(us)) => tagged("floor", [b(e), us.to_param()]),
            Expr::Dt(e, op) => tagged("dt", [b(e), s(name_of(&DT_OPS, *op))]),
            Expr::Str(e, op) => {
                let (name, arg) = match op {
                    StrOp::Lower => ("lower", ""),
                    StrOp::Upper => ("upper", ""),
                    StrOp::Len => ("len", ""),
                    StrOp::Contains(p) => ("contains", p.as_str()),
                    StrOp::ContainsLiteral(t) => ("contains_literal", t.as_str()),
                };
                tagged("str", [b(e), s(name), s(arg)])
            }
            Expr::Alias(e, n) => tagged("alias", [b(e), n.to_param()]),
        }
    }

    fn from_param(v: &Value) -> Option<Self> {
        let (tag, f) = untag(v)?;
        let e = |i: usize| f.get(i).and_then(Expr::from_param).map(Box::new);
        let st = |i: usize| f.get(i).and_then(Arc::<str>::from_param);
        Some(match tag {
            "col" => Expr::Col(st(0)?),
            "lit" => Expr::Lit(Lit::from_param(f.first()?)?),
            "bin" => Expr::Binary(BinOp::parse(&st(0)?)?, e(1)?, e(2)?),
            "un" => Expr::Unary(UnaryOp::parse(&st(0)?)?, e(1)?),
            "isin" => Expr::IsIn(e(0)?, Vec::from_param(f.get(1)?)?),
            "fillna" => Expr::FillNull(e(0)?, Lit::from_param(f.get(1)?)?),
            "cast" => Expr::Cast(e(0)?, DType::from_param(f.get(1)?)?),
            "floor" => Expr::Dt(e(0)?, DtOp::Floor(i64::from_param(f.get(1)?)?.max(1))),
            "dt" => Expr::Dt(e(0)?, by_name(&DT_OPS, &st(1)?)?),
            "str" => {
                let arg = st(2)?.to_string();
                let op = match &*st(1)? {
                    "lower" => StrOp::Lower,
                    "upper" => StrOp::Upper,
                    "len" => StrOp::Len,
                    "contains" => StrOp::Contains(arg),
                    "contains_literal" => StrOp::ContainsLiteral(arg),
                    _ => return None,
                };
                Expr::Str(e(0)?, op)
            }
            "alias" => Expr::Alias(e(0)?, st(1)?),
            _ => return None,
        })
    }
}

impl Tokenize for Expr {
    fn tokenize(&self, t: &mut Tokenizer) {
        self.to_param().tokenize(t);
    }
}

/// Evaluates expressions into a new partition of their columns.
pub(crate) fn eval_frame(exprs: &[Expr], df: &PlFrame) -> PolarsResult<PlFrame> {
    let cols: Vec<Column> = exprs.iter().map(|e| e.eval(df).map(Column::from)).collect::<PolarsResult<_>>()?;
    PlFrame::new(df.height(), cols)
}
