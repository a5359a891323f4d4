//! Command-line arguments. `score` accepts the reference scorer's `main.py` flags so that
//! bridgenotes can replace it in existing scripts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "bridgenotes",
    version,
    about = "Community Notes: scorer, synthetic communities and demo"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    pub fn quiet(&self) -> bool {
        match &self.command {
            Command::Score(a) => a.common.quiet,
            Command::Synth(a) => a.common.quiet,
            Command::Demo(a) => a.common.quiet,
            Command::BenchParse(a) => a.common.quiet,
            Command::BenchScore(a) => a.common.quiet,
            Command::BenchLoad(a) => a.common.quiet,
            Command::Compare(a) => a.common.quiet,
            Command::Serve(a) => a.common.quiet,
            Command::Import(a) => a.common.quiet,
            Command::Export(a) => a.common.quiet,
        }
    }

    pub fn threads(&self) -> Option<usize> {
        match &self.command {
            Command::Score(a) => a.common.threads,
            Command::Synth(a) => a.common.threads,
            Command::Demo(a) => a.common.threads,
            Command::BenchParse(a) => a.common.threads,
            Command::BenchScore(a) => a.common.threads,
            Command::BenchLoad(a) => a.common.threads,
            Command::Compare(a) => a.common.threads,
            Command::Serve(a) => a.common.threads,
            Command::Import(a) => a.common.threads,
            Command::Export(a) => a.common.threads,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Score a public data download (notes, ratings, status history, enrollment).
    Score(ScoreArgs),
    /// Write a synthetic polarized community in the public download format.
    Synth(SynthArgs),
    /// Synthesize a small community and score it: the quickest look at bridgenotes.
    Demo(DemoArgs),
    /// Benchmark: parse a ratings file and compare with a plain streaming pass over it.
    BenchParse(BenchParseArgs),
    /// Benchmark: synthesize communities of given sizes, score them, and report per-stage
    /// times, throughput, peak memory and ratios (see BENCHMARKS.md).
    BenchScore(BenchScoreArgs),
    /// Benchmark: load the service with concurrent raters for a bounded time and report
    /// requests per second, latency percentiles and errors (see BENCHMARKS.md).
    BenchLoad(BenchLoadArgs),
    /// Compare two scoring output folders (ours and the reference's, or two runs): statuses,
    /// model parameters and per-column agreement. A report: exits 0 even when they differ.
    Compare(CompareArgs),
    /// Run the service: the JSON API under /api and scheduled scoring.
    Serve(ServeArgs),
    /// Load a public data download (notes, ratings, status history, enrollment) into the
    /// database.
    Import(ImportArgs),
    /// Write the database in the public download format.
    Export(ExportArgs),
}

/// Flags every command takes.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// No progress display, warnings and errors only.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct ScoreArgs {
    /// Notes file (.tsv or .tsv.gz).
    #[arg(short = 'n', long)]
    pub notes: PathBuf,
    /// Ratings file, or a directory of ratings part files.
    #[arg(short = 'r', long)]
    pub ratings: PathBuf,
    /// Note status history file.
    #[arg(short = 's', long)]
    pub status: PathBuf,
    /// User enrollment file.
    #[arg(short = 'e', long)]
    pub enrollment: PathBuf,
    /// Output directory.
    #[arg(short = 'o', long)]
    pub outdir: PathBuf,
    /// The scoring time ("now"), in milliseconds since the epoch. Default: the clock.
    #[arg(long)]
    pub epoch_millis: Option<f64>,
    /// Seed for random initialization.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Input files have a header line (default).
    #[arg(long, overrides_with = "noheaders")]
    pub headers: bool,
    /// Input files have no header line: columns in public order.
    #[arg(long)]
    pub noheaders: bool,
    /// Run pseudo-rater uncertainty refits (default).
    #[arg(long, overrides_with = "nopseudoraters")]
    pub pseudoraters: bool,
    /// Skip pseudo-rater refits.
    #[arg(long)]
    pub nopseudoraters: bool,
    /// Keep a binary copy of the parsed ratings here and reuse it while the ratings files are
    /// unchanged (skips parsing on later runs).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Comma-separated scorer names to run, e.g. `MFCoreScorer,MFExpansionScorer` (default:
    /// all). A Gaussian scorer also needs the scorer whose prescoring it reads.
    #[arg(long, value_delimiter = ',')]
    pub scorers: Vec<String>,
    /// Write the run's stage timings, counts and peak memory to this JSON file.
    #[arg(long)]
    pub timings: Option<PathBuf>,
    /// Memory the scorers running side by side may hold together, e.g. `8G`, `512M`:
    /// scorers wait for room rather than all start at once. `auto` (default): three
    /// quarters of the memory available once the inputs are loaded; `none`: no limit.
    /// Results do not depend on it.
    #[arg(long, default_value = "auto", value_parser = parse_memory_budget)]
    pub memory_budget: MemoryBudget,
    #[command(flatten)]
    pub common: Common,
}

