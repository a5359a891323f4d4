//! A binary cache of parsed ratings, so that a second run over the same download skips
//! parsing. The cache file is keyed by the input files' paths, sizes and modification times;
//! a stale, foreign or damaged cache file is ignored (and rewritten), never trusted.

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use bridgenotes_engine::{HelpfulnessLevel, RatingSource, Ratings};

use crate::write::AtomicFile;
use crate::{FormatError, ReadOptions, Result};

const MAGIC: &[u8; 8] = b"BNRATE01";

/// What identifies the inputs: each file's absolute path, size and modification time.
fn cache_key(path: &Path, options: &ReadOptions) -> Result<String> {
    let mut key = format!("headers={};", options.headers);
    for file in crate::source::input_files(path)? {
        let meta = std::fs::metadata(&file).map_err(|e| FormatError::io(&file, e))?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let absolute = std::fs::canonicalize(&file).unwrap_or(file);
        key.push_str(&format!(
            "{}|{}|{};",
            absolute.display(),
            meta.len(),
            modified
        ));
    }
    Ok(key)
}

/// The cache file for `key` in `dir` (the key itself is stored inside and checked on read).
fn cache_file(dir: &Path, key: &str) -> PathBuf {
    // FNV-1a: a stable file name.
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    dir.join(format!("ratings-{hash:016x}.bin"))
}

