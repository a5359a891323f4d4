//! Turning the four input tables into a [`Community`], as the reference's
//! `preprocess_data` does: duplicate ratings removed, `helpfulNum` derived, high-volume
//! raters flagged, notes merged into the status history, and ratings of notes the scorer
//! ignores dropped.

use std::collections::HashMap;

use crate::community::{Community, CommunityNote, Participant, ScoringRatings};
use crate::numeric::numpy_quantile;
use crate::{Classification, Enrollment, Note, RatingSource, Ratings, StatusHistoryRow};

/// Notes written before the "not misleading" UI launched (2022-10-03) are not scored.
pub const NOT_MISLEADING_UI_LAUNCH_MILLIS: i64 = 1_664_755_200_000;
/// Below this many distinct rated notes the data is "test data": no high-volume flags.
pub const MIN_NOTES_FOR_PROD_DATA: usize = 200;
/// Quantile of recent rating counts above which a rater is high-volume.
pub const HIGH_VOLUME_QUANTILE: f64 = 0.999;
const DAY_MILLIS: i64 = 86_400_000;

/// Why the inputs cannot be scored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PrepareError {
    #[error("rater {rater} rated note {note_id} twice, with different values")]
    DuplicateRating { note_id: i64, rater: String },
    #[error("note {note_id} appears twice in the notes file with different values")]
    DuplicateNote { note_id: i64 },
    #[error("note {note_id} appears twice in the note status history")]
    DuplicateHistory { note_id: i64 },
    #[error("participant {participant_id} appears twice in the enrollment file")]
    DuplicateEnrollment { participant_id: String },
    #[error("note {note_id}: {field} differs between the notes file and the note status history")]
    HistoryMismatch { note_id: i64, field: &'static str },
}

/// What preprocessing removed or flagged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrepareReport {
    pub duplicate_ratings: usize,
    pub ratings_without_value: usize,
    pub ratings_of_unscored_notes: usize,
    pub duplicate_notes: usize,
    pub high_volume_raters: usize,
}

/// Orders participant ids as the reference's integer codes do.
fn sorted_participants(ids: impl Iterator<Item = String>) -> Vec<String> {
    let mut ids: Vec<String> = ids.collect();
    let numeric: Option<Vec<i64>> = ids.iter().map(|id| id.parse::<i64>().ok()).collect();
    match numeric {
        Some(_) => ids.sort_by_key(|id| id.parse::<i64>().expect("checked numeric")),
        None => ids.sort(),
    }
    ids.dedup();
    ids
}

/// Raters whose rating count in the last 7 or 28 days (before the latest rating) is above
/// the 0.999 quantile of such counts.
fn high_volume_raters(
    rater: &[u32],
    created: &[i64],
    distinct_notes: usize,
    raters: usize,
) -> Vec<bool> {
    let mut flagged = vec![false; raters];
    let Some(&latest) = created.iter().max() else {
        return flagged;
    };
    if distinct_notes < MIN_NOTES_FOR_PROD_DATA {
        return flagged;
    }
    for days in [7, 28] {
        let cutoff = latest - days * DAY_MILLIS;
        let mut counts = vec![0u32; raters];
        for (&u, &t) in rater.iter().zip(created) {
            if t > cutoff {
                counts[u as usize] += 1;
            }
        }
        let mut active: Vec<f64> = counts
            .iter()
            .filter(|&&c| c > 0)
            .map(|&c| c as f64)
            .collect();
        if let Some(threshold) = numpy_quantile(&mut active, HIGH_VOLUME_QUANTILE) {
            for (flag, &count) in flagged.iter_mut().zip(&counts) {
                *flag |= count > 0 && count as f64 > threshold;
            }
        }
    }
    flagged
}

