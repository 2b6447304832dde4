//! Index coordinates: the labels along one dimension, and how labels
//! become positions (exact, nearest, slices, partial date strings).

use std::ops::Range;

use crate::error::{LabeledError, Result};
use crate::time::{parse_partial, Calendar, DateTime};

/// The labels of one dimension.
#[derive(Clone, Debug, PartialEq)]
pub enum Index {
    /// Numbers (latitude, longitude, levels).
    Float(Vec<f64>),
    /// Integers.
    Int(Vec<i64>),
    /// Datetimes of one calendar.
    Time {
        /// Their calendar.
        calendar: Calendar,
        /// The datetimes.
        values: Vec<DateTime>,
    },
    /// Text labels (seasons, names).
    Str(Vec<String>),
}

/// One label to look up.
#[derive(Clone, Debug, PartialEq)]
pub enum Label {
    /// A number (matches float and integer indexes).
    Num(f64),
    /// Text: a label of a text index, or a (partial) date of a time index.
    Str(String),
    /// A datetime.
    Time(DateTime),
}

impl From<f64> for Label {
    fn from(x: f64) -> Self {
        Label::Num(x)
    }
}

impl From<i64> for Label {
    fn from(x: i64) -> Self {
        Label::Num(x as f64)
    }
}

impl From<&str> for Label {
    fn from(s: &str) -> Self {
        Label::Str(s.to_string())
    }
}

impl From<DateTime> for Label {
    fn from(t: DateTime) -> Self {
        Label::Time(t)
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Label::Num(x) => write!(f, "{x}"),
            Label::Str(s) => write!(f, "{s:?}"),
            Label::Time(t) => write!(f, "{t}"),
        }
    }
}

/// What positions a selection gives.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Positions {
    /// One position: the dimension is dropped.
    One(usize),
    /// A contiguous run: the dimension is kept.
    Run(Range<usize>),
    /// Any positions, in order: the dimension is kept.
    Many(Vec<usize>),
}