/// Reads ratings through the cache in `dir`: from the cache file when it matches the inputs,
/// else by parsing them and writing the cache file for next time. Unused columns are not
/// cached (`options.keep_unused_columns` bypasses the cache).
pub fn read_ratings_cached(
    path: &Path,
    options: &ReadOptions,
    dir: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Ratings> {
    if options.keep_unused_columns {
        return crate::ratings::read_ratings_with_progress(path, options, progress);
    }
    let key = cache_key(path, options)?;
    let file = cache_file(dir, &key);
    match load(&file, &key) {
        Ok(Some(ratings)) => {
            tracing::info!("ratings read from the cache {}", file.display());
            progress(ratings.len() as u64);
            return Ok(ratings);
        }
        Ok(None) => {}
        Err(e) => tracing::warn!("ignoring the ratings cache {}: {e}", file.display()),
    }
    let ratings = crate::ratings::read_ratings_with_progress(path, options, progress)?;
    std::fs::create_dir_all(dir).map_err(|e| FormatError::io(dir, e))?;
    store(&file, &key, &ratings)?;
    Ok(ratings)
}

fn level_code(level: Option<HelpfulnessLevel>) -> u8 {
    match level {
        None => 0,
        Some(HelpfulnessLevel::NotHelpful) => 1,
        Some(HelpfulnessLevel::SomewhatHelpful) => 2,
        Some(HelpfulnessLevel::Helpful) => 3,
    }
}

fn source_code(source: Option<RatingSource>) -> u8 {
    match source {
        None => 0,
        Some(RatingSource::Default) => 1,
        Some(RatingSource::PopulationSampled) => 2,
    }
}

fn store(file: &Path, key: &str, r: &Ratings) -> Result<()> {
    let mut out = AtomicFile::create(file)?;
    let mut buf = Vec::with_capacity(1 << 20);
    let flush = |buf: &mut Vec<u8>, out: &mut AtomicFile, force: bool| -> Result<()> {
        if force || buf.len() > 1 << 20 {
            out.write_all(buf)?;
            buf.clear();
        }
        Ok(())
    };
    buf.extend_from_slice(MAGIC);
    buf.extend_from_slice(&(key.len() as u64).to_le_bytes());
    buf.extend_from_slice(key.as_bytes());
    for count in [r.note_ids.len(), r.rater_ids.len(), r.len()] {
        buf.extend_from_slice(&(count as u64).to_le_bytes());
    }
    for id in &r.note_ids {
        buf.extend_from_slice(&id.to_le_bytes());
        flush(&mut buf, &mut out, false)?;
    }
    for id in &r.rater_ids {
        buf.extend_from_slice(&(id.len() as u32).to_le_bytes());
        buf.extend_from_slice(id.as_bytes());
        flush(&mut buf, &mut out, false)?;
    }
    for k in 0..r.len() {
        buf.extend_from_slice(&r.note[k].to_le_bytes());
        buf.extend_from_slice(&r.rater[k].to_le_bytes());
        buf.extend_from_slice(&r.created_at_millis[k].to_le_bytes());
        buf.extend_from_slice(&r.tags[k].to_le_bytes());
        buf.extend_from_slice(&[level_code(r.level[k]), r.flags[k], source_code(r.source[k])]);
        flush(&mut buf, &mut out, false)?;
    }
    flush(&mut buf, &mut out, true)?;
    out.commit()
}

/// Loads a cache file; `Ok(None)` when it is absent or for other inputs.
fn load(file: &Path, key: &str) -> std::io::Result<Option<Ratings>> {
    let handle = match std::fs::File::open(file) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    decode(BufReader::with_capacity(1 << 20, handle), key)
}

/// Decodes the bytes of a cache file: `Ok(None)` when it was written for another `key`, an
/// `InvalidData` or `UnexpectedEof` error when it is not a whole, consistent cache file.
/// The bytes are not trusted: counts and lengths in them are checked against the bytes that
/// follow before anything is allocated for them, and every index is checked.
pub fn decode(mut input: impl Read, key: &str) -> std::io::Result<Option<Ratings>> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let mut magic = [0u8; 8];
    input.read_exact(&mut magic)?;
    if &magic != MAGIC {
        return Err(bad("not a bridgenotes ratings cache"));
    }
    let read_u64 = |input: &mut dyn Read| -> std::io::Result<u64> {
        let mut bytes = [0u8; 8];
        input.read_exact(&mut bytes)?;
        Ok(u64::from_le_bytes(bytes))
    };
    let key_len = read_u64(&mut input)?;
    if key_len != key.len() as u64 {
        return Ok(None);
    }
    let stored = read_bytes(&mut input, key_len)?;
    if stored != key.as_bytes() {
        return Ok(None);
    }
    let (notes, raters, rows) = (
        read_u64(&mut input)?,
        read_u64(&mut input)?,
        read_u64(&mut input)?,
    );
    let mut r = Ratings::default();
    let note_bytes = notes
        .checked_mul(8)
        .ok_or_else(|| bad("note count out of range"))?;
    r.note_ids = read_bytes(&mut input, note_bytes)?
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect();
    for _ in 0..raters {
        let mut len = [0u8; 4];
        input.read_exact(&mut len)?;
        let id = read_bytes(&mut input, u64::from(u32::from_le_bytes(len)))?;
        r.rater_ids
            .push(String::from_utf8(id).map_err(|_| bad("rater id is not UTF-8"))?);
    }
    const ROW: usize = 4 + 4 + 8 + 4 + 3;
    let mut row = [0u8; ROW];
    for _ in 0..rows {
        input.read_exact(&mut row)?;
        let note = u32::from_le_bytes(row[0..4].try_into().expect("4 bytes"));
        let rater = u32::from_le_bytes(row[4..8].try_into().expect("4 bytes"));
        if u64::from(note) >= notes || u64::from(rater) >= raters {
            return Err(bad("index out of range"));
        }
        r.note.push(note);
        r.rater.push(rater);
        r.created_at_millis
            .push(i64::from_le_bytes(row[8..16].try_into().expect("8 bytes")));
        r.tags
            .push(u32::from_le_bytes(row[16..20].try_into().expect("4 bytes")));
        r.level.push(match row[20] {
            0 => None,
            1 => Some(HelpfulnessLevel::NotHelpful),
            2 => Some(HelpfulnessLevel::SomewhatHelpful),
            3 => Some(HelpfulnessLevel::Helpful),
            _ => return Err(bad("bad helpfulness code")),
        });
        r.flags.push(row[21]);
        r.source.push(match row[22] {
            0 => None,
            1 => Some(RatingSource::Default),
            2 => Some(RatingSource::PopulationSampled),
            _ => return Err(bad("bad source code")),
        });
    }
    let mut rest = [0u8; 1];
    if input.read(&mut rest)? != 0 {
        return Err(bad("trailing bytes"));
    }
    Ok(Some(r))
}

