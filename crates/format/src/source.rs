//! Opening input files: plain or gzipped, one file or a directory of part files.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::ops::Range;
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

/// An opened input file: mapped into memory (a plain file), or a stream of its bytes
/// (a gzipped file, or one that cannot be mapped).
pub(crate) enum Input {
    Mapped(MappedFile),
    Stream(Box<dyn Read + Send>),
}

/// A plain file mapped read-only into memory.
///
/// Its bytes are the file's: a file truncated or rewritten by another process while it is
/// mapped can end the run with a bus error, as with any memory-mapped reader.
pub(crate) struct MappedFile {
    map: memmap2::Mmap,
}

impl MappedFile {
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map
    }
}

/// What a reader of bytes held in memory tells the memory about its progress. The unit
/// type (plain memory) ignores it.
pub(crate) trait Pages {
    /// `range` has been read and will not be read again.
    fn done(&self, _range: Range<usize>) {}
}

impl Pages for () {}

/// The pages that end inside `range` (the one it starts in included: a reader going
/// forward has read the rest of that page already), as an offset and a length.
#[cfg(unix)]
fn pages_read(range: Range<usize>) -> Option<(usize, usize)> {
    const PAGE: usize = 4096;
    let start = range.start / PAGE * PAGE;
    let end = range.end / PAGE * PAGE;
    (end > start).then_some((start, end - start))
}

impl Pages for MappedFile {
    /// Hands the pages read back, so they no longer count toward the process's memory
    /// (they stay in the page cache).
    fn done(&self, range: Range<usize>) {
        #[cfg(unix)]
        if let Some((offset, len)) = pages_read(range) {
            // SAFETY: the map is read-only and file-backed, and nothing reads these pages
            // again; were they read, they would be faulted back in from the file.
            let _ = unsafe {
                self.map
                    .unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, len)
            };
        }
        #[cfg(not(unix))]
        let _ = range;
    }
}

/// Opens `path` mapped into memory when it is a non-empty plain (not gzipped) file, and as
/// a (decompressing) stream otherwise.
pub(crate) fn open_mapped(path: &Path) -> Result<Input> {
    let io = |e| FormatError::io(path, e);
    let mut file = open_file(path)?;
    let len = file.metadata().map_err(io)?.len();
    let mut magic = [0u8; 2];
    let got = file.read(&mut magic).map_err(io)?;
    let gzipped = got == 2 && magic == [0x1f, 0x8b];
    if !gzipped && len > 0 {
        // SAFETY: the map is read-only; see `MappedFile` on files changed while mapped.
        if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
            #[cfg(unix)]
            let _ = map.advise(memmap2::Advice::Sequential);
            return Ok(Input::Mapped(MappedFile { map }));
        }
    }
    file.rewind().map_err(io)?;
    Ok(Input::Stream(decompressing(file).map_err(io)?))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn pages_read_end_inside_the_range_and_include_the_first() {
        assert_eq!(pages_read(0..4095), None);
        assert_eq!(pages_read(100..8192), Some((0, 8192)));
        assert_eq!(pages_read(4097..12_000), Some((4096, 4096)));
        assert_eq!(pages_read(8191..8193), Some((4096, 4096)));
    }

    #[test]
    fn plain_files_are_mapped_and_gzipped_or_empty_ones_streamed() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain.tsv");
        std::fs::write(&plain, b"a\tb\n1\t2\n").unwrap();
        match open_mapped(&plain).unwrap() {
            Input::Mapped(map) => assert_eq!(map.bytes(), b"a\tb\n1\t2\n"),
            Input::Stream(_) => panic!("a plain file is mapped"),
        }
        let empty = dir.path().join("empty.tsv");
        std::fs::write(&empty, b"").unwrap();
        assert!(matches!(open_mapped(&empty).unwrap(), Input::Stream(_)));
        let gz = dir.path().join("plain.tsv.gz");
        let mut encoder =
            flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), Default::default());
        std::io::Write::write_all(&mut encoder, b"a\tb\n").unwrap();
        encoder.finish().unwrap();
        match open_mapped(&gz).unwrap() {
            Input::Stream(mut input) => {
                let mut text = String::new();
                input.read_to_string(&mut text).unwrap();
                assert_eq!(text, "a\tb\n");
            }
            Input::Mapped(_) => panic!("a gzipped file is streamed"),
        }
    }
}
