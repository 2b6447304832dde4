//! Parquet and JSON-lines piles, and writing partitions out (one file
//! per partition), as dask's `read_parquet`, `read_json(lines=True)`,
//! `to_parquet` and `to_csv` do.

use std::sync::Arc;

use blockwork_graph::layer::{Layer, Namer};
use blockwork_graph::{kernel_params, KernelParams, Key, NamedFn, Op, Task, TaskError, TaskResult, Tokenize, Value};
use polars::prelude::{
    CsvWriter, DataFrame as PlFrame, DataType, IntoColumn, JsonFormat, JsonReader, JsonWriter, NamedFrom,
    ParquetReader, ParquetWriter, SerReader, SerWriter, Series,
};

use crate::error::{DataFrameError, Result};
use crate::expr::Expr;
use crate::frame::{DataFrame, Reread};
use crate::ops::Step;
use crate::param::param_by_name;
use crate::partition::Partition;
use blockwork_store as store;
use polars::io::mmap::MmapBytesReader;

/// How [`read_parquet`] reads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParquetOptions {
    /// Only these columns (all when empty).
    pub columns: Vec<String>,
    /// Rows kept: applied as each piece is read, so the others never
    /// leave the task that read them.
    pub filter: Option<Expr>,
    /// A partition per row group (`true`) or per file.
    pub split_row_groups: bool,
}

kernel_params! {
    /// One task's read (`dataframe.read`): a file, maybe one row range
    /// of it.
    struct Piece {
        /// Parquet or JSON lines.
        format: Format,
        /// The file (shared by its row groups' pieces).
        path: Arc<str>,
        /// The row range's first row (0 for the whole file).
        first_row: usize,
        /// The rows from `first_row` on, or the whole file.
        rows: Option<usize>,
        /// Only these columns (all when empty).
        columns: Vec<String>,
        /// Rows kept.
        filter: Option<Expr>,
    }
}

fn paths_of(pattern: &str) -> Result<Vec<String>> {
    let paths = store::list(pattern).map_err(|e| DataFrameError::io(pattern, e))?;
    if paths.is_empty() {
        return Err(DataFrameError::Missing(format!("no file matches {pattern:?}")));
    }
    Ok(paths)
}

/// A reader of a whole file: mapped from disk, or fetched from a store.
fn source(location: &str) -> std::io::Result<Box<dyn MmapBytesReader>> {
    if store::is_url(location) {
        Ok(Box::new(std::io::Cursor::new(store::read_all(location)?)))
    } else {
        Ok(Box::new(std::fs::File::open(location)?))
    }
}

/// Columns and types, for messages: `[a: i64, b: str]`.
fn describe(fields: &[(String, String)]) -> String {
    let items: Vec<String> = fields.iter().map(|(n, t)| format!("{n}: {t}")).collect();
    format!("[{}]", items.join(", "))
}

/// Reads the Parquet files `pattern` matches, in name order: a partition
/// per file or per row group, only `columns`, rows kept by `filter`. The
/// files must have the same columns and types (else an error names the
/// first file that differs and both schemas).
pub fn read_parquet(pattern: &str, options: &ParquetOptions) -> Result<DataFrame> {
    let paths = paths_of(pattern)?;
    let mut pieces = Vec::new();
    let mut all_columns: Option<Vec<String>> = None;
    let mut first: Option<(&str, Vec<(String, String)>)> = None;
    for path in &paths {
        let mut reader = ParquetReader::new(source(path).map_err(|e| DataFrameError::io(path, e))?);
        let schema = reader.schema().map_err(|e| DataFrameError::parsing(path, e))?;
        let fields: Vec<(String, String)> =
            schema.iter().map(|(n, f)| (n.to_string(), DataType::from_arrow_field(f).to_string())).collect();
        match &first {
            None => first = Some((path, fields.clone())),
            Some((first_path, want)) if *want != fields => {
                return Err(DataFrameError::Invalid(format!(
                    "{path}: its columns {} differ from those of {first_path}, {}; every file read as one \
                     dataframe must have the same columns, in the same order, of the same types",
                    describe(&fields),
                    describe(want)
                )))
            }
            Some(_) => {}
        }
        let names: Vec<String> = fields.into_iter().map(|(n, _)| n).collect();
        all_columns.get_or_insert(names);
        // Row groups the filter cannot match (by their statistics) are
        // never read.
        let meta = reader.get_metadata().map_err(|e| DataFrameError::parsing(path, e))?.clone();
        let mut first = 0;
        let groups: Vec<((usize, usize), bool)> = meta
            .row_groups
            .iter()
            .map(|rg| {
                let range = (first, rg.num_rows());
                first += rg.num_rows();
                (range, options.filter.as_ref().is_none_or(|f| crate::prune::may_match(&meta, rg, f)))
            })
            .collect();
        let ranges: Vec<Option<(usize, usize)>> = if options.split_row_groups {
            groups.iter().filter(|(_, keep)| *keep).map(|(range, _)| Some(*range)).collect()
        } else if groups.iter().any(|(_, keep)| *keep) || groups.is_empty() {
            vec![None]
        } else {
            Vec::new()
        };
        let shared: Arc<str> = path.as_str().into();
        for range in ranges {
            pieces.push(Piece {
                format: Format::Parquet,
                path: Arc::clone(&shared),
                first_row: range.map_or(0, |(first, _)| first),
                rows: range.map(|(_, rows)| rows),
                columns: options.columns.clone(),
                filter: options.filter.clone(),
            });
        }
    }
    if pieces.is_empty() {
        // Every row group skipped: one empty piece keeps the columns.
        pieces.push(Piece {
            format: Format::Parquet,
            path: paths[0].as_str().into(),
            first_row: 0,
            rows: Some(0),
            columns: options.columns.clone(),
            filter: None,
        });
    }
    let header = all_columns.unwrap_or_default();
    let columns = if options.columns.is_empty() { header.clone() } else { options.columns.clone() };
    check_columns(&columns, &header, options.filter.as_ref())?;
    let mut df = layer_of("read-parquet", pieces, columns)?;
    let (pattern, options) = (pattern.to_string(), options.clone());
    df.reread = Some(Reread(Arc::new(move |keep: &[String]| {
        read_parquet(&pattern, &ParquetOptions { columns: keep.to_vec(), ..options.clone() })
    })));
    Ok(df)
}

