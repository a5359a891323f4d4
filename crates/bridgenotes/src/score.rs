//! `bridgenotes score`.

use anyhow::bail;
use bridgenotes_format::ReadOptions;

use crate::cli::ScoreArgs;
use crate::load::{InputPaths, load};

pub fn run(args: &ScoreArgs) -> anyhow::Result<()> {
    let options = ReadOptions {
        headers: !args.noheaders,
        keep_unused_columns: false,
    };
    let paths = InputPaths {
        notes: &args.notes,
        ratings: &args.ratings,
        status: &args.status,
        enrollment: &args.enrollment,
    };
    let inputs = load(&paths, &options, args.common.quiet)?;
    tracing::info!(
        notes = inputs.notes.len(),
        ratings = inputs.ratings.len(),
        raters = inputs.ratings.rater_ids.len(),
        status_history = inputs.status_history.len(),
        enrollment = inputs.enrollment.len(),
        "inputs are valid"
    );
    bail!(
        "the inputs are valid, but the reference scoring pipeline is not implemented yet \
         (see README.md, \"Status\"); no output was written to {}",
        args.outdir.display()
    )
}