/// Prepares the inputs for scoring.
pub fn prepare(
    notes: Vec<Note>,
    ratings: Ratings,
    history: Vec<StatusHistoryRow>,
    enrollment: Vec<Enrollment>,
) -> Result<(Community, PrepareReport), PrepareError> {
    let mut report = PrepareReport::default();

    // Participants, in the reference's code order.
    let ids = notes
        .iter()
        .map(|n| n.author.clone())
        .chain(ratings.rater_ids.iter().cloned())
        .chain(history.iter().map(|h| h.author.clone()))
        .chain(enrollment.iter().map(|e| e.participant_id.clone()));
    let ids = sorted_participants(ids);
    let index: HashMap<&str, u32> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i as u32))
        .collect();
    let mut enrollment_of: Vec<Option<Enrollment>> = vec![None; ids.len()];
    for e in enrollment {
        let slot = &mut enrollment_of[index[e.participant_id.as_str()] as usize];
        if slot.is_some() {
            return Err(PrepareError::DuplicateEnrollment {
                participant_id: e.participant_id,
            });
        }
        *slot = Some(e);
    }

    // Notes: exact duplicates dropped, then ids must be unique; merged with the history.
    let mut notes = notes;
    notes.sort_by_key(|n| n.note_id);
    let before = notes.len();
    notes.dedup();
    report.duplicate_notes = before - notes.len();
    if let Some(w) = notes.windows(2).find(|w| w[0].note_id == w[1].note_id) {
        return Err(PrepareError::DuplicateNote {
            note_id: w[0].note_id,
        });
    }
    let mut history = history;
    history.sort_by_key(|h| h.note_id);
    if let Some(w) = history.windows(2).find(|w| w[0].note_id == w[1].note_id) {
        return Err(PrepareError::DuplicateHistory {
            note_id: w[0].note_id,
        });
    }
    let mut merged = Vec::with_capacity(notes.len().max(history.len()));
    let (mut ni, mut hi) = (notes.into_iter().peekable(), history.into_iter().peekable());
    loop {
        let next = match (ni.peek(), hi.peek()) {
            (None, None) => break,
            (Some(n), Some(h)) if n.note_id == h.note_id => {
                let (n, h) = (ni.next().expect("peeked"), hi.next().expect("peeked"));
                if n.created_at_millis != h.created_at_millis {
                    return Err(PrepareError::HistoryMismatch {
                        note_id: n.note_id,
                        field: "createdAtMillis",
                    });
                }
                if n.author != h.author {
                    return Err(PrepareError::HistoryMismatch {
                        note_id: n.note_id,
                        field: "noteAuthorParticipantId",
                    });
                }
                (Some(n), h)
            }
            (Some(n), h) if h.is_none_or(|h| n.note_id < h.note_id) => {
                let n = ni.next().expect("peeked");
                let h = StatusHistoryRow {
                    note_id: n.note_id,
                    author: n.author.clone(),
                    created_at_millis: n.created_at_millis,
                    ..StatusHistoryRow::default()
                };
                (Some(n), h)
            }
            _ => (None, hi.next().expect("history row")),
        };
        let (note, history) = next;
        merged.push(CommunityNote {
            note_id: history.note_id,
            author: index[history.author.as_str()],
            created_at_millis: history.created_at_millis,
            tweet_id: note.as_ref().map(|n| n.tweet_id),
            classification: note.as_ref().map(|n| n.classification),
            summary: note.map(|n| n.summary).unwrap_or_default(),
            history,
        });
    }
    let note_of: HashMap<i64, u32> = merged
        .iter()
        .enumerate()
        .map(|(i, n)| (n.note_id, i as u32))
        .collect();

    // Ratings: exact duplicates dropped, then one rating per (rater, note).
    let n = ratings.len();
    let rater_of: Vec<u32> = ratings
        .rater_ids
        .iter()
        .map(|id| index[id.as_str()])
        .collect();
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by_key(|&i| (ratings.note[i as usize], ratings.rater[i as usize], i));
    let mut keep = vec![true; n];
    for pair in order.windows(2) {
        let (a, b) = (pair[0] as usize, pair[1] as usize);
        if ratings.note[a] != ratings.note[b] || ratings.rater[a] != ratings.rater[b] {
            continue;
        }
        if ratings.row(a) == ratings.row(b) {
            keep[b] = false;
            report.duplicate_ratings += 1;
        } else {
            return Err(PrepareError::DuplicateRating {
                note_id: ratings.note_id(a),
                rater: ratings.rater_id(a).to_string(),
            });
        }
    }
    let mut out = ScoringRatings::default();
    for i in (0..n).filter(|&i| keep[i]) {
        let Some(value) = ratings.helpful_num(i) else {
            report.ratings_without_value += 1;
            continue;
        };
        out.note.push(ratings.note[i]); // still the Ratings note index; remapped below
        out.rater.push(rater_of[ratings.rater[i] as usize]);
        out.created_at_millis.push(ratings.created_at_millis[i]);
        out.helpful_num.push(value);
        out.level.push(ratings.level[i]);
        out.tags.push(ratings.tags[i]);
        out.population_sampled
            .push(ratings.source[i] == Some(RatingSource::PopulationSampled));
    }
    let mut rated = vec![false; ratings.note_ids.len()];
    out.note.iter().for_each(|&k| rated[k as usize] = true);
    let distinct_notes = rated.iter().filter(|r| **r).count();
    let high_volume = high_volume_raters(
        &out.rater,
        &out.created_at_millis,
        distinct_notes,
        ids.len(),
    );
    report.high_volume_raters = high_volume.iter().filter(|h| **h).count();
    out.high_volume = out.rater.iter().map(|&u| high_volume[u as usize]).collect();
    out.correlated = vec![false; out.note.len()];

    // Ratings of notes the scorer ignores: not in the notes file nor the history, or "not
    // misleading" notes written before that option existed.
    let note_map: Vec<Option<u32>> = ratings
        .note_ids
        .iter()
        .map(|id| note_of.get(id).copied())
        .collect();
    let scored: Vec<bool> = out
        .note
        .iter()
        .map(|&k| match note_map[k as usize] {
            None => false,
            Some(m) => {
                let note = &merged[m as usize];
                match note.classification {
                    Some(Classification::MisinformedOrPotentiallyMisleading) | None => true,
                    Some(Classification::NotMisleading) => {
                        note.created_at_millis > NOT_MISLEADING_UI_LAUNCH_MILLIS
                    }
                }
            }
        })
        .collect();
    report.ratings_of_unscored_notes = scored.iter().filter(|s| !**s).count();
    out.retain(&scored);
    out.note
        .iter_mut()
        .for_each(|k| *k = note_map[*k as usize].expect("kept ratings have a note"));

    // Scorers take prefixes: ratings by ordinary raters first (stable).
    let mut order: Vec<u32> = (0..out.len() as u32).collect();
    order.sort_by_key(|&i| (out.high_volume[i as usize], out.correlated[i as usize]));
    out.permute(&order);

    let participants = ids
        .into_iter()
        .zip(enrollment_of)
        .map(|(id, enrollment)| Participant { id, enrollment })
        .collect();
    Ok((
        Community {
            participants,
            notes: merged,
            ratings: out,
        },
        report,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HelpfulnessLevel;
    use crate::rating::{RatingRow, RatingsBuilder};

    fn note(id: i64, author: &str, created: i64, classification: Classification) -> Note {
        Note {
            note_id: id,
            author: author.into(),
            created_at_millis: created,
            tweet_id: 1,
            classification,
            believable: None,
            harmful: None,
            validation_difficulty: None,
            misleading: [false; 7],
            not_misleading: [false; 5],
            trustworthy_sources: false,
            summary: format!("note {id}"),
            is_media_note: false,
            is_collaborative_note: false,
        }
    }

    fn rating(note_id: i64, rater: &str, level: Option<HelpfulnessLevel>) -> RatingRow {
        RatingRow {
            note_id,
            rater: rater.into(),
            created_at_millis: 1_700_000_000_000,
            version: None,
            flags: 0,
            level,
            tags: 0,
            rated_on_tweet_id: None,
            source: Some(RatingSource::Default),
            suggestion: None,
            suggestion_id: None,
        }
    }

    const NEW: i64 = 1_700_000_000_000;
    const OLD: i64 = 1_600_000_000_000;

    #[test]
    fn merges_history_and_filters_ratings_like_the_reference() {
        use Classification::*;
        let notes = vec![
            note(3, "b", NEW, MisinformedOrPotentiallyMisleading),
            note(1, "a", NEW, NotMisleading),
            note(2, "a", OLD, NotMisleading),
        ];
        let history = vec![
            StatusHistoryRow {
                note_id: 4,
                author: "c".into(),
                created_at_millis: NEW,
                ..Default::default()
            },
            StatusHistoryRow {
                note_id: 3,
                author: "b".into(),
                created_at_millis: NEW,
                ..Default::default()
            },
        ];
        let mut b = RatingsBuilder::default();
        let helpful = Some(HelpfulnessLevel::Helpful);
        for id in [1, 2, 3, 4, 5] {
            b.push(&rating(id, "r", helpful));
        }
        b.push(&rating(3, "s", None)); // no value: dropped
        b.push(&rating(3, "r", helpful)); // exact duplicate: dropped
        let (community, report) = prepare(notes, b.finish(), history, vec![]).unwrap();
        let ids: Vec<i64> = community.notes.iter().map(|n| n.note_id).collect();
        assert_eq!(ids, vec![1, 2, 3, 4]);
        assert!(community.notes[3].is_deleted());
        let rated: Vec<i64> = community
            .ratings
            .note
            .iter()
            .map(|&n| community.notes[n as usize].note_id)
            .collect();
        // 2 is an old not-misleading note, 5 is unknown.
        assert_eq!(rated, vec![1, 3, 4]);
        assert_eq!(report.duplicate_ratings, 1);
        assert_eq!(report.ratings_without_value, 1);
        assert_eq!(report.ratings_of_unscored_notes, 2);
        let names: Vec<&str> = community
            .participants
            .iter()
            .map(|p| p.id.as_str())
            .collect();
        assert_eq!(names, vec!["a", "b", "c", "r", "s"]);
    }

    #[test]
    fn conflicting_inputs_are_errors() {
        use Classification::*;
        let mut b = RatingsBuilder::default();
        b.push(&rating(1, "r", Some(HelpfulnessLevel::Helpful)));
        b.push(&rating(1, "r", Some(HelpfulnessLevel::NotHelpful)));
        let err = prepare(
            vec![note(1, "a", NEW, NotMisleading)],
            b.finish(),
            vec![],
            vec![],
        )
        .unwrap_err();
        assert_eq!(
            err,
            PrepareError::DuplicateRating {
                note_id: 1,
                rater: "r".into()
            }
        );
        let history = vec![StatusHistoryRow {
            note_id: 1,
            author: "z".into(),
            created_at_millis: NEW,
            ..Default::default()
        }];
        let err = prepare(
            vec![note(1, "a", NEW, NotMisleading)],
            Ratings::default(),
            history,
            vec![],
        )
        .unwrap_err();
        assert!(matches!(
            err,
            PrepareError::HistoryMismatch {
                field: "noteAuthorParticipantId",
                ..
            }
        ));
    }

    #[test]
    fn numeric_participant_ids_sort_by_value() {
        let ids = sorted_participants(["10", "9", "100"].into_iter().map(String::from));
        assert_eq!(ids, vec!["9", "10", "100"]);
        let ids = sorted_participants(["10", "9", "x"].into_iter().map(String::from));
        assert_eq!(ids, vec!["10", "9", "x"]);
    }

    #[test]
    fn high_volume_needs_production_sized_data() {
        let rater: Vec<u32> = (0..1000)
            .map(|i| if i < 500 { 0 } else { 1 + i % 400 })
            .collect();
        let created = vec![0i64; 1000];
        assert!(
            high_volume_raters(&rater, &created, 199, 401)
                .iter()
                .all(|f| !f)
        );
        let flagged = high_volume_raters(&rater, &created, 200, 401);
        assert!(flagged[0]);
        assert_eq!(flagged.iter().filter(|f| **f).count(), 1);
    }
}
