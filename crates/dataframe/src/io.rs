//! Reading CSV piles: one partition per file.

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;

use blockwork_graph::layer::{Layer, Namer};
use blockwork_graph::{NamedFn, Op, Task, TaskError, TaskResult, Value};
use polars::prelude::{CsvReadOptions, SerReader};

use crate::error::{DataFrameError, Result};
use crate::frame::DataFrame;
use crate::partition::Partition;

/// How [`read_csv`] reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CsvOptions {
    /// Parse date and datetime columns (pandas' `parse_dates`): every
    /// string column whose values all read as dates or datetimes in an
    /// ISO-like format becomes a date or datetime column.
    pub parse_dates: bool,
}

/// Reads the CSV files `pattern` matches (`*`/`?` in the file name), one
/// partition per file, in name order. Every file must have a header;
/// the columns are the first file's.
pub fn read_csv(pattern: &str, options: &CsvOptions) -> Result<DataFrame> {
    let paths = blockwork_graph::glob(pattern)
        .map_err(|(dir, e)| DataFrameError::Files(format!("reading the directory {}: {e}", dir.display())))?;
    if paths.is_empty() {
        return Err(DataFrameError::Files(format!("no file matches {pattern:?}")));
    }
    read_csv_files(&paths, options)
}

/// Reads the CSV files `paths`, one partition each, in this order.
pub fn read_csv_files(paths: &[PathBuf], options: &CsvOptions) -> Result<DataFrame> {
    let first = paths.first().ok_or_else(|| DataFrameError::Files("read_csv_files was given no file".into()))?;
    let columns = header(first)?;
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let namer = Namer::new("read-csv").add(&names[..]).add(&options.parse_dates);
    let name: Arc<str> = format!("read-csv-{}", namer.token()).into();
    let tasks: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, path)| {
            let params = Value::List(vec![Value::Str(path.as_str().into()), Value::Bool(options.parse_dates)].into());
            (
                blockwork_graph::Key::with_shared_name(&name, &[i as u32]),
                Task::new(Op::named(&READ_CSV, params), vec![]),
            )
        })
        .collect();
    let partitions = tasks.iter().map(|(k, _)| k.clone()).collect();
    Ok(DataFrame { layer: Arc::new(Layer { name, tasks, deps: Vec::new() }), partitions, columns })
}

/// The column names of a CSV file's header line.
fn header(path: &PathBuf) -> Result<Vec<String>> {
    let file = std::fs::File::open(path).map_err(|e| DataFrameError::Files(format!("{}: {e}", path.display())))?;
    let mut line = String::new();
    std::io::BufReader::new(file)
        .read_line(&mut line)
        .map_err(|e| DataFrameError::Files(format!("{}: {e}", path.display())))?;
    if line.trim().is_empty() {
        return Err(DataFrameError::Files(format!("{}: no header line", path.display())));
    }
    Ok(line.trim_end_matches(['\n', '\r']).split(',').map(|c| c.trim_matches('"').to_string()).collect())
}

fn read_csv_task(params: &Value, _: Vec<Value>) -> TaskResult {
    let (path, parse_dates) = match params.as_list() {
        Some([Value::Str(p), Value::Bool(d)]) => (p.to_string(), *d),
        _ => return Err(TaskError::new("read-csv wants [path, parse_dates]")),
    };
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .map_parse_options(|o| o.with_try_parse_dates(parse_dates))
        .try_into_reader_with_file_path(Some(PathBuf::from(&path)))
        .and_then(|r| r.finish())
        .map_err(|e| TaskError::new(format!("reading {path}: {e}")))?;
    Ok(Partition(df).into_value())
}

pub(crate) static READ_CSV: NamedFn = NamedFn::new("dataframe.read_csv", read_csv_task);
