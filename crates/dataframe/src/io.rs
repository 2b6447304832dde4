//! Reading CSV piles: one partition per file, or per block of a big file
//! (`blocksize`), with the columns' types inferred once from a sample of
//! the first rows so that every partition has the same schema.

use std::path::PathBuf;
use std::sync::Arc;

use blockwork_graph::layer::{Layer, Namer};
use blockwork_graph::{kernel_params, KernelParams, Key, NamedFn, Op, Task, TaskError, TaskResult, Tokenize, Value};
use polars::prelude::{
    Column, CsvReadOptions, DataFrame as PlFrame, DataType, Float64Chunked, IntoColumn, IntoSeries, NewChunkedArray,
    NullValues, PlSmallStr, Schema, SerReader, StringChunked,
};

use crate::error::{DataFrameError, Result};
use crate::frame::{DataFrame, Reread};
use crate::lit::DType;
use crate::partition::Partition;
use blockwork_store as store;

/// How [`read_csv`] reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// Columns to parse as datetimes (pandas' `parse_dates`), by the
    /// ISO-like fixed-layout parser: `2000-01-31`, `2000-01-31 12:00:00`,
    /// `2000-01-31T12:00:00.250`.
    pub parse_dates: Vec<String>,
    /// Column types that override the inferred ones (pandas' `dtype`).
    pub dtypes: Vec<(String, DType)>,
    /// Only these columns, in the file's order (pandas' `usecols`); all
    /// when empty.
    pub usecols: Vec<String>,
    /// Files larger than this many bytes are cut into blocks of about
    /// this size, one partition each (dask's `blocksize`; `None`: one
    /// partition per file). Dask's 64 MiB by default.
    pub blocksize: Option<u64>,
    /// Field texts read as missing in every column (pandas'
    /// `na_values`): pandas' defaults, [`NA_VALUES`], unless changed. An
    /// empty field is always missing, and so is a float field that
    /// parses as NaN (`nan` is NaN to pandas, which counts NaN as
    /// missing).
    pub na_values: Vec<String>,
    /// More field texts read as missing in some columns (pandas'
    /// `na_values` given as a dict), on top of [`CsvOptions::na_values`].
    pub column_na_values: Vec<(String, Vec<String>)>,
}

/// The field texts pandas' `read_csv` reads as missing by default.
pub const NA_VALUES: [&str; 18] = [
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL",
    "NaN", "None", "n/a", "nan", "null",
];

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            parse_dates: Vec::new(),
            dtypes: Vec::new(),
            usecols: Vec::new(),
            blocksize: Some(DEFAULT_BLOCKSIZE),
            na_values: NA_VALUES.iter().map(|t| t.to_string()).collect(),
            column_na_values: Vec::new(),
        }
    }
}

/// Dask's default block size.
pub const DEFAULT_BLOCKSIZE: u64 = 64 << 20;

impl CsvOptions {
    /// The texts read as missing in column `name` besides
    /// [`CsvOptions::na_values`].
    fn own_missing<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a String> {
        self.column_na_values.iter().filter(move |(c, _)| c == name).flat_map(|(_, t)| t)
    }

    /// Options parsing `columns` as datetimes.
    pub fn parse_dates(columns: &[&str]) -> Self {
        CsvOptions { parse_dates: columns.iter().map(|c| c.to_string()).collect(), ..Default::default() }
    }
}

/// Reads the CSV files `pattern` matches (`*`/`?` in the file name), in
/// name order: local paths or `s3://bucket/dir/part-*.csv`. Every file
/// has a header; the columns are the first file's.
pub fn read_csv(pattern: &str, options: &CsvOptions) -> Result<DataFrame> {
    let locations = store::list(pattern).map_err(|e| DataFrameError::io(pattern, e))?;
    if locations.is_empty() {
        return Err(DataFrameError::Missing(format!("no file matches {pattern:?}")));
    }
    read_csv_locations(&locations, options)
}

