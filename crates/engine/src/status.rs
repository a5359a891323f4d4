//! Note statuses as the reference names them.

use std::fmt;
use std::str::FromStr;

/// The status a scorer (or the meta-scorer) gives a note.
///
/// `FirmReject` and `NeedsYourHelp` are internal statuses that individual models emit; the
/// final status of a note is always one of the first three.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NoteStatus {
    CurrentlyRatedHelpful,
    CurrentlyRatedNotHelpful,
    NeedsMoreRatings,
    FirmReject,
    NeedsYourHelp,
}

impl NoteStatus {
    /// All statuses, in declaration order.
    pub const ALL: [NoteStatus; 5] = [
        NoteStatus::CurrentlyRatedHelpful,
        NoteStatus::CurrentlyRatedNotHelpful,
        NoteStatus::NeedsMoreRatings,
        NoteStatus::FirmReject,
        NoteStatus::NeedsYourHelp,
    ];

    /// The name used in the public files, e.g. `CURRENTLY_RATED_HELPFUL`.
    pub fn as_str(self) -> &'static str {
        match self {
            NoteStatus::CurrentlyRatedHelpful => "CURRENTLY_RATED_HELPFUL",
            NoteStatus::CurrentlyRatedNotHelpful => "CURRENTLY_RATED_NOT_HELPFUL",
            NoteStatus::NeedsMoreRatings => "NEEDS_MORE_RATINGS",
            NoteStatus::FirmReject => "FIRM_REJECT",
            NoteStatus::NeedsYourHelp => "NEEDS_YOUR_HELP",
        }
    }
}

impl fmt::Display for NoteStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for a string that names no known value of an enumeration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?} (expected one of: {expected})")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
    pub expected: String,
}

/// Implements `as_str`/`FromStr`/`Display` for a fieldless enum from a list of names.
macro_rules! named_enum {
    ($ty:ty, $kind:literal, [$($variant:path => $name:literal),+ $(,)?]) => {
        impl $ty {
            /// The spelling used in the public files.
            pub fn name(self) -> &'static str {
                match self { $($variant => $name),+ }
            }
        }
        impl std::str::FromStr for $ty {
            type Err = $crate::status::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok($variant),)+
                    _ => Err($crate::status::UnknownValue {
                        kind: $kind,
                        value: s.to_string(),
                        expected: [$($name),+].join(", "),
                    }),
                }
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}
pub(crate) use named_enum;

impl FromStr for NoteStatus {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NoteStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownValue {
                kind: "note status",
                value: s.to_string(),
                expected: NoteStatus::ALL.map(NoteStatus::as_str).join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in NoteStatus::ALL {
            assert_eq!(status.as_str().parse::<NoteStatus>().unwrap(), status);
        }
        let err = "HELPFUL".parse::<NoteStatus>().unwrap_err();
        assert!(err.to_string().contains("CURRENTLY_RATED_HELPFUL"));
    }
}
