//! A bag of flat JSON records as a dataframe (Dask's `Bag.to_dataframe`):
//! the semi-structured pile (logs, exports) becomes a table once its
//! records are parsed and plucked.
//!
//! One partition per bag partition, built column by column from the
//! records. The columns and their types are the first partition's, as
//! Dask infers `meta` from it, in the order the fields first appear
//! (the bag's records keep their fields' order). Types: a field whose non-null values are all
//! booleans is `Boolean`, all integers `Int64`, all numbers `Float64`, all
//! strings `String`. A record without a field, or with `null`, gives a
//! null; a field the first partition did not have is left out; a value of
//! another type (a string in an integer column, a nested object) fails the
//! task, naming the field and the record. Flatten nested records with
//! `map` first.

use std::sync::Arc;

use blockwork_bag::{Bag, Json};
use blockwork_graph::layer::Layer;
use blockwork_graph::{kernel_params, r, KernelParams, Key, NamedFn, Op, Task, TaskError, TaskResult, Value};
use blockwork_local::Config;
use polars::prelude::{Column, DataFrame as PlFrame, NamedFrom, Series};

use crate::frame::unique_name;
use crate::param::param_by_name;
use crate::{DataFrame, DataFrameError, Partition, Result};

/// A column's type, from the first partition.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Bool,
    Int,
    Float,
    Str,
}

impl Kind {
    fn code(self) -> &'static str {
        match self {
            Kind::Bool => "bool",
            Kind::Int => "int",
            Kind::Float => "float",
            Kind::Str => "str",
        }
    }

    fn of_code(s: &str) -> Option<Kind> {
        [Kind::Bool, Kind::Int, Kind::Float, Kind::Str].into_iter().find(|k| k.code() == s)
    }

    /// The kind of one value (`None` for null), or why it has none.
    fn of(v: &Json) -> std::result::Result<Option<Kind>, &'static str> {
        match v {
            Json::Null => Ok(None),
            Json::Bool(_) => Ok(Some(Kind::Bool)),
            Json::Number(n) if n.is_i64() => Ok(Some(Kind::Int)),
            Json::Number(_) => Ok(Some(Kind::Float)),
            Json::String(_) => Ok(Some(Kind::Str)),
            Json::Array(_) => Err("an array"),
            Json::Object(_) => Err("an object"),
        }
    }

    /// The kind holding both (integers widen to floats); `None` if none does.
    fn join(a: Kind, b: Kind) -> Option<Kind> {
        match (a, b) {
            _ if a == b => Some(a),
            (Kind::Int, Kind::Float) | (Kind::Float, Kind::Int) => Some(Kind::Float),
            _ => None,
        }
    }
}