/// Reads the CSV files `paths`, in this order.
pub fn read_csv_files(paths: &[PathBuf], options: &CsvOptions) -> Result<DataFrame> {
    read_csv_locations(&paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(), options)
}

kernel_params! {
    /// What a read task (`dataframe.read_csv`) reads: a byte range of a
    /// file, the schema to read it with, the columns to parse as dates,
    /// and the columns to keep.
    struct Block {
        /// The file (shared by its blocks).
        path: Arc<str>,
        start: u64,
        end: u64,
        /// The file's columns, in order.
        names: Vec<String>,
        /// Their types.
        dtypes: Vec<DType>,
        dates: Vec<String>,
        usecols: Vec<String>,
        /// Field texts read as missing in every column.
        na: Vec<String>,
        /// More of them, per column (aligned with `names`).
        column_na: Vec<Vec<String>>,
    }
}

impl Block {
    /// Each column's name and type.
    fn schema(&self) -> ColumnTypes {
        self.names.iter().cloned().zip(self.dtypes.iter().copied()).collect()
    }

    /// The texts read as missing in column `i`.
    fn missing(&self, i: usize) -> impl Iterator<Item = &str> {
        self.na.iter().chain(self.column_na.get(i).into_iter().flatten()).map(String::as_str)
    }

    /// Whether column `i` has missing texts of its own.
    fn has_own_missing(&self, i: usize) -> bool {
        self.column_na.get(i).is_some_and(|t| !t.is_empty())
    }
}

/// Reads the CSV files (paths or URLs) `paths`, in this order.
fn read_csv_locations(paths: &[String], options: &CsvOptions) -> Result<DataFrame> {
    if paths.is_empty() {
        return Err(DataFrameError::Invalid("read_csv_files was given no file".into()));
    }
    let (header, schema) = infer_schema(paths, options)?;
    let named = options.parse_dates.iter().chain(&options.usecols).chain(options.dtypes.iter().map(|(c, _)| c));
    for c in named.chain(options.column_na_values.iter().map(|(c, _)| c)) {
        if !header.contains(c) {
            return Err(DataFrameError::NoColumn { column: c.clone(), columns: header.clone() });
        }
    }
    let (names, dtypes): (Vec<String>, Vec<DType>) = schema.into_iter().unzip();
    let column_na: Vec<Vec<String>> = names.iter().map(|n| options.own_missing(n).cloned().collect()).collect();
    let mut reads = Vec::new();
    for path in paths {
        let len = store::len(path).map_err(|e| DataFrameError::io(path, e))?;
        let shared: Arc<str> = path.as_str().into();
        let block = options.blocksize.unwrap_or(u64::MAX).max(1);
        let mut start: u64 = 0;
        loop {
            let end = start.saturating_add(block).min(len);
            reads.push(Block {
                path: Arc::clone(&shared),
                start,
                end,
                names: names.clone(),
                dtypes: dtypes.clone(),
                dates: options.parse_dates.clone(),
                usecols: options.usecols.clone(),
                na: options.na_values.clone(),
                column_na: column_na.clone(),
            });
            if end >= len {
                break;
            }
            start = end;
        }
    }
    let params: Vec<Value> = reads.iter().map(Block::to_value).collect();
    let namer = Namer::new("read-csv").with(|t| params.tokenize(t));
    let name: Arc<str> = format!("read-csv-{}", namer.token()).into();
    let tasks: Vec<_> = params
        .into_iter()
        .enumerate()
        .map(|(i, p)| (Key::with_shared_name(&name, &[i as u32]), Task::new(Op::named(&READ_CSV, p), vec![])))
        .collect();
    let partitions = tasks.iter().map(|(k, _)| k.clone()).collect();
    let columns = if options.usecols.is_empty() {
        header
    } else {
        header.into_iter().filter(|c| options.usecols.contains(c)).collect()
    };
    let mut df = DataFrame::from_layer(Layer::new(name, tasks, Vec::new()), partitions, columns);
    let (paths, options) = (paths.to_vec(), options.clone());
    df.reread = Some(Reread(Arc::new(move |keep: &[String]| {
        read_csv_locations(&paths, &CsvOptions { usecols: keep.to_vec(), ..options.clone() })
    })));
    Ok(df)
}

