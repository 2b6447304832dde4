//! The plain-CSV reader: a block with no quote character, valid UTF-8,
//! and fields that are integers, floats, booleans, text or ISO dates is
//! read here in one pass (Polars' reader first counts lines byte by byte,
//! then parses; for this common case one pass that splits fields, parses
//! numbers with `fast-float2` and dates with the fixed-layout parser
//! does it several times faster). Fields that are a column's missing
//! texts (pandas' `na_values`) are missing, and so are floats that parse
//! as NaN. Anything else — a quote, a field that does not parse, a
//! ragged line — gives `None`, and the caller reads the block with
//! Polars, whose result or error (named by line and column) stands.

use polars::prelude::{
    BooleanChunked, Column, DataFrame as PlFrame, DataType, Float64Chunked, Int64Chunked, IntoColumn, IntoSeries,
    NewChunkedArray, PlSmallStr, StringChunkedBuilder, TimeUnit,
};

use crate::dates::Parser;
use crate::lit::DType;

/// Values of one column, with the rows that are missing.
struct Values<T> {
    values: Vec<T>,
    missing: Vec<usize>,
}

impl<T: Default + Copy> Values<T> {
    fn new(capacity: usize) -> Self {
        Values { values: Vec::with_capacity(capacity), missing: Vec::new() }
    }

    fn push(&mut self, x: Option<T>) {
        if x.is_none() {
            self.missing.push(self.values.len());
        }
        self.values.push(x.unwrap_or_default());
    }

    fn options(self) -> impl Iterator<Item = Option<T>> {
        let mut missing = self.missing.into_iter().peekable();
        self.values.into_iter().enumerate().map(move |(i, v)| {
            if missing.peek() == Some(&i) {
                missing.next();
                None
            } else {
                Some(v)
            }
        })
    }
}

/// A column's texts read as missing, matched cheaply: most fields
/// differ from every one of them in length or in first byte.
struct Missing {
    /// Bit `n` set when some text is `n` bytes long.
    lengths: u64,
    /// The texts' first bytes.
    first: [bool; 256],
    texts: Vec<Box<[u8]>>,
}

impl Missing {
    fn new(texts: &[&str]) -> Self {
        let mut m = Missing { lengths: 0, first: [false; 256], texts: Vec::new() };
        for t in texts.iter().map(|t| t.as_bytes()).filter(|t| !t.is_empty()) {
            if t.len() >= 64 {
                m.lengths |= 1 << 63; // matched by comparison alone
            } else {
                m.lengths |= 1 << t.len();
            }
            m.first[usize::from(t[0])] = true;
            m.texts.push(t.into());
        }
        m
    }

    #[inline]
    fn matches(&self, field: &[u8]) -> bool {
        let length = 1u64 << field.len().min(63);
        self.lengths & length != 0 && self.first[usize::from(field[0])] && self.texts.iter().any(|t| **t == *field)
    }
}

enum Builder {
    Skip,
    Int(Values<i64>),
    Float(Values<f64>),
    Bool(Values<bool>),
    Text(StringChunkedBuilder),
    Time(Values<i64>, Parser, DType),
}

impl Builder {
    fn new(name: &str, dtype: DType, capacity: usize) -> Option<Builder> {
        Some(match dtype {
            DType::Int32 | DType::Int64 => Builder::Int(Values::new(capacity)),
            DType::Float32 | DType::Float64 => Builder::Float(Values::new(capacity)),
            DType::Bool => Builder::Bool(Values::new(capacity)),
            DType::Str => Builder::Text(StringChunkedBuilder::new(name.into(), capacity)),
            DType::Date | DType::Datetime => Builder::Time(Values::new(capacity), Parser::default(), dtype),
        })
    }

    /// Takes one field, missing if it is one of `missing`; `false` when
    /// it does not parse. Numbers and dates are checked against
    /// `missing` only when they do not parse.
    fn push(&mut self, field: &[u8], missing: &Missing) -> bool {
        if field.is_empty() {
            self.push_missing();
            return true;
        }
        let parsed = match self {
            Builder::Skip => true,
            Builder::Int(v) => parse_int(field).map(|x| v.push(Some(x))).is_some(),
            Builder::Float(v) => {
                fast_float2::parse::<f64, _>(field).map(|x| v.push(Some(x).filter(|x| !x.is_nan()))).is_ok()
            }
            Builder::Bool(v) => {
                let x = match field {
                    f if f.eq_ignore_ascii_case(b"true") => Some(true),
                    f if f.eq_ignore_ascii_case(b"false") => Some(false),
                    _ => None,
                };
                x.map(|x| v.push(Some(x))).is_some()
            }
            Builder::Text(_) if missing.matches(field) => {
                self.push_missing();
                return true;
            }
            Builder::Text(b) => std::str::from_utf8(field).map(|s| b.append_value(s)).is_ok(),
            Builder::Time(v, parser, _) => parser.micros(field).map(|us| v.push(Some(us))).is_some(),
        };
        if !parsed && missing.matches(field) {
            self.push_missing();
            return true;
        }
        parsed
    }

