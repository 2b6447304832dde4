//! The `blockwork` command.

mod demo;

use clap::{Parser, Subcommand};

/// blockwork: parallel computing for scientific data.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the demo: a delayed pipeline, then a big graph of no-op tasks
    /// with a progress bar and a profile.
    Demo(demo::DemoArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo(args) => demo::run(args),
    }
}
