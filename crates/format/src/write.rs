//! Atomic output files and the TSV cell rules of the reference's pandas writer.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use bridgenotes_engine::{ColumnValues, Table};

use crate::float;
use crate::{FormatError, Result};

enum Sink {
    Plain(BufWriter<File>),
    Gzip(flate2::write::GzEncoder<BufWriter<File>>),
}

/// A file written to a temporary name beside its target and renamed over the target by
/// [`AtomicFile::commit`]. Dropped without a commit, it leaves the target untouched and
/// removes the temporary file. A target name ending in `.gz` is gzip-compressed.
pub struct AtomicFile {
    sink: Sink,
    temp: tempfile::TempPath,
    target: PathBuf,
}

impl AtomicFile {
    /// Starts writing `target` (its directory must exist).
    pub fn create(target: &Path) -> Result<AtomicFile> {
        let dir = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            .tempfile_in(dir)
            .map_err(|e| FormatError::io(target, e))?;
        let (file, temp) = temp.into_parts();
        // Temporary files are private (0600); the finished file is an ordinary one.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o644))
                .map_err(|e| FormatError::io(target, e))?;
        }
        let buffered = BufWriter::with_capacity(1 << 20, file);
        let sink = if name.ends_with(".gz") {
            Sink::Gzip(flate2::write::GzEncoder::new(
                buffered,
                flate2::Compression::fast(),
            ))
        } else {
            Sink::Plain(buffered)
        };
        Ok(AtomicFile {
            sink,
            temp,
            target: target.to_path_buf(),
        })
    }

    /// The file this will become.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Writes bytes.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        let result = match &mut self.sink {
            Sink::Plain(w) => w.write_all(bytes),
            Sink::Gzip(w) => w.write_all(bytes),
        };
        result.map_err(|e| FormatError::io(&self.target, e))
    }

    /// Flushes, syncs and renames the file over its target.
    pub fn commit(self) -> Result<()> {
        let target = self.target;
        let io = |e| FormatError::io(&target, e);
        let writer = match self.sink {
            Sink::Plain(w) => w,
            Sink::Gzip(w) => w.finish().map_err(io)?,
        };
        let file = writer.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        self.temp.persist(&target).map_err(|e| io(e.error))?;
        Ok(())
    }
}

/// Appends a text cell, double-quoted (with inner quotes doubled) when it holds a tab, a
/// quote or a line break, as pandas does.
pub fn push_text_cell(out: &mut String, text: &str) {
    if text.contains(['\t', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(text);
    }
}

/// Appends a text cell the way the public download writes it: as is, unless it holds a tab
/// or line break or starts with a quote (then quoted as [`push_text_cell`] does). Quotes
/// inside a field stay bare, which readers take literally.
pub fn push_public_text(out: &mut String, text: &str) {
    if text.contains(['\t', '\n', '\r']) || text.starts_with('"') {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(text);
    }
}

/// Appends an integer.
pub fn push_int(out: &mut String, value: i64) {
    out.push_str(itoa::Buffer::new().format(value));
}

/// Appends one cell of `values` at `row`, as the reference prints it.
fn push_cell(out: &mut String, values: &ColumnValues, row: usize) {
    match values {
        ColumnValues::Int(v) => {
            if let Some(x) = v.get(row) {
                push_int(out, x)
            }
        }
        ColumnValues::F32(v) => {
            if let Some(x) = v.get(row) {
                float::push_f32(out, x)
            }
        }
        ColumnValues::F64(v) => {
            if let Some(x) = v.get(row) {
                float::push_f64(out, x)
            }
        }
        ColumnValues::Bool(v) => {
            if let Some(x) = v[row] {
                out.push_str(if x { "True" } else { "False" })
            }
        }
        ColumnValues::Str(v) => {
            if let Some(x) = &v[row] {
                push_text_cell(out, x)
            }
        }
        ColumnValues::Missing(_) => {}
    }
}

fn push_header(out: &mut String, table: &Table) {
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    out.push_str(&names.join("\t"));
    out.push('\n');
}

fn push_row(out: &mut String, table: &Table, row: usize) {
    for (i, column) in table.columns.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        push_cell(out, &column.values, row);
    }
    out.push('\n');
}

/// Renders a table as TSV text: a header line, then one line per row.
pub fn table_to_tsv(table: &Table) -> String {
    let mut out = String::new();
    push_header(&mut out, table);
    for row in 0..table.rows() {
        push_row(&mut out, table, row);
    }
    out
}