    fn push_missing(&mut self) {
        match self {
            Builder::Skip => {}
            Builder::Int(v) | Builder::Time(v, ..) => v.push(None),
            Builder::Float(v) => v.push(None),
            Builder::Bool(v) => v.push(None),
            Builder::Text(b) => b.append_null(),
        }
    }

    fn finish(self, name: &str, dtype: DType) -> Option<Column> {
        let name = PlSmallStr::from(name);
        let series = match self {
            Builder::Skip => return None,
            Builder::Int(v) if v.missing.is_empty() => Int64Chunked::from_vec(name, v.values).into_series(),
            Builder::Int(v) => Int64Chunked::from_iter_options(name, v.options()).into_series(),
            Builder::Float(v) if v.missing.is_empty() => Float64Chunked::from_vec(name, v.values).into_series(),
            Builder::Float(v) => Float64Chunked::from_iter_options(name, v.options()).into_series(),
            Builder::Bool(v) => BooleanChunked::from_iter_options(name, v.options()).into_series(),
            Builder::Text(b) => b.finish().into_series(),
            Builder::Time(v, _, kind) => {
                let ca = if v.missing.is_empty() {
                    Int64Chunked::from_vec(name, v.values)
                } else {
                    Int64Chunked::from_iter_options(name, v.options())
                };
                let s = ca.into_datetime(TimeUnit::Microseconds, None).into_series();
                if kind == DType::Date {
                    s.cast(&DataType::Date).ok()?
                } else {
                    s
                }
            }
        };
        let series = match dtype {
            DType::Int32 | DType::Float32 => series.cast(&dtype.polars()).ok()?,
            _ => series,
        };
        Some(series.into_column())
    }
}

fn parse_int(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, b),
    };
    if digits.is_empty() {
        return None;
    }
    let mut x: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        x = x.checked_mul(10)?.checked_sub(i64::from(c - b'0'))?;
    }
    if neg {
        Some(x)
    } else {
        x.checked_neg()
    }
}

