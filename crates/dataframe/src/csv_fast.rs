//! The plain-CSV reader: a block with no quote character, valid UTF-8,
//! and fields that are integers, floats, booleans, text or ISO dates is
//! read here in one pass (Polars' reader first counts lines byte by byte,
//! then parses; for this common case one pass that splits fields, parses
//! numbers with `fast-float2` and dates with the fixed-layout parser
//! does it several times faster). Anything else — a quote, a field that
//! does not parse, a ragged line — gives `None`, and the caller reads
//! the block with Polars, whose result or error (named by line and
//! column) stands.

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

    /// Takes one field; `false` when it does not parse.
    fn push(&mut self, field: &[u8]) -> bool {
        if field.is_empty() {
            self.push_missing();
            return true;
        }
        match self {
            Builder::Skip => {}
            Builder::Int(v) => match parse_int(field) {
                Some(x) => v.push(Some(x)),
                None => return false,
            },
            Builder::Float(v) => match fast_float2::parse::<f64, _>(field) {
                Ok(x) => v.push(Some(x)),
                Err(_) => return false,
            },
            Builder::Bool(v) => match field {
                f if f.eq_ignore_ascii_case(b"true") => v.push(Some(true)),
                f if f.eq_ignore_ascii_case(b"false") => v.push(Some(false)),
                _ => return false,
            },
            Builder::Text(b) => match std::str::from_utf8(field) {
                Ok(s) => b.append_value(s),
                Err(_) => return false,
            },
            Builder::Time(v, parser, _) => match parser.micros(field) {
                Some(us) => v.push(Some(us)),
                None => return false,
            },
        }
        true
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
/// keeping those `keep` marks; `None` when this reader cannot, or the
/// block is not plain (then Polars reads it).
pub(crate) fn read(bytes: &[u8], schema: &[(String, DType)], keep: &[bool]) -> Option<PlFrame> {
    let rows_hint = bytes.len() / 32 + 1;
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
        if *field >= ncols || !builders[*field].push(last) {
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
                if field >= ncols || !builders[field].push(&bytes[start..i]) {
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
        let ours = read(text.as_bytes(), &schema(), &keep).expect("a plain block");
        assert!(ours.equals_missing(&polars(text.as_bytes(), &schema())));
        let keep = [false, true, false, true, false];
        let ours = read(text.as_bytes(), &schema(), &keep).unwrap();
        assert_eq!(ours.get_column_names(), ["x", "s"]);
    }

    #[test]
    fn anything_unusual_is_left_to_polars() {
        let schema = schema();
        let keep = [true; 5];
        for bad in ["1,2,true,\"q\",3\n", "x,2,true,s,3\n", "1,2,true,s,3,4\n", "1,2,maybe,s,3\n", "1,2.5e,true,s,3\n"]
        {
            assert!(read(bad.as_bytes(), &schema, &keep).is_none(), "{bad:?}");
        }
        assert!(read(&[b'1', b',', 0xff, b'\n'], &schema, &keep).is_none(), "not UTF-8");
        assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int(b"9223372036854775808"), None);
        assert_eq!(parse_int(b"+12"), Some(12));
        assert_eq!(parse_int(b"-"), None);
    }
}
