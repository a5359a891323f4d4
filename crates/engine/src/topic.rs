//! Note topics. Notes on some topics are scored by topic models instead of the core model.

use crate::status::named_enum;

/// A topic a note can be assigned to (the reference's `Topics` enum, without `Unassigned`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    UkraineConflict,
    GazaConflict,
    MessiRonaldo,
    Scams,
    InDimensionTwo,
}

named_enum!(Topic, "noteTopic", [
    Topic::UkraineConflict => "UkraineConflict",
    Topic::GazaConflict => "GazaConflict",
    Topic::MessiRonaldo => "MessiRonaldo",
    Topic::Scams => "Scams",
    Topic::InDimensionTwo => "InDimensionTwo",
]);

impl Topic {
    /// The reference's numeric id (1–5; 0 is "unassigned").
    pub fn id(self) -> u8 {
        self as u8 + 1
    }
}
