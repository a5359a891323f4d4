//! Pseudonymous aliases: a contributor is shown as, say, "Patient Heron 3f2a", never by an
//! account name. The alias is derived from the participant id, so it is stable across
//! imports and needs no lookup.

const ADJECTIVES: [&str; 32] = [
    "Amber", "Brisk", "Calm", "Candid", "Clever", "Curious", "Daring", "Earnest", "Fair", "Gentle",
    "Glad", "Honest", "Humble", "Keen", "Kind", "Lively", "Lucid", "Mellow", "Modest", "Nimble",
    "Patient", "Plain", "Quiet", "Rapid", "Sober", "Steady", "Sunny", "Tidy", "Vivid", "Warm",
    "Wise", "Zesty",
];

const NOUNS: [&str; 32] = [
    "Badger", "Bison", "Crane", "Dolphin", "Falcon", "Finch", "Fox", "Gecko", "Heron", "Ibis",
    "Jackal", "Koala", "Lark", "Lynx", "Marten", "Moose", "Newt", "Otter", "Owl", "Panda",
    "Petrel", "Puffin", "Quail", "Raven", "Robin", "Seal", "Stork", "Swift", "Tern", "Vole",
    "Walrus", "Wren",
];

/// The alias of a participant id: two words and four hex digits from an FNV-1a hash of the
/// id.
pub fn alias_for(participant_id: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in participant_id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let adjective = ADJECTIVES[(hash & 31) as usize];
    let noun = NOUNS[((hash >> 5) & 31) as usize];
    format!("{adjective} {noun} {:04x}", (hash >> 10) & 0xffff)
}

#[cfg(test)]
mod tests {
    use super::alias_for;

    #[test]
    fn aliases_are_stable_and_differ() {
        assert_eq!(alias_for("abc"), alias_for("abc"));
        assert_ne!(alias_for("abc"), alias_for("abd"));
        assert_eq!(alias_for("abc").split(' ').count(), 3);
    }
}