/// Reads the JSON-lines files `pattern` matches (one object per line),
/// a partition per file; the columns are the first file's.
pub fn read_json(pattern: &str) -> Result<DataFrame> {
    let paths = paths_of(pattern)?;
    let first = read_json_file(&paths[0]).map_err(|e| DataFrameError::Invalid(e.message))?;
    let columns: Vec<String> = first.get_column_names().iter().map(|c| c.to_string()).collect();
    let pieces = paths
        .iter()
        .map(|p| Piece {
            format: Format::Json,
            path: p.as_str().into(),
            first_row: 0,
            rows: None,
            columns: Vec::new(),
            filter: None,
        })
        .collect();
    layer_of("read-json", pieces, columns)
}

fn check_columns(columns: &[String], header: &[String], filter: Option<&Expr>) -> Result<()> {
    let filtered = filter.map(Expr::columns).unwrap_or_default();
    for c in columns.iter().map(String::as_str).chain(filtered.iter().map(|c| &**c)) {
        if !header.iter().any(|h| h == c) {
            return Err(DataFrameError::NoColumn { column: c.to_string(), columns: header.to_vec() });
        }
    }
    Ok(())
}

fn layer_of(prefix: &str, pieces: Vec<Piece>, columns: Vec<String>) -> Result<DataFrame> {
    let params: Vec<Value> = pieces.iter().map(Piece::to_value).collect();
    let namer = Namer::new(prefix).with(|t| params.tokenize(t));
    let name: Arc<str> = format!("{prefix}-{}", namer.token()).into();
    let tasks: Vec<_> = params
        .into_iter()
        .enumerate()
        .map(|(i, p)| (Key::with_shared_name(&name, &[i as u32]), Task::new(Op::named(&READ, p), vec![])))
        .collect();
    let partitions = tasks.iter().map(|(k, _)| k.clone()).collect();
    Ok(DataFrame::from_layer(Layer::new(name, tasks, Vec::new()), partitions, columns))
}

fn read_json_file(path: &str) -> std::result::Result<PlFrame, TaskError> {
    let fail = |e: &dyn std::fmt::Display| TaskError::new(format!("{path}: {e}"));
    let file = source(path).map_err(|e| fail(&e))?;
    JsonReader::new(file).with_json_format(JsonFormat::JsonLines).finish().map_err(|e| fail(&e))
}

fn read_task(params: &Value, _: Vec<Value>) -> TaskResult {
    let piece = Piece::from_value(params)?;
    let path: &str = &piece.path;
    let fail = |e: &dyn std::fmt::Display| TaskError::new(format!("{}: {e}", piece.path));
    let df = match piece.format {
        Format::Parquet => {
            let file = source(path).map_err(|e| fail(&e))?;
            let columns = (!piece.columns.is_empty()).then(|| piece.columns.clone());
            let mut reader = ParquetReader::new(file).with_slice(piece.rows.map(|rows| (piece.first_row, rows)));
            // The filter may read columns that are not kept.
            let filter_cols: Vec<String> = piece.filter.iter().flat_map(Expr::columns).map(|c| c.to_string()).collect();
            let read_cols = columns.clone().map(|mut cs| {
                cs.extend(filter_cols.iter().filter(|c| !cs.contains(c)).cloned().collect::<Vec<_>>());
                cs
            });
            reader = reader.with_columns(read_cols);
            let df = reader.finish().map_err(|e| fail(&e))?;
            let df = match &piece.filter {
                Some(f) => Step::Filter { predicate: f.clone() }.apply(&df).map_err(|e| fail(&e))?,
                None => df,
            };
            match columns {
                Some(cs) => df.select(cs).map_err(|e| fail(&e))?,
                None => df,
            }
        }
        Format::Json => read_json_file(path)?,
        Format::Csv => return Err(TaskError::internal("CSV is read by dataframe.read_csv, not dataframe.read")),
    };
    Ok(Partition(df).into_value())
}

