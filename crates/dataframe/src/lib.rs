//! Partitioned dataframes: many Polars DataFrames as one, as a Dask
//! DataFrame is many pandas DataFrames.
//!
//! ```text
//!  read_csv("part-*.csv")          one partition (task) per file
//!    .groupby(By::Hour("timestamp"))
//!    .mean("value")                 per partition: sum and count per hour
//!                                   tree of combines, 8 at a time
//!                                   finish: sum / count, sorted by hour
//!    .compute()                     → one Polars DataFrame
//! ```
//!
//! Every operation adds one graph layer (`blockwork_graph::layer`), as
//! arrays do; nothing runs until `compute` (threads) or a cluster's
//! `Client::compute(df.graph()?, &df.keys())`. Partitions travel between
//! processes as Arrow IPC ([`register`] registers the codec and the
//! tasks' functions; `blockwork::register_builtins` calls it).
//!
//! This first slice reads CSV piles (one partition per file) and groups
//! by a column or a datetime part with sum, mean, count, min and max.

mod error;
mod frame;
mod groupby;
mod io;
mod partition;

pub use error::{DataFrameError, Result};
pub use frame::DataFrame;
pub use groupby::{Agg, By, GroupBy};
pub use io::{read_csv, read_csv_files, CsvOptions};
pub use partition::Partition;

/// Registers the tasks' functions and the partition codec: what a
/// worker needs to run dataframe tasks.
pub fn register() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        blockwork_graph::register(&io::READ_CSV);
        blockwork_graph::register(&groupby::GROUPBY);
        blockwork_protocol::register_codec(partition::CODEC, partition::encode, partition::decode);
    });
}
