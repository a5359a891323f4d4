//! Opening input files: plain or gzipped, one file or a directory of part files.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use crate::{FormatError, Result};

/// Opens `path` for reading, decompressing it when it starts with the gzip magic bytes.
pub fn open(path: &Path) -> Result<Box<dyn Read + Send>> {
    let mut file = File::open(path).map_err(|e| FormatError::io(path, e))?;
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match file.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FormatError::io(path, e)),
        }
    }
    let head = std::io::Cursor::new(magic[..got].to_vec());
    let chained = head.chain(file);
    if got == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(
            BufReader::with_capacity(1 << 20, chained),
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
