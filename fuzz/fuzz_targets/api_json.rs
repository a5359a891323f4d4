//! The JSON request bodies of the service API (every request type) on arbitrary bytes,
//! and the pure checks the handlers run on what deserializes.
#![no_main]

use bridgenotes_engine::{Classification, EnrollmentState, HelpfulnessLevel};
use bridgenotes_service::api::{NewContributorIn, NewNoteIn, NewPostIn, NoteRequestIn, RatingIn};
use bridgenotes_service::rules;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(note) = serde_json::from_slice::<NewNoteIn>(data) {
        let _ = note.classification.parse::<Classification>();
        let _ = note.post_id.parse::<i64>();
        for misleading in [true, false] {
            let _ = rules::check_note_text(&note.summary, misleading);
        }
        let urls = rules::source_urls(&note.summary);
        assert!(urls.iter().all(|url| note.summary.contains(url)));
        assert!(rules::summary_length(&note.summary) <= note.summary.chars().count());
    }
    if let Ok(rating) = serde_json::from_slice::<RatingIn>(data) {
        let _ = rating.helpfulness_level.parse::<HelpfulnessLevel>();
    }
    if let Ok(contributor) = serde_json::from_slice::<NewContributorIn>(data)
        && let Some(state) = contributor.enrollment_state
    {
        let _ = state.parse::<EnrollmentState>();
    }
    let _ = serde_json::from_slice::<NewPostIn>(data);
    let _ = serde_json::from_slice::<NoteRequestIn>(data);
});