/// Writes a header and one line per item atomically to `path`; `push_line` appends an
/// item's line (with its newline) to a buffer that is flushed every 64 KiB.
pub fn write_lines<T>(
    path: &Path,
    header: &str,
    items: impl IntoIterator<Item = T>,
    mut push_line: impl FnMut(&mut String, T),
) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    let mut text = String::from(header);
    for item in items {
        push_line(&mut text, item);
        if text.len() > 1 << 16 {
            file.write_all(text.as_bytes())?;
            text.clear();
        }
    }
    file.write_all(text.as_bytes())?;
    file.commit()
}

/// Writes a table atomically to `path`.
pub fn write_table(path: &Path, table: &Table) -> Result<()> {
    table_file(path, table)?.commit()
}

/// Writes a table to a temporary file that becomes `path` on [`AtomicFile::commit`].
fn table_file(path: &Path, table: &Table) -> Result<AtomicFile> {
    let mut file = AtomicFile::create(path)?;
    let mut text = String::new();
    push_header(&mut text, table);
    for row in 0..table.rows() {
        push_row(&mut text, table, row);
        if text.len() > 1 << 16 {
            file.write_all(text.as_bytes())?;
            text.clear();
        }
    }
    file.write_all(text.as_bytes())?;
    Ok(file)
}

/// Writes several tables as one set: every file is written in full to a temporary name
/// first, and only then are they renamed over their targets, so a run that dies while
/// writing leaves every previous file as it was.
pub fn write_tables(tables: &[(&Path, &Table)]) -> Result<()> {
    let files = tables
        .iter()
        .map(|(path, table)| table_file(path, table))
        .collect::<Result<Vec<_>>>()?;
    files.into_iter().try_for_each(AtomicFile::commit)
}

/// Removes temporary files that an interrupted run left beside `targets` (names of the form
/// `.NAME.*.partial`). Returns how many were removed.
pub fn remove_stale_partials(targets: &[&Path]) -> Result<usize> {
    let mut removed = 0;
    for target in targets {
        let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
            continue;
        };
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let prefix = format!(".{}.", name.to_string_lossy());
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            if file.starts_with(&prefix) && file.ends_with(".partial") {
                std::fs::remove_file(entry.path()).map_err(|e| FormatError::io(target, e))?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_sets_replace_targets_and_stale_partials_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.tsv"), dir.path().join("b.tsv"));
        std::fs::write(&a, "old\n").unwrap();
        std::fs::write(dir.path().join(".a.tsv.x1.partial"), "half").unwrap();
        std::fs::write(dir.path().join(".other.tsv.x1.partial"), "keep").unwrap();
        assert_eq!(remove_stale_partials(&[&a, &b]).unwrap(), 1);
        assert!(dir.path().join(".other.tsv.x1.partial").exists());
        let mut t = Table::default();
        t.push("id", ColumnValues::Int(vec![Some(1)].into()));
        write_tables(&[(&a, &t), (&b, &t)]).unwrap();
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "id\n1\n");
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "id\n1\n");
        let leftovers = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                name.to_string_lossy().starts_with(".a.tsv")
            })
            .count();
        assert_eq!(leftovers, 0);
    }

    #[test]
    fn cells_render_like_pandas() {
        let mut t = Table::default();
        t.push("id", ColumnValues::Int(vec![Some(1), None].into()));
        t.push("x32", ColumnValues::F32(vec![Some(0.1), None].into()));
        t.push(
            "x64",
            ColumnValues::F64(vec![Some(1787901748795.0), Some(1e-5)].into()),
        );
        t.push("ok", ColumnValues::Bool(vec![Some(true), Some(false)]));
        t.push(
            "text",
            ColumnValues::Str(vec![Some("a\t\"b\"".into()), None]),
        );
        t.push("gone", ColumnValues::missing(2));
        assert_eq!(
            table_to_tsv(&t),
            "id\tx32\tx64\tok\ttext\tgone\n1\t0.1\t1787901748795.0\tTrue\t\"a\t\"\"b\"\"\"\t\n\t\t1e-05\tFalse\t\t\n"
        );
    }

    #[test]
    fn uncommitted_files_leave_the_target_alone() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.tsv");
        std::fs::write(&target, "old").unwrap();
        {
            let mut f = AtomicFile::create(&target).unwrap();
            f.write_all(b"new").unwrap();
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temporary file removed"
        );
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
    }
}
