//! The binary ratings cache decoder on arbitrary bytes. The key a cache file must carry is
//! taken from the input itself (bytes 16.. after the 8-byte magic and 8-byte key length), so
//! that the fuzzer reaches the counts, ids and rows behind it.
#![no_main]

use bridgenotes_format::cache::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = data
        .get(8..16)
        .map(|len| u64::from_le_bytes(len.try_into().expect("8 bytes")))
        .and_then(|len| data.get(16..16usize.checked_add(usize::try_from(len).ok()?)?))
        .and_then(|key| std::str::from_utf8(key).ok())
        .unwrap_or("");
    if let Ok(Some(ratings)) = decode(data, key) {
        // Every index the decoder accepted must be usable.
        for i in 0..ratings.len() {
            let _ = ratings.row(i);
        }
    }
});
