//! Parsing ISO-like date and datetime text, fast: a fixed-layout parser
//! (`YYYY-MM-DD`, then ` ` or `T` and `HH:MM[:SS[.f…]]`) that does in a
//! few nanoseconds what format inference does in hundreds. Anything else
//! is an error naming the row and the text.

use polars::prelude::{DataType, Int64Chunked, IntoSeries, NewChunkedArray, Series, StringChunked, TimeUnit};

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Microseconds since the epoch of `text`, or `None` when it is not an
/// ISO-like date or datetime.
#[cfg(test)]
pub(crate) fn parse_micros(text: &str) -> Option<i64> {
    Parser::default().micros(text.as_bytes())
}

/// The parser, remembering the last date it read: rows of a file mostly
/// share their date with the row before.
#[derive(Default)]
pub(crate) struct Parser {
    last: Option<([u8; 10], i64)>,
}

impl Parser {
    fn days(&mut self, b: &[u8]) -> Option<i64> {
        let date: [u8; 10] = b.get(..10)?.try_into().ok()?;
        if let Some((last, days)) = self.last {
            if last == date {
                return Some(days);
            }
        }
        if b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let (y, m, d) = (i64::from(digits(&b[0..4])?), digits(&b[5..7])?, digits(&b[8..10])?);
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
            return None;
        }
        let days = days_from_civil(y, m, d);
        self.last = Some((date, days));
        Some(days)
    }

    /// Microseconds since the epoch of the text `b`, or `None`.
    pub(crate) fn micros(&mut self, mut b: &[u8]) -> Option<i64> {
        if b.first().is_some_and(u8::is_ascii_whitespace) || b.last().is_some_and(u8::is_ascii_whitespace) {
            b = b.trim_ascii();
        }
        let mut us = self.days(b)? * 86_400_000_000;
        let rest = &b[10..];
        if rest.is_empty() {
            return Some(us);
        }
        if rest.len() < 6 || !(rest[0] == b' ' || rest[0] == b'T') || rest[3] != b':' {
            return None;
        }
        let (h, mi) = (digits(&rest[1..3])?, digits(&rest[4..6])?);
        let mut s = 0;
        let mut frac = &rest[6..];
        if let [b':', s1, s2, tail @ ..] = frac {
            s = digits(&[*s1, *s2])?;
            frac = tail;
        }
        if h > 23 || mi > 59 || s > 59 {
            return None;
        }
        us += (i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s)) * 1_000_000;
        match frac {
            [] => Some(us),
            [b'.', f @ ..] if !f.is_empty() && f.len() <= 9 => {
                let micros = f
                    .iter()
                    .take(6)
                    .try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))?;
                digits(f)?;
                Some(us + micros * 10i64.pow(6 - f.len().min(6) as u32))
            }
            _ => None,
        }
    }
}

/// A string column as datetimes (microseconds). An error names the first
/// row (from 0) whose text is not a date or datetime, and the text.
pub(crate) fn parse_datetimes(s: &StringChunked) -> Result<Series, (usize, String)> {
    if s.null_count() == 0 {
        // No missing values: a plain vector, no validity to build.
        let mut out = Vec::with_capacity(s.len());
        let mut parser = Parser::default();
        for (row, t) in s.iter().map(Option::unwrap_or_default).enumerate() {
            match parser.micros(t.as_bytes()) {
                Some(us) => out.push(us),
                None => return parse_with_nulls(s).map_err(|e| if t.is_empty() { e } else { (row, t.to_string()) }),
            }
        }
        let ca = Int64Chunked::from_vec(s.name().clone(), out);
        return Ok(ca.into_datetime(TimeUnit::Microseconds, None).into_series());
    }
    parse_with_nulls(s)
}

/// As [`parse_datetimes`], empty texts and nulls both missing.
fn parse_with_nulls(s: &StringChunked) -> Result<Series, (usize, String)> {
    let mut out = Vec::with_capacity(s.len());
    let mut parser = Parser::default();
    for (row, v) in s.iter().enumerate() {
        out.push(match v {
            None => None,
            Some("") => None,
            Some(t) => Some(parser.micros(t.as_bytes()).ok_or_else(|| (row, t.to_string()))?),
        });
    }
    let ca = Int64Chunked::from_iter_options(s.name().clone(), out.into_iter());
    Ok(ca.into_datetime(TimeUnit::Microseconds, None).into_series())
}

/// The datetime type the parser makes.
pub(crate) fn datetime_type() -> DataType {
    DataType::Datetime(TimeUnit::Microseconds, None)
}

#[cfg(test)]
mod tests {
    use super::parse_micros;

    #[test]
    fn iso_texts_parse_to_their_microseconds() {
        assert_eq!(parse_micros("1970-01-01"), Some(0));
        assert_eq!(parse_micros("1970-01-02 00:00:01"), Some(86_401_000_000));
        assert_eq!(parse_micros("2000-03-01T12:30"), Some(951_913_800_000_000));
        assert_eq!(parse_micros("1969-12-31 23:59:59.5"), Some(-500_000));
        assert_eq!(parse_micros("2024-02-29 00:00:00.123456789"), Some(1_709_164_800_123_456));
        for bad in ["", "2024-02-30", "2023-02-29", "2024-13-01", "2024-01-01 24:00", "2024-01-01x", "abc", "2024-1-01"]
        {
            assert_eq!(parse_micros(bad), None, "{bad:?}");
        }
    }
}