fn quote(rec: &Json) -> String {
    let s = rec.to_string();
    match s.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

/// The columns of `records`, in order of first appearance, with kinds.
fn infer(records: &[Json]) -> std::result::Result<Vec<(String, Kind)>, String> {
    let mut columns: Vec<(String, Option<Kind>)> = Vec::new();
    for rec in records {
        let Json::Object(fields) = rec else {
            return Err(format!("a record is a JSON object, not {}", quote(rec)));
        };
        for (name, v) in fields {
            let kind = Kind::of(v).map_err(|what| {
                format!("field {name:?} is {what} in {}; flatten nested records with map first", quote(rec))
            })?;
            let slot = match columns.iter().position(|(n, _)| n == name) {
                Some(i) => &mut columns[i].1,
                None => {
                    columns.push((name.clone(), None));
                    &mut columns.last_mut().expect("just pushed").1
                }
            };
            *slot = match (*slot, kind) {
                (None, k) | (k, None) => k,
                (Some(a), Some(b)) => Some(
                    Kind::join(a, b)
                        .ok_or_else(|| format!("field {name:?} holds both {} and {} values", a.code(), b.code()))?,
                ),
            };
        }
    }
    // A field only ever null is read as strings, as pandas reads it as object.
    Ok(columns.into_iter().map(|(n, k)| (n, k.unwrap_or(Kind::Str))).collect())
}

/// Field `name` of each record through `get` (`None` for a missing or
/// null field); an error names the record whose value `get` refuses.
fn values<'a, T>(
    records: &'a [Json],
    name: &str,
    kind: Kind,
    get: impl Fn(&'a Json) -> Option<T>,
) -> std::result::Result<Vec<Option<T>>, String> {
    records
        .iter()
        .map(|rec| {
            let Json::Object(m) = rec else { return Err(format!("a record is a JSON object, not {}", quote(rec))) };
            match m.get(name).filter(|v| !v.is_null()) {
                None => Ok(None),
                Some(v) => get(v)
                    .map(Some)
                    .ok_or_else(|| format!("field {name:?} of {} is not of type {}", quote(rec), kind.code())),
            }
        })
        .collect()
}

/// One column of `records` as a Series of `kind`.
fn column(records: &[Json], name: &str, kind: Kind) -> std::result::Result<Series, String> {
    let pl = name.into();
    Ok(match kind {
        Kind::Bool => Series::new(pl, values(records, name, kind, Json::as_bool)?),
        Kind::Int => Series::new(pl, values(records, name, kind, Json::as_i64)?),
        Kind::Float => Series::new(pl, values(records, name, kind, Json::as_f64)?),
        Kind::Str => Series::new(pl, values(records, name, kind, Json::as_str)?),
    })
}

fn frame(records: &[Json], columns: &[(String, Kind)]) -> std::result::Result<PlFrame, String> {
    let cols: Vec<Column> =
        columns.iter().map(|(n, k)| column(records, n, *k).map(Column::from)).collect::<std::result::Result<_, _>>()?;
    PlFrame::new(records.len(), cols).map_err(|e| e.to_string())
}

param_by_name!(Kind, Kind::code, Kind::of_code);

kernel_params! {
    /// The columns of a dataframe partition made from records.
    struct FromRecordsParams {
        names: Vec<String>,
        kinds: Vec<Kind>,
    }
}

/// The task: a bag partition of records → a dataframe partition.
fn from_records_task(params: &Value, args: Vec<Value>) -> TaskResult {
    let FromRecordsParams { names, kinds } = FromRecordsParams::from_value(params)?;
    let [part] = args.as_slice() else { return Err(TaskError::new("from_records takes one bag partition")) };
    let records = blockwork_bag::partition_items::<Json>(part)?;
    let columns: Vec<(String, Kind)> = names.into_iter().zip(kinds).collect();
    Ok(Partition(frame(records, &columns).map_err(TaskError::new)?).into_value())
}

pub(crate) static FROM_RECORDS: NamedFn =
    NamedFn::new("dataframe.from_records", from_records_task).params::<FromRecordsParams>();

/// The records of `bag` (JSON objects, as [`Bag::json`] and
/// [`blockwork_bag::read_json_lines`] make them) as a dataframe of one
/// partition per bag partition; the columns and their types are the
/// first partition's (computed now with `config`, as Dask does without
/// `meta`; see the module's documentation for the types).
pub fn from_records(bag: &Bag<Json>, config: &Config) -> Result<DataFrame> {
    let layer = bag.layer();
    let keys = bag.keys();
    let first_key = keys.first().ok_or_else(|| DataFrameError::Invalid("a bag of no partitions".into()))?;
    let graph = blockwork_graph::layer::collect(&[&layer])?.cull(std::slice::from_ref(first_key))?;
    let first = blockwork_local::compute(graph, std::slice::from_ref(first_key), config)?.remove(0);
    let records = blockwork_bag::partition_items::<Json>(&first).map_err(|e| DataFrameError::Invalid(e.to_string()))?;
    let columns = infer(records).map_err(|e| DataFrameError::Invalid(format!("the bag's first partition: {e}")))?;
    let (names, kinds): (Vec<String>, Vec<Kind>) = columns.into_iter().unzip();
    let params = FromRecordsParams { names: names.clone(), kinds }.to_value();
    let name = unique_name("from-records");
    let tasks: Vec<_> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            (
                Key::with_shared_name(&name, &[i as u32]),
                Task::new(Op::named(&FROM_RECORDS, params.clone()), vec![r(k.clone())]),
            )
        })
        .collect();
    let partitions = tasks.iter().map(|(k, _)| k.clone()).collect();
    Ok(DataFrame::from_layer(Layer::new(name, tasks, vec![Arc::clone(&layer)]), partitions, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recs(s: &str) -> Vec<Json> {
        s.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    #[test]
    fn kinds_widen_and_conflicts_name_the_field() {
        let r = recs("{\"a\": 1, \"b\": \"x\", \"c\": null}\n{\"a\": 2.5, \"d\": true}");
        let cols = infer(&r).unwrap();
        let want: Vec<(String, Kind)> = [("a", Kind::Float), ("b", Kind::Str), ("c", Kind::Str), ("d", Kind::Bool)]
            .map(|(n, k)| (n.to_string(), k))
            .to_vec();
        assert_eq!(cols, want);
        let err = infer(&recs("{\"a\": 1}\n{\"a\": \"one\"}")).unwrap_err();
        assert!(err.contains("\"a\"") && err.contains("int") && err.contains("str"), "{err}");
        let err = infer(&recs("{\"a\": {\"b\": 1}}")).unwrap_err();
        assert!(err.contains("\"a\" is an object"), "{err}");
        let err = infer(&recs("[1, 2]")).unwrap_err();
        assert!(err.contains("JSON object"), "{err}");
        // Later partitions: a wrong type fails, naming the field.
        let err = frame(&recs("{\"a\": \"x\"}"), &[("a".into(), Kind::Int)]).unwrap_err();
        assert!(err.contains("\"a\"") && err.contains("not of type int"), "{err}");
        let f = frame(&recs("{\"a\": 1}\n{}\n{\"a\": null}"), &[("a".into(), Kind::Int)]).unwrap();
        assert_eq!(f.column("a").unwrap().null_count(), 2);
    }
}
