//! Partitioned dataframes: many Polars DataFrames as one, as a Dask
//! DataFrame is many pandas DataFrames.
//!
//! ```text
//!  read_csv("part-*.csv", parse_dates)  one partition per file (or block)
//!    .groupby(&[col("timestamp").dt().hour()])
//!    .mean(&["value"])                   per partition: sum and count per hour
//!                                        tree of merges, 8 at a time
//!                                        finish: sum / count, sorted by hour
//!    .compute()                          → one Polars DataFrame
//! ```
//!
//! Every operation adds one graph layer (`blockwork_graph::layer`), as
//! arrays do; nothing runs until `compute` (threads) or a cluster's
//! `Client::compute(df.graph()?, &df.keys())`. Column expressions
//! ([`Expr`]: `col("value") * 2`, `col("t").dt().hour()`) are data, sent
//! with the tasks and evaluated on each partition by Polars' kernels.
//! Partitions travel between processes as Arrow IPC ([`register`]
//! registers the codec and the tasks' functions;
//! `blockwork::register_builtins` calls it).

mod agg;
mod approx;
pub mod arrow;
mod csv_fast;
mod dates;
mod error;
mod expr;
mod formats;
mod frame;
mod groupby;
mod io;
mod lit;
mod merge;
mod ops;
mod param;
mod partition;
mod prune;
mod records;
mod series;
mod shuffle;
mod sort;
mod timeseries;
mod tree;

/// The Polars this crate is built on (partitions are its DataFrames).
pub use polars;

pub use agg::{Agg, Aggregation};
pub use error::{DataFrameError, Result};
pub use expr::{col, lit, parse_duration, BinOp, DtAccessor, DtOp, Expr, StrAccessor, StrOp, UnaryOp};
pub use formats::{read_json, read_parquet, Format, ParquetOptions};
pub use frame::{compute_many, DataFrame};
pub use groupby::GroupBy;
pub use io::{read_csv, read_csv_files, CsvOptions, DEFAULT_BLOCKSIZE, NA_VALUES};
pub use lit::{DType, Lit};
pub use merge::{How, SUFFIX};
pub use partition::Partition;
pub use records::from_records;
pub use series::{Scalar, Series};
pub use shuffle::concat_frames as concat;
pub use sort::Index;
pub use timeseries::Window;

/// Registers the tasks' functions and the partition codec: what a
/// worker needs to run dataframe tasks.
pub fn register() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        blockwork_graph::register(&io::READ_CSV);
        blockwork_graph::register(&ops::MAP);
        blockwork_graph::register(&formats::READ);
        blockwork_graph::register(&formats::WRITE);
        blockwork_graph::register(&shuffle::SPLIT);
        blockwork_graph::register(&shuffle::PIECE);
        blockwork_graph::register(&shuffle::STACK);
        blockwork_graph::register(&merge::JOIN);
        blockwork_graph::register(&sort::SAMPLE_FN);
        blockwork_graph::register(&approx::APPROX);
        blockwork_graph::register(&timeseries::ROLLING);
        blockwork_graph::register(&timeseries::FILL_BINS);
        blockwork_graph::register(&groupby::AGG);
        blockwork_graph::register(&records::FROM_RECORDS);
        blockwork_graph::register_codec(partition::CODEC, partition::encode, partition::decode);
    });
}
