//! The log of blockwork's programs. The crates write their log lines as
//! `tracing` events (each at a level, its target the module it comes
//! from); a program decides where they go by installing a subscriber. The
//! command line and the Python package install this one.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// One line per event: `blockwork: message`, the level named unless it is
/// `INFO` (`blockwork: warning: worker w1: lost the scheduler …`).
struct Lines;

impl<S, N> FormatEvent<S, N> for Lines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut w: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        w.write_str("blockwork: ")?;
        match *event.metadata().level() {
            Level::INFO => {}
            Level::WARN => w.write_str("warning: ")?,
            Level::ERROR => w.write_str("error: ")?,
            Level::DEBUG => w.write_str("debug: ")?,
            Level::TRACE => w.write_str("trace: ")?,
        }
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

/// The filter of `RUST_LOG` (`info` when unset): `warn`,
/// `blockwork_runtime::worker=debug,info`, … A value that does not parse
/// is said so, and `info` is used.
fn filter() -> EnvFilter {
    match std::env::var("RUST_LOG") {
        Err(_) => EnvFilter::new("info"),
        Ok(spec) => EnvFilter::try_new(&spec).unwrap_or_else(|e| {
            eprintln!("blockwork: warning: RUST_LOG={spec:?} is not a log filter ({e}); logging at info");
            EnvFilter::new("info")
        }),
    }
}

/// Writes blockwork's log to standard error, one line per event, filtered
/// by `RUST_LOG`. Does nothing when the program has installed a
/// subscriber of its own (or called this before).
pub fn init_logging() {
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter()).with_writer(std::io::stderr).event_format(Lines).try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_name_the_level_and_the_filter_applies() {
        let out = Buffer::default();
        let sink = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new("warn,blockwork::logging::tests::chatty=debug"))
            .with_writer(move || sink.clone())
            .event_format(Lines)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("not shown");
            tracing::warn!("worker w1: lost the scheduler");
            tracing::error!(key = "x", "task failed");
            tracing::debug!(target: "blockwork::logging::tests::chatty", "shown at debug");
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            "blockwork: warning: worker w1: lost the scheduler\nblockwork: error: task failed key=\"x\"\nblockwork: debug: shown at debug\n"
        );
    }
}