/// Each column's name and type, in the file's order.
type ColumnTypes = Vec<(String, DType)>;

/// Bytes read for the header and the sample of types.
const SAMPLE_BYTES: u64 = 1 << 20;

/// The first file's header, and the column types from the first rows of
/// the first files that have rows (1000 rows, as far as 8 files): Polars'
/// inference with the missing texts of every column, or ours
/// ([`text_type`]) for a column with missing texts of its own; date
/// columns read as text (then parsed); the user's types over both.
fn infer_schema(paths: &[String], options: &CsvOptions) -> Result<(Vec<String>, ColumnTypes)> {
    let mut header: Option<Vec<String>> = None;
    let mut inferred: Option<(PlFrame, Vec<u8>)> = None;
    let missing = null_values(&options.na_values);
    let sample = |bytes: &[u8], path: &str, texts: bool| {
        CsvReadOptions::default()
            .map_parse_options(|o| o.with_null_values(Some(missing.clone())))
            .with_has_header(true)
            .with_n_rows(Some(1000))
            .with_infer_schema_length(Some(if texts { 0 } else { 1000 }))
            // Rows past the sample may not fit the inferred types; that
            // is found (and reported by line) when they are read.
            .with_ignore_errors(true)
            .with_n_threads(Some(1))
            .into_reader_with_file_handle(std::io::Cursor::new(bytes))
            .finish()
            .map_err(|e| DataFrameError::parsing(path, e))
    };
    for path in paths.iter().take(8) {
        let mut bytes = Vec::new();
        store::read_range(path, 0, SAMPLE_BYTES, &mut bytes).map_err(|e| DataFrameError::io(path, e))?;
        let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        let names: Vec<String> = String::from_utf8_lossy(first)
            .trim_end_matches(['\n', '\r'])
            .split(',')
            .map(|c| c.trim_matches('"').to_string())
            .collect();
        if names.iter().all(|n| n.trim().is_empty()) {
            return Err(DataFrameError::Invalid(format!("{path}: no header line")));
        }
        header.get_or_insert(names);
        // Whole lines only.
        if bytes.len() as u64 >= SAMPLE_BYTES {
            let end = memchr::memrchr(b'\n', &bytes).map_or(bytes.len(), |i| i + 1);
            bytes.truncate(end);
        }
        let frame = sample(&bytes, path, false)?;
        let has_rows = frame.height() > 0;
        inferred = Some((frame, bytes));
        if has_rows {
            break;
        }
    }
    let header = header.unwrap_or_default();
    let (frame, bytes) = inferred.unwrap_or_default();
    let texts = if options.column_na_values.is_empty() { None } else { Some(sample(&bytes, &paths[0], true)?) };
    let mut schema = Vec::with_capacity(header.len());
    for name in &header {
        let own: Vec<&str> = options.own_missing(name).map(String::as_str).collect();
        let dtype = if let Some((_, d)) = options.dtypes.iter().find(|(c, _)| c == name) {
            *d
        } else if options.parse_dates.contains(name) {
            DType::Datetime
        } else if let (false, Some(texts)) = (own.is_empty(), &texts) {
            texts.column(name).ok().and_then(|c| c.str().ok()).map_or(DType::Str, |c| text_type(c, &own))
        } else {
            match frame.column(name).map(|c| c.dtype().clone()) {
                Ok(DataType::Int64 | DataType::Int32) => DType::Int64,
                Ok(DataType::Float64 | DataType::Float32) => DType::Float64,
                Ok(DataType::Boolean) => DType::Bool,
                // Empty samples and text: text.
                _ => DType::Str,
            }
        };
        schema.push((name.clone(), dtype));
    }
    Ok((header, schema))
}