/// Reads exactly `len` bytes, growing the buffer only as bytes arrive (a damaged length
/// cannot make it allocate more than the input holds).
fn read_bytes(input: &mut impl Read, len: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    input.take(len).read_to_end(&mut bytes)?;
    if (bytes.len() as u64) < len {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_read_comes_from_the_cache_and_changes_invalidate_it() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("ratings.tsv");
        let mut text = crate::ratings::header();
        let row = |note: i64, rater: &str, level: &str| {
            let mut cells = vec![
                note.to_string(),
                rater.to_string(),
                "1000".into(),
                "2".into(),
            ];
            cells.extend(["0", "0", "0", "0", level].map(String::from));
            cells.extend(std::iter::repeat_n("1".to_string(), 22));
            cells.extend(["7", "POPULATION_SAMPLED", "", ""].map(String::from));
            cells.join("\t") + "\n"
        };
        text += &row(1, "a", "HELPFUL");
        text += &row(2, "b", "");
        std::fs::write(&input, &text).unwrap();
        let cache = dir.path().join("cache");
        let options = ReadOptions::default();
        let parsed = read_ratings_cached(&input, &options, &cache, &|_| {}).unwrap();
        assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1);
        let cached = read_ratings_cached(&input, &options, &cache, &|_| {}).unwrap();
        assert_eq!(cached, parsed);
        assert_eq!(
            cached,
            crate::ratings::read_ratings(&input, &options).unwrap()
        );

        // A changed input is parsed again.
        std::thread::sleep(std::time::Duration::from_millis(20));
        text += &row(3, "a", "NOT_HELPFUL");
        std::fs::write(&input, &text).unwrap();
        assert_eq!(
            read_ratings_cached(&input, &options, &cache, &|_| {})
                .unwrap()
                .len(),
            3
        );

        // A damaged cache file is ignored, not trusted.
        for entry in std::fs::read_dir(&cache).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            std::fs::write(&path, &bytes[..bytes.len() - 5]).unwrap();
        }
        assert_eq!(
            read_ratings_cached(&input, &options, &cache, &|_| {})
                .unwrap()
                .len(),
            3
        );
    }

    /// A cache file's header up to its three counts (notes, raters, rows).
    fn header(key: &str, notes: u64, raters: u64, rows: u64) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&(key.len() as u64).to_le_bytes());
        bytes.extend_from_slice(key.as_bytes());
        for count in [notes, raters, rows] {
            bytes.extend_from_slice(&count.to_le_bytes());
        }
        bytes
    }

    #[test]
    fn damaged_counts_and_lengths_are_errors_not_allocations() {
        // Each of these once overflowed a multiplication or asked the allocator for more
        // memory than exists (an abort) before reading a byte of what the count promised.
        let key = "k";
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("note count overflows", header(key, u64::MAX, 0, 0)),
            ("note count too large", header(key, 1 << 40, 0, 0)),
            ("rater count too large", header(key, 0, 1 << 62, 0)),
            ("row count too large", header(key, 0, 0, u64::MAX)),
            ("rater id too long", {
                let mut bytes = header(key, 0, 1, 0);
                bytes.extend_from_slice(&u32::MAX.to_le_bytes());
                bytes.extend_from_slice(b"abc");
                bytes
            }),
        ];
        for (what, bytes) in cases {
            let error = decode(&bytes[..], key).expect_err(what);
            assert!(
                matches!(
                    error.kind(),
                    std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
                ),
                "{what}: {error}"
            );
        }
        // A key of a damaged length is another input's cache, not an error.
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode(&bytes[..], key).unwrap().is_none());
    }

    #[test]
    fn a_cache_file_with_damaged_counts_is_ignored_and_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("ratings.tsv");
        let mut text = crate::ratings::header();
        text += &format!("1\ta\t1000{}\n", "\t".repeat(32));
        std::fs::write(&input, &text).unwrap();
        let options = ReadOptions::default();
        let cache = dir.path().join("cache");
        std::fs::create_dir(&cache).unwrap();
        let key = cache_key(&input, &options).unwrap();
        let file = cache_file(&cache, &key);
        std::fs::write(&file, header(&key, 1 << 40, 1 << 40, 1 << 40)).unwrap();
        let ratings = read_ratings_cached(&input, &options, &cache, &|_| {}).unwrap();
        assert_eq!(
            ratings,
            crate::ratings::read_ratings(&input, &options).unwrap()
        );
        assert_eq!(
            decode(&std::fs::read(&file).unwrap()[..], &key).unwrap(),
            Some(ratings)
        );
    }
}
