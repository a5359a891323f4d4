//! Ids for new notes and posts, shaped like the public data's (a millisecond timestamp in
//! the high bits, a sequence below), strictly increasing and above every id in the database.

use std::sync::Mutex;

/// The epoch of the public ids (2010-11-04).
const ID_EPOCH_MILLIS: i64 = 1_288_834_974_657;

/// Hands out increasing ids.
#[derive(Debug)]
pub struct IdGenerator {
    last: Mutex<i64>,
}

impl IdGenerator {
    /// A generator whose ids are all above `floor` (the largest id already stored).
    pub fn new(floor: i64) -> Self {
        IdGenerator {
            last: Mutex::new(floor),
        }
    }

    /// The next id at time `now_millis`.
    pub fn next(&self, now_millis: i64) -> i64 {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let from_time = (now_millis - ID_EPOCH_MILLIS).max(0) << 22;
        *last = from_time.max(*last + 1);
        *last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_even_when_time_stands_still() {
        let ids = IdGenerator::new(0);
        let a = ids.next(1_700_000_000_000);
        let b = ids.next(1_700_000_000_000);
        assert!(b > a && a > 1 << 60);
        let high = IdGenerator::new(i64::MAX / 2);
        assert_eq!(high.next(0), i64::MAX / 2 + 1);
    }
}
