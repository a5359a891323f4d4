//! Opening input files: plain or gzipped, one file or a directory of part files.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use crate::{FormatError, Result};

/// Opens `path` as it is (no decompression), with an error naming it.
pub(crate) fn open_file(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| FormatError::io(path, e))
}

/// Opens `path` for reading, decompressing it when it starts with the gzip magic bytes.
pub fn open(path: &Path) -> Result<Box<dyn Read + Send>> {
    decompressing(open_file(path)?).map_err(|e| FormatError::io(path, e))
}

/// Wraps `input` so that it reads decompressed bytes when it starts with the gzip magic
/// bytes (a gzip stream, or several concatenated), and the bytes themselves otherwise.
/// A truncated or damaged gzip stream reads as an I/O error, never as a short file.
pub fn decompressing<'a>(
    mut input: impl Read + Send + 'a,
) -> std::io::Result<Box<dyn Read + Send + 'a>> {
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match input.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let head = std::io::Cursor::new(magic[..got].to_vec());
    let chained = head.chain(input);
    if got == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(
            BufReader::with_capacity(1 << 16, chained),
        )))
    } else {
        Ok(Box::new(chained))
    }
}

/// The files behind an input argument: the file itself, or for a directory every file in it
/// whose name ends in `.tsv` or `.tsv.gz`, sorted by name (so the order never depends on
/// the file system).
pub fn input_files(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path).map_err(|e| FormatError::io(path, e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| FormatError::io(path, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if (name.ends_with(".tsv") || name.ends_with(".tsv.gz")) && entry.path().is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(FormatError::EmptyDirectory {
            path: path.to_path_buf(),
        });
    }
    Ok(files)
}

/// Total size in bytes of the files behind `path` (for progress displays).
pub fn input_size(path: &Path) -> u64 {
    input_files(path)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}