/// The type of a column of texts once `missing` are missing: integers,
/// floats or booleans when every other text is one, else text.
fn text_type(c: &StringChunked, missing: &[&str]) -> DType {
    let present: Vec<&str> = c.iter().flatten().filter(|t| !missing.contains(t)).collect();
    let all = |f: fn(&str) -> bool| !present.is_empty() && present.iter().all(|t| f(t));
    if all(|t| t.parse::<i64>().is_ok()) {
        DType::Int64
    } else if all(|t| t.parse::<f64>().is_ok()) {
        DType::Float64
    } else if all(|t| t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("false")) {
        DType::Bool
    } else {
        DType::Str
    }
}

/// Fetches bytes `[start - 1, end)` of a file in a store, and past
/// `end` up to the end of its line, into `bytes`; returns the byte
/// `bytes[0]` stands for. [`line_bounds`] then cuts the block's lines
/// out, as it does for a mapped local file.
fn fetch_block(path: &str, start: u64, end: u64, bytes: &mut Vec<u8>) -> std::io::Result<u64> {
    let len = store::len(path)?;
    let (base, end) = (start.saturating_sub(1), end.min(len));
    store::read_range_of(path, Some(len), base, end, bytes)?;
    // Slack past `end`, a piece at a time, until the last line's newline is in.
    let mut at = end;
    while at < len && bytes.last() != Some(&b'\n') {
        let before = bytes.len();
        store::read_range_of(path, Some(len), at, at + 8192, bytes)?;
        at += (bytes.len() - before) as u64;
        if let Some(i) = memchr::memchr(b'\n', &bytes[before..]) {
            bytes.truncate(before + i + 1);
        }
    }
    Ok(base)
}

/// The 1-based number of the line starting at byte `offset`.
fn line_of(path: &str, offset: u64) -> std::io::Result<usize> {
    let mut lines = 1;
    let mut at = 0;
    while at < offset {
        let mut piece = Vec::new();
        store::read_range(path, at, (at + (1 << 20)).min(offset), &mut piece)?;
        if piece.is_empty() {
            break;
        }
        at += piece.len() as u64;
        lines += memchr::memchr_iter(b'\n', &piece).count();
    }
    Ok(lines)
}

fn read_csv_task(params: &Value, _: Vec<Value>) -> TaskResult {
    let read = Block::from_value(params)?;
    let types = read.schema();
    let path: &str = &read.path;
    let keep = |c: &String| read.usecols.is_empty() || read.usecols.contains(c);
    // Dates, and columns with missing texts of their own, are read as
    // text, then parsed.
    let schema: Schema = types
        .iter()
        .enumerate()
        .map(|(i, (c, d))| {
            let text = read.dates.contains(c) || matches!(d, DType::Date | DType::Datetime) || read.has_own_missing(i);
            (PlSmallStr::from(c.as_str()), if text { DataType::String } else { d.polars() })
        })
        .collect();
    let columns: Arc<[PlSmallStr]> = types.iter().filter(|(c, _)| keep(c)).map(|(c, _)| c.as_str().into()).collect();
    let fail = |e: &dyn std::fmt::Display| TaskError::new(format!("reading {path}: {e}"));
    if !store::is_url(path) {
        // A local file is mapped, not copied: the kernel's copy out of the
        // page cache would cost as much as a fifth of the parsing.
        let file = std::fs::File::open(path).map_err(|e| fail(&e))?;
        if file.metadata().map_err(|e| fail(&e))?.len() == 0 {
            return parse_block(&read, &types, &[], 0, schema, columns);
        }
        let map = polars::polars_utils::mmap::MMapSemaphore::new_from_file(&file).map_err(|e| fail(&e))?;
        let bytes: &[u8] = map.as_ref();
        let (lo, hi) = line_bounds(bytes, read.start as usize, read.end as usize);
        return parse_block(&read, &types, &bytes[lo..hi], lo as u64, schema, columns);
    }
    let mut bytes = Vec::new();
    let base = fetch_block(path, read.start, read.end, &mut bytes).map_err(|e| fail(&e))?;
    let (lo, hi) = line_bounds(&bytes, (read.start - base) as usize, (read.end - base) as usize);
    parse_block(&read, &types, &bytes[lo..hi], base + lo as u64, schema, columns)
}

