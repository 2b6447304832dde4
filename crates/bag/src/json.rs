//! JSON lines: a pile of records, one JSON document per line (logs,
//! exports), as Dask's `read_text(...).map(json.loads)` and `pluck`.
//!
//! Records are [`Json`] values (`serde_json::Value`); `pluck` takes a
//! field of each, and the dataframe crate's `from_records` turns a bag of
//! flat records into a dataframe.

use blockwork_graph::{KernelParams, NoParams, Op};

use crate::wire::PluckParams;
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

/// A line as a JSON document; the error quotes the line.
pub(crate) fn parse(line: &str) -> std::result::Result<Json, String> {
    serde_json::from_str(line).map_err(|e| format!("not JSON ({e}): {}", quoted(line)))
}

impl Bag<String> {
    /// Each line parsed as a JSON document, blank lines skipped. A line
    /// that does not parse fails its partition's task with the parser's
    /// error and the line. On the partitions of a read (or of any named
    /// task) it is a named task, so it runs on a cluster too.
    pub fn json(&self) -> Bag<Json> {
        if let Some(source) = self.named_source() {
            return source.layer_of("json", Op::named(&crate::wire::JSON, NoParams {}.to_value()));
        }
        self.filter(|line| !line.trim().is_empty()).try_map(|line| parse(line))
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

/// Field `key` of `record` (or `default`); an error names the field and
/// quotes the record.
pub(crate) fn pluck_one(record: &Json, key: &str, default: Option<&Json>) -> std::result::Result<Json, String> {
    match (field(record, key), default) {
        (Some(v), _) => Ok(v.clone()),
        (None, Some(d)) => Ok(d.clone()),
        (None, None) => Err(format!("no field {key:?} in the record {}", shown(record))),
    }
}

impl Bag<Json> {
    /// Field `key` of every record (an element, for arrays and a numeric
    /// `key`), as Dask's `pluck`: a record without it fails the task,
    /// naming the field and quoting the record. Named (cluster-ready) on
    /// the partitions of a named task, as [`Bag::json`].
    pub fn pluck(&self, key: &str) -> Bag<Json> {
        self.plucked(key, None)
    }

    /// [`Bag::pluck`], with `default` for records without the field.
    pub fn pluck_or(&self, key: &str, default: Json) -> Bag<Json> {
        self.plucked(key, Some(default))
    }

    fn plucked(&self, key: &str, default: Option<Json>) -> Bag<Json> {
        if let Some(source) = self.named_source() {
            let params = PluckParams { key: key.into(), default: default.map(|d| d.to_string()) };
            return source.layer_of("pluck", Op::named(&crate::wire::PLUCK, params.to_value()));
        }
        let key = key.to_string();
        self.try_map(move |rec| pluck_one(rec, &key, default.as_ref()))
    }
}
