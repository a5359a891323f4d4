//! `bridgenotes import` and `bridgenotes export`: the database to and from the public
//! download format.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use bridgenotes_format::{ReadOptions, enrollment, history, notes, ratings};
use bridgenotes_storage::PublicData;

use crate::cli::{ExportArgs, ImportArgs};

/// The input in `dir` whose name starts with `prefix`: a folder `prefix/` or exactly one
/// file `prefix*.tsv[.gz]`.
fn find_input(dir: &Path, prefix: &str) -> anyhow::Result<PathBuf> {
    let folder = dir.join(prefix);
    if folder.is_dir() {
        return Ok(folder);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with(prefix) && (name.ends_with(".tsv") || name.ends_with(".tsv.gz"))
        })
        .collect();
    found.sort();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => bail!("{}: no {prefix}*.tsv or {prefix}*.tsv.gz", dir.display()),
        _ => bail!(
            "{}: several {prefix} files; put ratings parts in a folder named {prefix}/",
            dir.display()
        ),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Reads the public download in `dir` (notes, ratings, status history, enrollment).
pub(crate) fn read_public(dir: &Path) -> anyhow::Result<PublicData> {
    let options = ReadOptions {
        headers: true,
        keep_unused_columns: true,
    };
    Ok(PublicData {
        notes: notes::read_notes(&find_input(dir, "notes")?, &options).context("reading notes")?,
        ratings: ratings::read_ratings(&find_input(dir, "ratings")?, &options)
            .context("reading ratings")?,
        status_history: history::read_status_history(
            &find_input(dir, "noteStatusHistory")?,
            &options,
        )
        .context("reading note status history")?,
        enrollment: enrollment::read_enrollment(&find_input(dir, "userEnrollment")?, &options)
            .context("reading user enrollment")?,
    })
}

pub fn import(args: &ImportArgs) -> anyhow::Result<()> {
    let dir = &args.dir;
    let data = read_public(dir)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as i64;
    runtime()?.block_on(async {
        let store = bridgenotes_storage::connect(&args.database.database).await?;
        let counts = store.import(&data, now).await?;
        tracing::info!(?counts, "imported {}", dir.display());
        anyhow::Ok(())
    })
}

pub fn export(args: &ExportArgs) -> anyhow::Result<()> {
    let data = runtime()?.block_on(async {
        let store = bridgenotes_storage::connect(&args.database.database).await?;
        anyhow::Ok(store.snapshot().await?)
    })?;
    let out = &args.out;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    notes::write_notes(&out.join("notes-00000.tsv"), &data.notes)?;
    ratings::write_ratings(&out.join("ratings-00000.tsv"), &data.ratings)?;
    history::write_status_history(
        &out.join("noteStatusHistory-00000.tsv"),
        &data.status_history,
    )?;
    enrollment::write_enrollment(&out.join("userEnrollment-00000.tsv"), &data.enrollment)?;
    tracing::info!(
        notes = data.notes.len(),
        ratings = data.ratings.len(),
        "exported to {}",
        out.display()
    );
    Ok(())
}
