//! The `bridgenotes` command: a thin shell over the library crates.

mod bench;
mod bench_load;
mod cli;
mod compare;
mod demo;
mod exchange;
mod load;
mod progress;
mod score;
mod serve;
mod synth;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    progress::init_logging(cli.quiet());
    if let Some(threads) = cli.threads() {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()?;
    }
    match cli.command {
        cli::Command::Score(args) => score::run(&args),
        cli::Command::Synth(args) => synth::run(&args),
        cli::Command::Demo(args) => demo::run(&args),
        cli::Command::BenchParse(args) => bench::parse(&args),
        cli::Command::BenchScore(args) => bench::score(&args),
        cli::Command::BenchLoad(args) => bench_load::run(&args),
        cli::Command::Compare(args) => compare::run(&args),
        cli::Command::Serve(args) => serve::run(&args),
        cli::Command::Import(args) => exchange::import(&args),
        cli::Command::Export(args) => exchange::export(&args),
    }
}
