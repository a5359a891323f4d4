//! Note requests: readers asking for a note on a post. The scorer does not read them.

/// One row of the note requests file. List columns are kept as the JSON text of the file.
#[derive(Clone, Debug, PartialEq)]
pub struct NoteRequest {
    pub tweet_id: i64,
    pub source_links: String,
    pub suggestions: String,
    pub note_request_feed_eligible_timestamp: i64,
    pub api_small_feed_eligible_timestamp: i64,
    pub api_large_feed_eligible_timestamp: i64,
    pub api_xl_feed_eligible_timestamp: i64,
}