impl Index {
    /// Number of labels.
    pub fn len(&self) -> usize {
        match self {
            Index::Float(v) => v.len(),
            Index::Int(v) => v.len(),
            Index::Time { values, .. } => values.len(),
            Index::Str(v) => v.len(),
        }
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The labels at `positions`.
    pub fn take(&self, positions: &[usize]) -> Index {
        fn pick<T: Clone>(v: &[T], p: &[usize]) -> Vec<T> {
            p.iter().map(|&i| v[i].clone()).collect()
        }
        match self {
            Index::Float(v) => Index::Float(pick(v, positions)),
            Index::Int(v) => Index::Int(pick(v, positions)),
            Index::Time { calendar, values } => Index::Time { calendar: *calendar, values: pick(values, positions) },
            Index::Str(v) => Index::Str(pick(v, positions)),
        }
    }

    /// The labels of a run of positions.
    pub fn slice(&self, r: Range<usize>) -> Index {
        self.take(&r.collect::<Vec<_>>())
    }

    /// The labels as numbers (datetimes and text have none).
    pub fn as_f64(&self) -> Option<Vec<f64>> {
        match self {
            Index::Float(v) => Some(v.clone()),
            Index::Int(v) => Some(v.iter().map(|&x| x as f64).collect()),
            _ => None,
        }
    }

    /// The label at a position, as text.
    pub fn label(&self, i: usize) -> String {
        match self {
            Index::Float(v) => v[i].to_string(),
            Index::Int(v) => v[i].to_string(),
            Index::Time { values, .. } => values[i].to_string(),
            Index::Str(v) => v[i].clone(),
        }
    }

    /// For each of this index's labels, its position in `other` (by
    /// label, in one pass over each).
    pub(crate) fn positions_in(&self, other: &Index) -> Vec<Option<usize>> {
        let at: std::collections::HashMap<String, usize> =
            (0..other.len()).rev().map(|j| (other.label(j), j)).collect();
        (0..self.len()).map(|i| at.get(&self.label(i)).copied()).collect()
    }

    /// The position of every label matching `label`: equal for numbers
    /// and text; for a time index, a text label is a partial date and
    /// selects every datetime it covers (`"2018"`: the whole year).
    pub(crate) fn locate(&self, label: &Label, dim: &str) -> Result<Positions> {
        let missing = || LabeledError::Label(format!("{label} is not a label of dimension `{dim}`"));
        let found = |i: Option<usize>| i.map(Positions::One).ok_or_else(missing);
        match (self, label) {
            (Index::Float(v), Label::Num(x)) => found(v.iter().position(|y| y == x)),
            (Index::Int(v), Label::Num(x)) => found(v.iter().position(|&y| y as f64 == *x)),
            (Index::Str(v), Label::Str(s)) => found(v.iter().position(|y| y == s)),
            (Index::Time { values, .. }, Label::Time(t)) => found(values.iter().position(|y| y == t)),
            (Index::Time { values, .. }, Label::Str(s)) => {
                let (start, end) = parse_partial(s)?;
                let hit: Vec<usize> = (0..values.len()).filter(|&i| values[i] >= start && values[i] < end).collect();
                if hit.is_empty() {
                    return Err(missing());
                }
                Ok(runs(hit))
            }
            _ => Err(LabeledError::Label(format!("{label} cannot label dimension `{dim}` ({})", self.kind()))),
        }
    }

    /// The position of the label nearest to `x` (numeric indexes).
    pub(crate) fn nearest(&self, x: f64, dim: &str) -> Result<usize> {
        let v = self.as_f64().ok_or_else(|| {
            LabeledError::Label(format!("nearest lookup needs numbers; `{dim}` holds {}", self.kind()))
        })?;
        (0..v.len())
            .min_by(|&a, &b| (v[a] - x).abs().total_cmp(&(v[b] - x).abs()))
            .ok_or_else(|| LabeledError::Label(format!("dimension `{dim}` is empty")))
    }

    /// The positions between two labels, both included, as pandas slices
    /// labels: on an index that decreases (latitude 90 … -90) the bounds
    /// are given in its order (`90.0..=0.0`). A partial date as the upper
    /// bound includes all it covers (`"2010"`: to the end of 2010).
    pub(crate) fn range(&self, lo: Option<&Label>, hi: Option<&Label>, dim: &str) -> Result<Range<usize>> {
        let n = self.len();
        let key = |l: &Label, upper: bool| -> Result<Key> {
            match (self, l) {
                (Index::Float(_) | Index::Int(_), Label::Num(x)) => Ok(Key::Num(*x)),
                (Index::Str(_), Label::Str(s)) => Ok(Key::Str(s.clone())),
                (Index::Time { .. }, Label::Time(t)) => Ok(Key::Time(*t, upper)),
                (Index::Time { .. }, Label::Str(s)) => {
                    let (start, end) = parse_partial(s)?;
                    Ok(if upper { Key::Time(end, false) } else { Key::Time(start, false) })
                }
                _ => Err(LabeledError::Label(format!("{l} cannot bound a slice of `{dim}` ({})", self.kind()))),
            }
        };
        let descending = n > 1 && self.cmp_at(0, n - 1) == std::cmp::Ordering::Greater;
        let start = match lo {
            None => 0,
            Some(l) => {
                let k = key(l, false)?;
                (0..n).find(|&i| if descending { !self.above(i, &k) } else { !self.below(i, &k) }).unwrap_or(n)
            }
        };
        let end = match hi {
            None => n,
            Some(l) => {
                let k = key(l, true)?;
                (0..n)
                    .rev()
                    .find(|&i| if descending { !self.below(i, &k) } else { self.below_or_eq(i, &k) })
                    .map_or(0, |i| i + 1)
            }
        };
        Ok(start..end.max(start))
    }

    fn cmp_at(&self, a: usize, b: usize) -> std::cmp::Ordering {
        match self {
            Index::Float(v) => v[a].total_cmp(&v[b]),
            Index::Int(v) => v[a].cmp(&v[b]),
            Index::Time { values, .. } => values[a].cmp(&values[b]),
            Index::Str(v) => v[a].cmp(&v[b]),
        }
    }

    fn cmp_key(&self, i: usize, k: &Key) -> std::cmp::Ordering {
        match (self, k) {
            (Index::Float(v), Key::Num(x)) => v[i].total_cmp(x),
            (Index::Int(v), Key::Num(x)) => (v[i] as f64).total_cmp(x),
            (Index::Str(v), Key::Str(s)) => v[i].as_str().cmp(s.as_str()),
            (Index::Time { values, .. }, Key::Time(t, _)) => values[i].cmp(t),
            _ => std::cmp::Ordering::Equal,
        }
    }

    fn below(&self, i: usize, k: &Key) -> bool {
        self.cmp_key(i, k) == std::cmp::Ordering::Less
    }

    fn above(&self, i: usize, k: &Key) -> bool {
        self.cmp_key(i, k) == std::cmp::Ordering::Greater
    }

    /// At or below an upper bound: an exact datetime bound includes
    /// itself; a partial date's end (`Key::Time(end, false)`) does not.
    fn below_or_eq(&self, i: usize, k: &Key) -> bool {
        match k {
            Key::Time(_, false) if matches!(self, Index::Time { .. }) => self.below(i, k),
            _ => !self.above(i, k),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Index::Float(_) => "numbers",
            Index::Int(_) => "integers",
            Index::Time { .. } => "datetimes",
            Index::Str(_) => "text",
        }
    }
}

enum Key {
    Num(f64),
    Str(String),
    /// A datetime, and whether it is an exact (inclusive) upper bound.
    Time(DateTime, bool),
}

/// Positions as one run when they are contiguous.
fn runs(hit: Vec<usize>) -> Positions {
    let (first, last) = (hit[0], hit[hit.len() - 1]);
    if last - first + 1 == hit.len() {
        Positions::Run(first..last + 1)
    } else {
        Positions::Many(hit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days() -> Index {
        let values = (1979..=1981).flat_map(|y| (1..=12).map(move |m| DateTime::date(y, m, 15))).collect();
        Index::Time { calendar: Calendar::Standard, values }
    }

    #[test]
    fn partial_dates_and_slices() {
        let t = days();
        assert_eq!(t.locate(&"1980".into(), "time").unwrap(), Positions::Run(12..24));
        assert_eq!(t.locate(&"1980-02".into(), "time").unwrap(), Positions::Run(13..14));
        assert_eq!(t.range(Some(&"1979-06".into()), Some(&"1980".into()), "time").unwrap(), 5..24);
        assert_eq!(t.range(None, Some(&"1979-01-15".into()), "time").unwrap(), 0..1);
        assert_eq!(t.range(Some(&"1990".into()), None, "time").unwrap(), 36..36);
        let exact = Label::Time(DateTime::date(1979, 3, 15));
        assert_eq!(t.range(Some(&exact), Some(&exact), "time").unwrap(), 2..3);
        let e = t.locate(&"1990".into(), "time").unwrap_err().to_string();
        assert!(e.contains("\"1990\" is not a label of dimension `time`"), "{e}");
    }

    #[test]
    fn numbers_ascending_and_descending() {
        let lat = Index::Float(vec![90.0, 45.0, 0.0, -45.0, -90.0]);
        assert_eq!(lat.range(Some(&45.0.into()), Some(&(-10.0).into()), "lat").unwrap(), 1..3);
        assert_eq!(lat.locate(&0.0.into(), "lat").unwrap(), Positions::One(2));
        assert_eq!(lat.nearest(-50.0, "lat").unwrap(), 3);
        let lon = Index::Int(vec![0, 10, 20, 30]);
        assert_eq!(lon.range(Some(&5.0.into()), Some(&20.0.into()), "lon").unwrap(), 1..3);
        let s = Index::Str(vec!["DJF".into(), "JJA".into()]);
        assert_eq!(s.locate(&"JJA".into(), "season").unwrap(), Positions::One(1));
        assert!(s.nearest(1.0, "season").unwrap_err().to_string().contains("needs numbers"));
        assert!(lat.locate(&"x".into(), "lat").unwrap_err().to_string().contains("cannot label dimension `lat`"));
    }
}