/// The lines of `bytes[start..end]` a block reads: from
/// the first line that starts in it (the header skipped) to the end of
/// the line holding `end - 1`.
fn line_bounds(bytes: &[u8], start: usize, end: usize) -> (usize, usize) {
    let len = bytes.len();
    let (start, end) = (start.min(len), end.min(len));
    let hi =
        if end == 0 || end >= len { len } else { memchr::memchr(b'\n', &bytes[end - 1..]).map_or(len, |i| end + i) };
    let lo = if start > 0 && bytes[start - 1] == b'\n' {
        start
    } else {
        memchr::memchr(b'\n', &bytes[start..]).map_or(len, |i| start + i + 1)
    };
    (lo.min(hi), hi)
}

/// The rows of a block: by the plain reader when it can, by Polars
/// otherwise (dates then parsed here). `types`: the block's columns and
/// their types; `offset`: the block's place in the file, to number lines
/// in errors.
fn parse_block(
    read: &Block,
    types: &[(String, DType)],
    bytes: &[u8],
    offset: u64,
    schema: Schema,
    columns: Arc<[PlSmallStr]>,
) -> TaskResult {
    let path: &str = &read.path;
    let keep = |c: &String| read.usecols.is_empty() || read.usecols.contains(c);
    let first_line = || line_of(path, offset).unwrap_or(0);
    let keep_mask: Vec<bool> = types.iter().map(|(c, _)| keep(c)).collect();
    let missing: Vec<Vec<&str>> = (0..types.len()).map(|i| read.missing(i).collect()).collect();
    if let Some(df) = crate::csv_fast::read(bytes, types, &keep_mask, &missing) {
        return Ok(Partition(df).into_value());
    }
    let df = if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        // A block (or file) without rows: Polars wants at least one line.
        PlFrame::empty_with_schema(&schema)
            .select(columns.iter().cloned())
            .map_err(|e| TaskError::new(e.to_string()))?
    } else {
        let na = null_values(&read.na);
        CsvReadOptions::default()
            .map_parse_options(|o| o.with_null_values(Some(na.clone())))
            .with_has_header(false)
            .with_schema(Some(Arc::new(schema)))
            .with_columns(Some(columns))
            .with_n_threads(Some(1))
            .with_rechunk(false)
            .into_reader_with_file_handle(std::io::Cursor::new(bytes))
            .finish()
            .map_err(|e| TaskError::new(diagnose(path, bytes, first_line(), types, &missing, &e.to_string())))?
    };
    let mut cols: Vec<Column> = Vec::with_capacity(df.width());
    for c in df.columns() {
        let Some(i) = types.iter().position(|(n, _)| n == c.name().as_str()) else {
            cols.push(c.clone());
            continue;
        };
        let dtype = Some(types[i].1);
        let c = &if read.has_own_missing(i) { own_missing(c, &missing[i], types[i].1, path)? } else { c.clone() };
        if !matches!(dtype, Some(DType::Date | DType::Datetime)) {
            cols.push(nan_as_missing(c).map_err(|e| TaskError::new(format!("reading {path}: {e}")))?);
            continue;
        }
        let parsed = crate::dates::parse_datetimes(c.str().map_err(|e| TaskError::new(e.to_string()))?).map_err(
            |(row, text)| {
                TaskError::new(format!(
                    "{path}, line {}, column {:?}: {text:?} is not a date",
                    first_line() + row,
                    c.name().as_str()
                ))
            },
        )?;
        let parsed = if dtype == Some(DType::Date) {
            parsed.cast(&DataType::Date).map_err(|e| TaskError::new(e.to_string()))?
        } else {
            parsed
        };
        cols.push(parsed.into_column());
    }
    let df = PlFrame::new(df.height(), cols).map_err(|e| TaskError::new(e.to_string()))?;
    Ok(Partition(df).into_value())
}

