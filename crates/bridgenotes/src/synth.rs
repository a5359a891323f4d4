//! `bridgenotes synth`.

use bridgenotes_synth::SynthParams;

use crate::cli::SynthArgs;
use crate::progress;

pub fn run(args: &SynthArgs) -> anyhow::Result<()> {
    let params = SynthParams {
        notes: args.notes,
        raters: args.raters,
        ratings: args.ratings.unwrap_or(args.notes * 20),
        seed: args.seed,
        epoch_millis: args.epoch_millis,
        ..SynthParams::default()
    }
    .validate()?;
    std::fs::create_dir_all(&args.out)?;
    let bar = progress::counter(args.common.quiet, "synth", "ratings");
    let summary = bridgenotes_synth::write_community(&params, &args.out, &|n| bar.set_position(n))?;
    bar.finish_and_clear();
    tracing::info!(
        notes = summary.notes,
        raters = summary.raters,
        ratings = summary.ratings,
        "wrote a synthetic community to {}",
        args.out.display()
    );
    Ok(())
}
