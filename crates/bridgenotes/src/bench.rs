//! `bridgenotes bench-parse`: ratings parse throughput against a baseline that only reads
//! the same bytes and counts lines (the I/O and decompression bound).

use std::io::Read;
use std::time::Instant;

use anyhow::Context;
use bridgenotes_format::{ReadOptions, ratings, source};

use crate::cli::BenchParseArgs;

/// Reads every byte behind `path` and counts line ends.
fn streaming_pass(path: &std::path::Path) -> anyhow::Result<u64> {
    let mut lines = 0u64;
    let mut buf = vec![0u8; 8 << 20];
    for file in source::input_files(path)? {
        let mut input = source::open(&file)?;
        loop {
            let n = input
                .read(&mut buf)
                .with_context(|| file.display().to_string())?;
            if n == 0 {
                break;
            }
            lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        }
    }
    Ok(lines)
}

pub fn parse(args: &BenchParseArgs) -> anyhow::Result<()> {
    let threads = rayon::current_num_threads();
    let started = Instant::now();
    let lines = streaming_pass(&args.ratings)?;
    let baseline = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let table = ratings::read_ratings(&args.ratings, &ReadOptions::default())?;
    let parse = started.elapsed().as_secs_f64();
    let rows = table.len() as f64;
    println!(
        "ratings:          {} rows ({} lines), {} raters, {} notes",
        table.len(),
        lines,
        table.rater_ids.len(),
        table.note_ids.len()
    );
    println!(
        "streaming pass:   {baseline:.2} s ({:.1} M lines/s)",
        lines as f64 / baseline / 1e6
    );
    println!(
        "parse:            {parse:.2} s ({:.2} M rows/s, {:.2} M rows/s per thread, {threads} threads)",
        rows / parse / 1e6,
        rows / parse / 1e6 / threads as f64
    );
    println!("ratio parse / streaming pass: {:.2}", parse / baseline);
    Ok(())
}
