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

/// A reader that reads (and decompresses) ahead on a background thread, so that parsing on
/// the calling threads overlaps with I/O.
pub struct Prefetch {
    blocks: std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    current: Vec<u8>,
    at: usize,
    done: bool,
}

/// Size of the blocks read ahead; two are in flight at most.
const PREFETCH_BLOCK: usize = 8 << 20;

impl Prefetch {
    /// Starts reading `input` ahead.
    pub fn new(mut input: Box<dyn Read + Send>) -> Prefetch {
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        std::thread::spawn(move || {
            loop {
                let mut block = Vec::with_capacity(PREFETCH_BLOCK);
                let result = (&mut input)
                    .take(PREFETCH_BLOCK as u64)
                    .read_to_end(&mut block)
                    .map(|_| ());
                let filled = block.len();
                let last = filled == 0;
                let message = result.map(|()| block);
                let failed = message.is_err();
                // A closed channel means the reader was dropped: stop quietly.
                if tx.send(message).is_err() || last || failed {
                    return;
                }
            }
        });
        Prefetch {
            blocks: rx,
            current: Vec::new(),
            at: 0,
            done: false,
        }
    }
}

impl Read for Prefetch {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.blocks.recv() {
                Ok(Ok(block)) => {
                    self.done = block.is_empty();
                    self.current = block;
                    self.at = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = out.len().min(self.current.len() - self.at);
        out[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
