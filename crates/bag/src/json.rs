//! JSON lines: a pile of records, one JSON document per line (logs,
//! exports), as Dask's `read_text(...).map(json.loads)` and `pluck`.
//!
//! Records are [`Json`] values (`serde_json::Value`); `pluck` takes a
//! field of each, and the dataframe crate's `from_records` turns a bag of
//! flat records into a dataframe.

use crate::{read_text, Bag, Result, TextOptions};

/// A JSON document.
pub use serde_json::Value as Json;

/// At most this much of an offending line is quoted in an error.
const QUOTE: usize = 120;

/// `text` cut to [`QUOTE`] characters.
fn cut(text: &str) -> (&str, &str) {
    let text = text.trim_end();
    match text.char_indices().nth(QUOTE) {
        Some((i, _)) => (&text[..i], "…"),
        None => (text, ""),
    }
}

/// A line as a quoted string (it may hold anything).
fn quoted(line: &str) -> String {
    let (text, more) = cut(line);
    format!("{text:?}{more}")
}

/// A record as its JSON.
fn shown(record: &Json) -> String {
    let json = record.to_string();
    let (text, more) = cut(&json);
    format!("{text}{more}")
}

impl Bag<String> {
    /// Each line parsed as a JSON document, blank lines skipped. A line
    /// that does not parse fails its partition's task with the parser's
    /// error and the line.
    pub fn json(&self) -> Bag<Json> {
        self.filter(|line| !line.trim().is_empty())
            .try_map(|line| serde_json::from_str(line).map_err(|e| format!("not JSON ({e}): {}", quoted(line))))
    }
}

/// The JSON-lines files `pattern` matches (globs, `s3://`, `.gz`/`.zst`),
/// one record per line, as [`read_text`] splits them into partitions.
pub fn read_json_lines(pattern: &str, options: &TextOptions) -> Result<Bag<Json>> {
    Ok(read_text(pattern, options)?.json())
}

fn field<'a>(record: &'a Json, key: &str) -> Option<&'a Json> {
    match record {
        Json::Object(m) => m.get(key),
        Json::Array(xs) => key.parse::<usize>().ok().and_then(|i| xs.get(i)),
        _ => None,
    }
}

impl Bag<Json> {
    /// Field `key` of every record (an element, for arrays and a numeric
    /// `key`), as Dask's `pluck`: a record without it fails the task,
    /// naming the field and quoting the record.
    pub fn pluck(&self, key: &str) -> Bag<Json> {
        let key = key.to_string();
        self.try_map(move |rec| {
            field(rec, &key).cloned().ok_or_else(|| format!("no field {key:?} in the record {}", shown(rec)))
        })
    }

    /// [`Bag::pluck`], with `default` for records without the field.
    pub fn pluck_or(&self, key: &str, default: Json) -> Bag<Json> {
        let key = key.to_string();
        self.map(move |rec| field(rec, &key).cloned().unwrap_or_else(|| default.clone()))
    }
}