/// `--memory-budget`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryBudget {
    /// A share of the memory available when scoring starts.
    Auto,
    /// No limit beyond one scorer per thread.
    Unlimited,
    Bytes(u64),
}

/// Parses `auto`, `none`, or a size in bytes with an optional binary suffix (`K`, `M`, `G`,
/// `T`, optionally followed by `iB` or `B`; fractions allowed: `1.5G`).
pub fn parse_memory_budget(text: &str) -> Result<MemoryBudget, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "auto" => return Ok(MemoryBudget::Auto),
        "none" => return Ok(MemoryBudget::Unlimited),
        _ => {}
    }
    let trimmed = text.trim();
    let digits = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(digits);
    let scale: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        "T" | "TB" | "TIB" => 1 << 40,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?} (expected e.g. 512M, 8G, auto or none)"
            ));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (expected e.g. 512M, 8G, auto or none)"))?;
    let bytes = value * scale as f64;
    if !bytes.is_finite() || bytes < 1.0 {
        return Err(format!("{text:?}: the budget must be at least one byte"));
    }
    Ok(MemoryBudget::Bytes(bytes as u64))
}

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// Number of notes.
    #[arg(long, default_value_t = 1000)]
    pub notes: usize,
    /// Number of raters.
    #[arg(long, default_value_t = 300)]
    pub raters: usize,
    /// Number of ratings (default: 20 per note).
    #[arg(long)]
    pub ratings: Option<usize>,
    /// Random seed; the same seed gives byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The dataset's "now", in milliseconds since the epoch.
    #[arg(long, default_value_t = 1_795_132_800_000)]
    pub epoch_millis: i64,
    /// Output directory (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Where to write the demo community and its scores.
    #[arg(long, default_value = "bridgenotes-demo")]
    pub out: PathBuf,
    /// Where the demo's web pages and API listen.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Only write and score the files; do not start the server.
    #[arg(long)]
    pub no_serve: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Args, Debug)]
pub struct BenchParseArgs {
    /// Ratings file or directory (plain or gzipped).
    pub ratings: PathBuf,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Args, Debug)]
pub struct BenchScoreArgs {
    /// Dataset sizes, in ratings (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [1_000_000usize])]
    pub sizes: Vec<usize>,
    /// Where synthesized datasets and outputs are kept (reused by later runs).
    #[arg(long, default_value = "target/bench-data")]
    pub data: PathBuf,
    /// A golden dataset folder (with MANIFEST.json, input/): also score it and compare time
    /// and memory with the reference's recorded run.
    #[arg(long)]
    pub golden: Option<PathBuf>,
    /// With --golden: also run the reference scorer on that dataset now, side by side. The
    /// folder holding its `main.py` (`scoring/src` of a twitter/communitynotes checkout,
    /// with its Python requirements installed). Its outputs go to
    /// `--data`/golden-reference-out, for `bridgenotes compare`.
    #[arg(long, requires = "golden")]
    pub reference: Option<PathBuf>,
    /// The Python interpreter that runs --reference.
    #[arg(long, default_value = "python3", requires = "reference")]
    pub python: PathBuf,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Args, Debug)]