/// Reads the lines of `bytes` (no header) as the columns `schema`,
/// keeping those `keep` marks, with each column's texts read as missing;
/// `None` when this reader cannot, or the block is not plain (then
/// Polars reads it).
pub(crate) fn read(bytes: &[u8], schema: &[(String, DType)], keep: &[bool], missing: &[Vec<&str>]) -> Option<PlFrame> {
    let rows_hint = bytes.len() / 32 + 1;
    let missing: Vec<Missing> = (0..schema.len()).map(|i| Missing::new(missing.get(i).map_or(&[], |m| m))).collect();
    let mut builders: Vec<Builder> = schema
        .iter()
        .zip(keep)
        .map(|((name, dtype), &k)| if k { Builder::new(name, *dtype, rows_hint) } else { Some(Builder::Skip) })
        .collect::<Option<_>>()?;
    let ncols = schema.len();
    let (mut rows, mut field, mut start) = (0, 0, 0);
    // Ends the line whose last field is `bytes[start..end]`.
    let mut end_line = |builders: &mut [Builder], field: &mut usize, start: usize, end: usize| -> Option<()> {
        let mut last = &bytes[start..end];
        if let [rest @ .., b'\r'] = last {
            last = rest;
        }
        if *field == 0 && last.is_empty() {
            return Some(()); // a blank line
        }
        if *field >= ncols || !builders[*field].push(last, &missing[*field]) {
            return None;
        }
        builders[*field + 1..].iter_mut().for_each(Builder::push_missing);
        *field = 0;
        rows += 1;
        Some(())
    };
    // One sweep finds every delimiter, and any quote.
    for i in memchr::memchr3_iter(b',', b'\n', b'"', bytes) {
        match bytes[i] {
            b',' => {
                if field >= ncols || !builders[field].push(&bytes[start..i], &missing[field]) {
                    return None;
                }
                field += 1;
            }
            b'\n' => end_line(&mut builders, &mut field, start, i)?,
            _ => return None,
        }
        start = i + 1;
    }
    if start < bytes.len() {
        end_line(&mut builders, &mut field, start, bytes.len())?;
    }
    let cols: Vec<Column> = builders
        .into_iter()
        .zip(schema)
        .filter_map(|(b, (name, dtype))| match b {
            Builder::Skip => None,
            b => Some(b.finish(name, *dtype)),
        })
        .collect::<Option<_>>()?;
    PlFrame::new(rows, cols).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::{CsvReadOptions, Schema, SerReader};
    use std::sync::Arc;

    fn schema() -> Vec<(String, DType)> {
        [("i", DType::Int64), ("x", DType::Float64), ("b", DType::Bool), ("s", DType::Str), ("f", DType::Float32)]
            .iter()
            .map(|(n, d)| (n.to_string(), *d))
            .collect()
    }

    fn polars(bytes: &[u8], schema: &[(String, DType)]) -> PlFrame {
        let s: Schema = schema.iter().map(|(n, d)| (PlSmallStr::from(n.as_str()), d.polars())).collect();
        CsvReadOptions::default()
            .with_has_header(false)
            .with_schema(Some(Arc::new(s)))
            .into_reader_with_file_handle(std::io::Cursor::new(bytes))
            .finish()
            .unwrap()
    }

    #[test]
    fn plain_blocks_read_as_polars_reads_them() {
        let mut text = String::new();
        let mut state = 7u64;
        for row in 0..500u64 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let r = state >> 33;
            let i = if r.is_multiple_of(9) { String::new() } else { format!("{}", (r % 2001) as i64 - 1000) };
            let x =
                if r.is_multiple_of(7) { String::new() } else { format!("{:e}", (r % 100_003) as f64 / 7.0 - 5000.0) };
            let b = ["true", "False", ""][(r % 3) as usize];
            let s = ["héllo", "", "a b", "x;y"][(r % 4) as usize];
            let eol = if row % 5 == 0 { "\r\n" } else { "\n" };
            text.push_str(&format!("{i},{x},{b},{s},{}{eol}", r % 10));
            if row % 50 == 0 {
                text.push_str("1,2.5\n"); // short: the rest missing
            }
        }
        let keep = [true; 5];
        let ours = read(text.as_bytes(), &schema(), &keep, &[]).expect("a plain block");
        assert!(ours.equals_missing(&polars(text.as_bytes(), &schema())));
        let keep = [false, true, false, true, false];
        let ours = read(text.as_bytes(), &schema(), &keep, &[]).unwrap();
        assert_eq!(ours.get_column_names(), ["x", "s"]);
    }

    #[test]
    fn missing_texts_are_missing_in_every_type_as_polars_reads_them() {
        let na = ["NA", "n/a", "-", "#N/A N/A", "a long text for missing values that is longer than sixty-four bytes"];
        let mut text = String::new();
        let mut state = 11u64;
        for _ in 0..400 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let r = (state >> 33) as usize;
            let pick = |x: String| if r.is_multiple_of(5) { na[(r / 5) % na.len()].to_string() } else { x };
            let i = pick(format!("{}", r % 100));
            let x = pick(format!("{}", (r % 1000) as f64 / 8.0));
            let b = pick(["true", "false"][r % 2].into());
            let s = pick(["NAB", "n/ab", "N", "x"][r % 4].into());
            text.push_str(&format!("{i},{x},{b},{s},{}\n", r % 7));
        }
        let missing = vec![na.to_vec(); 5];
        let ours = read(text.as_bytes(), &schema(), &[true; 5], &missing).expect("a plain block");
        let s: Schema = schema().iter().map(|(n, d)| (PlSmallStr::from(n.as_str()), d.polars())).collect();
        let nulls = polars::prelude::NullValues::AllColumns(na.iter().map(|t| PlSmallStr::from(*t)).collect());
        let theirs = CsvReadOptions::default()
            .map_parse_options(|o| o.with_null_values(Some(nulls.clone())))
            .with_has_header(false)
            .with_schema(Some(Arc::new(s)))
            .into_reader_with_file_handle(std::io::Cursor::new(text.as_bytes()))
            .finish()
            .unwrap();
        assert!(ours.equals_missing(&theirs));
        assert!(ours.column("i").unwrap().null_count() > 40, "the texts were read as missing");
        // Without the texts, a number column's "NA" does not parse.
        assert!(read(b"NA,1,true,s,2\n", &schema(), &[true; 5], &[]).is_none());
        // A float that parses as NaN is missing.
        let nan = read(b"1,nan,true,s,NaN\n", &schema(), &[true; 5], &[]).unwrap();
        assert_eq!(nan.column("x").unwrap().null_count(), 1);
        assert_eq!(nan.column("f").unwrap().null_count(), 1);
    }

    #[test]
    fn anything_unusual_is_left_to_polars() {
        let schema = schema();
        let keep = [true; 5];
        for bad in ["1,2,true,\"q\",3\n", "x,2,true,s,3\n", "1,2,true,s,3,4\n", "1,2,maybe,s,3\n", "1,2.5e,true,s,3\n"]
        {
            assert!(read(bad.as_bytes(), &schema, &keep, &[]).is_none(), "{bad:?}");
        }
        assert!(read(&[b'1', b',', 0xff, b'\n'], &schema, &keep, &[]).is_none(), "not UTF-8");
        assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int(b"9223372036854775808"), None);
        assert_eq!(parse_int(b"+12"), Some(12));
        assert_eq!(parse_int(b"-"), None);
    }
}