/// Polars' form of texts read as missing in every column.
fn null_values(texts: &[String]) -> NullValues {
    NullValues::AllColumns(texts.iter().map(|t| PlSmallStr::from(t.as_str())).collect())
}

/// Column `c`, read as text, with its missing texts made missing, then
/// cast to its type (dates are left as text: the caller parses them).
fn own_missing(c: &Column, missing: &[&str], dtype: DType, path: &str) -> std::result::Result<Column, TaskError> {
    let name = c.name().as_str();
    let fail = |e: &dyn std::fmt::Display| TaskError::new(format!("{path}, column {name:?}: {e}"));
    let text = c.str().map_err(|e| fail(&e))?;
    let kept =
        StringChunked::from_iter_options(c.name().clone(), text.iter().map(|v| v.filter(|v| !missing.contains(v))));
    if matches!(dtype, DType::Str | DType::Date | DType::Datetime) {
        return Ok(kept.into_column());
    }
    kept.into_series()
        .strict_cast(&dtype.polars())
        .map(IntoColumn::into_column)
        .map_err(|_| fail(&format_args!("a field is not {} (pass a type in CsvOptions::dtypes)", dtype.name())))
}

/// A float column with its NaN made missing, as pandas counts them
/// (other columns as they are).
fn nan_as_missing(c: &Column) -> polars::prelude::PolarsResult<Column> {
    let keep = |x: Option<f64>| x.filter(|x| !x.is_nan());
    Ok(match c.dtype() {
        DataType::Float64 => {
            let ca = c.f64()?;
            if !ca.iter().any(|x| x.is_some_and(f64::is_nan)) {
                return Ok(c.clone());
            }
            Float64Chunked::from_iter_options(c.name().clone(), ca.iter().map(keep)).into_column()
        }
        DataType::Float32 => {
            let wide = c.cast(&DataType::Float64)?;
            nan_as_missing(&wide)?.cast(&DataType::Float32)?
        }
        _ => c.clone(),
    })
}

/// Finds the line and column Polars' error is about: the first line with
/// more fields than the header, or a field that does not parse as its
/// column's type. Falls back to Polars' message. `missing`: each
/// column's texts read as missing.
fn diagnose(
    path: &str,
    bytes: &[u8],
    first_line: usize,
    schema: &[(String, DType)],
    missing: &[Vec<&str>],
    polars: &str,
) -> String {
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = String::from_utf8_lossy(line);
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        let at = first_line + i;
        if fields.len() > schema.len() {
            return format!(
                "{path}, line {at}: {} fields where the header has {} ({:?})",
                fields.len(),
                schema.len(),
                schema.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>()
            );
        }
        for (((column, dtype), field), missing) in schema.iter().zip(&fields).zip(missing) {
            let f = field.trim().trim_matches('"');
            let ok = f.is_empty()
                || missing.contains(&f)
                || match dtype {
                    DType::Int32 | DType::Int64 => f.parse::<i64>().is_ok(),
                    DType::Float32 | DType::Float64 => f.parse::<f64>().is_ok() || f.eq_ignore_ascii_case("nan"),
                    DType::Bool => matches!(f.to_ascii_lowercase().as_str(), "true" | "false"),
                    _ => true,
                };
            if !ok {
                return format!(
                    "{path}, line {at}, column {column:?}: {f:?} is not {} (pass a type in CsvOptions::dtypes)",
                    dtype.name()
                );
            }
        }
    }
    format!("{path}: {polars}")
}

pub(crate) static READ_CSV: NamedFn = NamedFn::new("dataframe.read_csv", read_csv_task).params::<Block>();