pub struct BenchLoadArgs {
    /// A running server to load (default: serve --database in this process, rate limit off).
    #[arg(long)]
    pub url: Option<String>,
    /// The server's administrator token (with --url; default: BRIDGENOTES_ADMIN_TOKEN).
    #[arg(long)]
    pub admin_token: Option<String>,
    /// The database to serve without --url: `postgres://…` or an SQLite file (created if
    /// missing; each run adds its contributors, posts and notes).
    #[arg(long, default_value = "bench-load.db")]
    pub database: String,
    /// Concurrent raters, each a contributor of its own sending one request at a time.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// How long the raters run, in seconds.
    #[arg(long, default_value_t = 30.0)]
    pub seconds: f64,
    /// Stop after this many rating requests in all (default: only the time bounds the run).
    #[arg(long)]
    pub max_requests: Option<u64>,
    /// Notes seeded for the raters (three per writer).
    #[arg(long, default_value_t = 60)]
    pub notes: usize,
    /// Seed of the raters' choices.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also write the report to this JSON file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Our output folder: scored_notes, helpfulness_scores, note_status_history and
    /// aux_note_info, each as NAME.tsv or NAME.tsv.gz (missing files are reported).
    pub ours: PathBuf,
    /// The output folder to compare with, e.g. the reference scorer's.
    pub theirs: PathBuf,
    /// Print the report as JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    /// How many disagreeing notes (and keys found on one side only) to list.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    #[command(flatten)]
    pub common: Common,
}

/// The database, for the commands that use one.
#[derive(Args, Debug, Clone)]
pub struct DatabaseArg {
    /// `postgres://user@host:port/database`, or an SQLite file (`sqlite:PATH` or a path).
    #[arg(long, default_value = "bridgenotes.db")]
    pub database: String,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    #[command(flatten)]
    pub database: DatabaseArg,
    /// Score every this many minutes (0: only when an administrator asks).
    #[arg(long, default_value_t = 60)]
    pub score_every: u64,
    /// The administrator token (default: the BRIDGENOTES_ADMIN_TOKEN environment variable).
    #[arg(long)]
    pub admin_token: Option<String>,
    /// Requests per second each API token may make on average.
    #[arg(long, default_value_t = 50.0)]
    pub rate_limit: f64,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Folder of the download: notes*, ratings* (files or a folder of parts),
    /// noteStatusHistory* and userEnrollment* (.tsv or .tsv.gz).
    pub dir: PathBuf,
    #[command(flatten)]
    pub database: DatabaseArg,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Output folder (created if missing); each file is replaced atomically.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub database: DatabaseArg,
    #[command(flatten)]
    pub common: Common,
}

#[cfg(test)]
mod tests {
    use super::{MemoryBudget, parse_memory_budget};

    #[test]
    fn memory_budgets_read_with_binary_units() {
        let bytes = |text| parse_memory_budget(text).unwrap();
        assert_eq!(bytes("auto"), MemoryBudget::Auto);
        assert_eq!(bytes("None"), MemoryBudget::Unlimited);
        assert_eq!(bytes("4096"), MemoryBudget::Bytes(4096));
        assert_eq!(bytes("512M"), MemoryBudget::Bytes(512 << 20));
        assert_eq!(bytes("8GiB"), MemoryBudget::Bytes(8 << 30));
        assert_eq!(bytes("1.5g"), MemoryBudget::Bytes(3 << 29));
        assert_eq!(bytes("2 T"), MemoryBudget::Bytes(2 << 40));
        for bad in ["", "lots", "8X", "0", "1e3M", "-1G"] {
            let err = parse_memory_budget(bad).unwrap_err();
            assert!(err.contains(bad), "{bad}: {err}");
        }
    }
}