pub(crate) static READ: NamedFn = NamedFn::new("dataframe.read", read_task).params::<Piece>();

/// A file format partitions are read from or written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// CSV with a header line.
    Csv,
    /// Parquet.
    Parquet,
    /// JSON lines.
    Json,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
            Format::Json => "json",
        }
    }

    fn of_extension(extension: &str) -> Option<Format> {
        [Format::Csv, Format::Parquet, Format::Json].into_iter().find(|f| f.extension() == extension)
    }
}

param_by_name!(Format, Format::extension, Format::of_extension);

kernel_params! {
    /// One partition written: `part.{part}.{format}` in `dir`.
    struct WriteParams {
        format: Format,
        dir: Arc<str>,
        part: usize,
    }
}

impl DataFrame {
    /// The partitions written to `dir` (a path, created, or an `s3://`
    /// URL), one file each (`part.0.parquet`, …), lazily: a frame of the
    /// locations written.
    pub fn write(&self, dir: &str, format: Format) -> Result<DataFrame> {
        let dir: Arc<str> = dir.into();
        let params = |part| WriteParams { format, dir: Arc::clone(&dir), part }.to_value();
        let namer = Namer::new("write").input(&self.layer).add(&*dir).add(format.extension());
        let name: Arc<str> = format!("to-{}-{}", format.extension(), namer.token()).into();
        let tasks: Vec<_> = self
            .partitions
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let task = Task::new(Op::named(&WRITE, params(i)), vec![blockwork_graph::r(k.clone())]);
                (Key::with_shared_name(&name, &[i as u32]), task)
            })
            .collect();
        let partitions = tasks.iter().map(|(k, _)| k.clone()).collect();
        let layer = Layer::new(name, tasks, vec![self.layer.clone()]);
        Ok(DataFrame::from_layer(layer, partitions, vec!["path".into()]))
    }

    /// Writes the partitions to `dir` as Parquet files now (on this
    /// machine's threads); the paths written, in order.
    pub fn to_parquet(&self, dir: &str) -> Result<Vec<String>> {
        paths_written(&self.write(dir, Format::Parquet)?.compute()?)
    }

    /// Writes the partitions to `dir` as CSV files with a header now.
    pub fn to_csv(&self, dir: &str) -> Result<Vec<String>> {
        paths_written(&self.write(dir, Format::Csv)?.compute()?)
    }

    /// Writes the partitions to `dir` as JSON-lines files now.
    pub fn to_json(&self, dir: &str) -> Result<Vec<String>> {
        paths_written(&self.write(dir, Format::Json)?.compute()?)
    }
}

fn paths_written(df: &PlFrame) -> Result<Vec<String>> {
    let paths = df.column("path")?.str()?.clone();
    Ok(paths.iter().flatten().map(str::to_string).collect())
}

fn write_task(params: &Value, inputs: Vec<Value>) -> TaskResult {
    let WriteParams { format, dir, part } = WriteParams::from_value(params)?;
    let [input] = inputs.as_slice() else { return Err(TaskError::new("dataframe.write takes one partition")) };
    let path = store::join(&dir, &format!("part.{part}.{}", format.extension()));
    let fail = |e: &dyn std::fmt::Display| TaskError::new(format!("writing {path}: {e}"));
    let mut df = Partition::of(input)?.clone();
    let mut out: Vec<u8> = Vec::new();
    match format {
        Format::Csv => CsvWriter::new(&mut out).include_header(true).finish(&mut df).map_err(|e| fail(&e))?,
        Format::Parquet => {
            ParquetWriter::new(&mut out).finish(&mut df).map_err(|e| fail(&e))?;
        }
        Format::Json => {
            JsonWriter::new(&mut out).with_json_format(JsonFormat::JsonLines).finish(&mut df).map_err(|e| fail(&e))?
        }
    }
    store::write_all(&path, out).map_err(|e| fail(&e))?;
    let written = Series::new("path".into(), [path.as_str()]).into_column();
    Ok(Partition(PlFrame::new(1, vec![written]).map_err(|e| fail(&e))?).into_value())
}

pub(crate) static WRITE: NamedFn = NamedFn::new("dataframe.write", write_task).params::<WriteParams>();
