//! `resample`: groups of consecutive periods along a time dimension
//! (months, quarters, years, days), labelled by each period's first
//! instant, as pandas' and xarray's `resample(time="MS")`. Every period
//! from the first to the last is present; one without data is NaN (0 for
//! sums and counts), as in xarray.

use crate::dataarray::DataArray;
use crate::error::{LabeledError, Result};
use crate::groupby::GroupBy;
use crate::index::Index;
use crate::time::DateTime;

/// A resampling frequency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Freq {
    /// Days (`"D"`).
    Day,
    /// Months (`"MS"`).
    Month,
    /// Quarters starting in the given month (`"QS"` = `"QS-JAN"`, `"QS-DEC"`).
    Quarter(u8),
    /// Years (`"YS"`, `"AS"`).
    Year,
}

fn parse(freq: &str) -> Result<Freq> {
    const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    Ok(match freq {
        "D" | "1D" => Freq::Day,
        "MS" | "1MS" => Freq::Month,
        "YS" | "AS" | "1YS" => Freq::Year,
        "QS" => Freq::Quarter(1),
        f if f.starts_with("QS-") => {
            let m = MONTHS.iter().position(|m| *m == &f[3..]).ok_or_else(|| bad(freq))?;
            Freq::Quarter(m as u8 + 1)
        }
        _ => return Err(bad(freq)),
    })
}

fn bad(freq: &str) -> LabeledError {
    LabeledError::Label(format!("unknown resampling frequency `{freq}` (D, MS, QS, QS-DEC, YS)"))
}

/// The start of the period holding `t`.
fn period(freq: Freq, t: &DateTime) -> DateTime {
    match freq {
        Freq::Day => DateTime::date(t.year, t.month, t.day),
        Freq::Month => DateTime::date(t.year, t.month, 1),
        Freq::Year => DateTime::date(t.year, 1, 1),
        Freq::Quarter(first) => {
            // Months since the quarter grid's origin, floored to a multiple of 3.
            let k = (t.month as i32 - first as i32).rem_euclid(3);
            let mut y = t.year;
            let mut m = t.month as i32 - k;
            if m < 1 {
                m += 12;
                y -= 1;
            }
            DateTime::date(y, m as u8, 1)
        }
    }
}

/// The period after the one starting at `p` (days: by the calendar's month lengths).
fn next(freq: Freq, p: &DateTime, month_len: impl Fn(i32, u8) -> u8) -> DateTime {
    let add_months = |n: i32| {
        let total = p.year * 12 + p.month as i32 - 1 + n;
        DateTime::date(total.div_euclid(12), (total.rem_euclid(12) + 1) as u8, 1)
    };
    match freq {
        Freq::Day if p.day < month_len(p.year, p.month) => DateTime::date(p.year, p.month, p.day + 1),
        Freq::Day => add_months(1),
        Freq::Month => add_months(1),
        Freq::Quarter(_) => add_months(3),
        Freq::Year => add_months(12),
    }
}

impl DataArray {
    /// Groups a time dimension by periods: `resample("time", "MS")` (month
    /// starts), `"QS-DEC"` (seasons DJF, MAM, JJA, SON), `"YS"`, `"QS"`,
    /// `"D"`; then `.mean("time")` and the other reductions of [`GroupBy`].
    /// The dimension keeps its name and holds the periods' starts.
    pub fn resample(&self, dim: &str, freq: &str) -> Result<GroupBy> {
        let f = parse(freq)?;
        let Index::Time { calendar, values } = &self.coord(dim)?.index else {
            return Err(LabeledError::Label(format!("resample needs datetimes; `{dim}` holds other labels")));
        };
        let Some(first) = values.iter().min() else {
            return Err(LabeledError::Dim(format!("dimension `{dim}` is empty")));
        };
        let last = values.iter().max().copied().unwrap_or(*first);
        let cal = *calendar;
        let month_len = move |y: i32, m: u8| crate::time::month_length(cal, y, m);
        let mut starts = vec![period(f, first)];
        let end = period(f, &last);
        while *starts.last().unwrap_or(&end) < end {
            let n = next(f, starts.last().unwrap_or(&end), month_len);
            starts.push(n);
        }
        let labels = values.iter().map(|t| starts.binary_search(&period(f, t)).map_or(-1, |i| i as i64)).collect();
        GroupBy::from_parts(self, dim, labels, Index::Time { calendar: cal, values: starts }, dim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_and_their_successors() {
        let t = DateTime::date(1979, 1, 15);
        assert_eq!(period(parse("QS-DEC").unwrap(), &t), DateTime::date(1978, 12, 1));
        assert_eq!(period(parse("QS-DEC").unwrap(), &DateTime::date(1979, 3, 2)), DateTime::date(1979, 3, 1));
        assert_eq!(period(parse("QS").unwrap(), &DateTime::date(1979, 5, 2)), DateTime::date(1979, 4, 1));
        assert_eq!(period(parse("YS").unwrap(), &t), DateTime::date(1979, 1, 1));
        let len = |_: i32, _: u8| 30;
        assert_eq!(next(Freq::Day, &DateTime::date(2000, 2, 30), len), DateTime::date(2000, 3, 1));
        assert_eq!(next(Freq::Quarter(12), &DateTime::date(1978, 12, 1), len), DateTime::date(1979, 3, 1));
        assert!(parse("W").unwrap_err().to_string().contains("`W`"));
    }
}
