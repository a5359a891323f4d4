//! `bridgenotes demo`: the README's first command.

use crate::cli::DemoArgs;

pub fn run(_args: &DemoArgs) -> anyhow::Result<()> {
    anyhow::bail!("demo: not implemented yet")
}
