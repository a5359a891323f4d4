use super::*;
use crate::HelpfulnessLevel;
use crate::StatusHistoryRow;
use crate::community::Participant;

fn note_with(history: StatusHistoryRow) -> CommunityNote {
    CommunityNote {
        note_id: 1,
        author: 0,
        created_at_millis: 0,
        tweet_id: Some(MIN_TWEET_ID + 1),
        classification: Some(crate::note::Classification::MisinformedOrPotentiallyMisleading),
        summary: String::new(),
        history,
    }
}

#[test]
fn labels_follow_the_locked_status() {
    use NoteStatus::*;
    let row = |first: Option<NoteStatus>, locked: Option<NoteStatus>, stab: Option<f64>| {
        note_with(StatusHistoryRow {
            first_non_nmr_status: first,
            timestamp_millis_of_first_non_nmr_status: first.map(|_| 10.0),
            locked_status: locked,
            timestamp_millis_of_first_nmr_due_to_min_stable_crh_time: stab,
            ..StatusHistoryRow::default()
        })
    };
    // Locked CRH: stays.
    assert_eq!(
        training_label(&row(
            Some(CurrentlyRatedHelpful),
            Some(CurrentlyRatedHelpful),
            None
        )),
        Some(false)
    );
    // Was CRH, locked NMR: flipped.
    assert_eq!(
        training_label(&row(
            Some(CurrentlyRatedHelpful),
            Some(NeedsMoreRatings),
            None
        )),
        Some(true)
    );
    // Entered stabilization, never CRH, locked CRNH: flipped.
    assert_eq!(
        training_label(&row(None, Some(CurrentlyRatedNotHelpful), Some(5.0))),
        Some(true)
    );
    // Never CRH nor stabilizing: no label; not locked: no label.
    assert_eq!(
        training_label(&row(None, Some(NeedsMoreRatings), None)),
        None
    );
    assert_eq!(
        training_label(&row(Some(CurrentlyRatedHelpful), None, None)),
        None
    );
    // Locked CRH by ScoringDriftGuard: left out.
    let mut guarded = row(
        Some(CurrentlyRatedHelpful),
        Some(CurrentlyRatedHelpful),
        None,
    );
    guarded.history.current_decided_by = Some("ScoringDriftGuard (v1.0)".into());
    assert_eq!(training_label(&guarded), None);

    // Moments: the earlier and later of entering stabilization and going CRH.
    assert_eq!(
        moments(&row(Some(CurrentlyRatedHelpful), None, Some(5.0))),
        Some((5.0, 10.0))
    );
    assert_eq!(
        moments(&row(Some(CurrentlyRatedHelpful), None, None)),
        Some((10.0, 10.0))
    );
    assert_eq!(moments(&row(None, None, None)), None);
    // First non-NMR status CRNH without stabilization: never a candidate.
    assert_eq!(
        moments(&row(Some(CurrentlyRatedNotHelpful), None, None)),
        None
    );
}

#[test]
fn roc_threshold_matches_scikit_learn() {
    // Scores descending with labels T F T F F F F. Points (fp, tp) per score: (0,1)@.9
    // (1,1)@.8 (1,2)@.7 (2,2)@.6 (3,2)@.5 (4,2)@.4 (5,2)@.3; .6, .5 and .4 lie on the line
    // between their neighbours and are dropped, as scikit-learn's drop_intermediate does. The
    // curve, with its start above every score: rates 0@1.9, 0@.9, .2@.8, .2@.7, 1@.3.
    let scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3];
    let labels = [true, false, true, false, false, false, false];
    // Nearest to 0.6 is 0.2 (0.4 away; 1.0 is too): the first such point, at .8.
    assert_eq!(roc_threshold(&labels, &scores, 0.6), 0.8);
    // Nearest to 0.1: the start, first of the equally near points.
    assert_eq!(roc_threshold(&labels, &scores, 0.1), 1.9);
    assert_eq!(roc_threshold(&labels, &scores, 0.9), 0.3);
}

#[test]
fn hash_split_is_fixed() {
    assert_eq!(hash(42, 1), hash(42, 1));
    assert_ne!(hash(42, 1), hash(42, 2));
    assert_ne!(hash(42, 1), hash(43, 1));
}

#[test]
fn predictions_cover_the_posts_of_stabilizing_and_recently_crh_notes() {
    use NoteStatus::*;
    const NOW: i64 = 10_000_000_000;
    let on_post = |id: i64, post: i64, history: StatusHistoryRow| CommunityNote {
        note_id: id,
        tweet_id: Some(post),
        ..note_with(history)
    };
    let notes = vec![
        // Post 100: a note in stabilization, and a peer.
        on_post(
            1,
            100,
            StatusHistoryRow {
                timestamp_millis_of_nmr_due_to_min_stable_crh_time: Some(5.0),
                ..StatusHistoryRow::default()
            },
        ),
        on_post(2, 100, StatusHistoryRow::default()),
        // Post 200: CRH for a week; not predicted.
        on_post(
            3,
            200,
            StatusHistoryRow {
                current_status: Some(CurrentlyRatedHelpful),
                timestamp_millis_of_first_non_nmr_status: Some((NOW - 7 * 86_400_000) as f64),
                ..StatusHistoryRow::default()
            },
        ),
        // Post 300: went CRH an hour ago.
        on_post(
            4,
            300,
            StatusHistoryRow {
                current_status: Some(CurrentlyRatedHelpful),
                timestamp_millis_of_latest_non_nmr_status: Some((NOW - 3_600_000) as f64),
                ..StatusHistoryRow::default()
            },
        ),
        // Post 100 again, after the others: still batched with its post.
        on_post(5, 100, StatusHistoryRow::default()),
        // Post 100, deleted (no classification): never described.
        CommunityNote {
            classification: None,
            ..on_post(6, 100, StatusHistoryRow::default())
        },
    ];
    let ratings = crate::community::ScoringRatings::default();
    let view = ratings.view();
    let inputs = PflipInputs {
        notes: &notes,
        participants: &[],
        training_ratings: &view,
        current_ratings: &view,
        rater_factor: &[],
        now_millis: NOW,
    };
    // Grouped by post, posts in the order of their first note.
    assert_eq!(targets(&inputs), [0, 1, 4, 3]);
    // Without labelled notes there is nothing to learn from.
    assert!(run_pflip(&inputs).iter().all(Option::is_none));
}

/// A community where flips are predictable: notes rated helpful by raters 0–9 stay CRH, notes
/// rated not helpful by raters 10–19 flip. Notes 0–299 are labelled (locked); notes 300 and
/// 301, in stabilization, look like a CRH note and like a flip.
#[test]
fn learns_which_notes_flip_and_labels_stabilizing_ones() {
    use NoteStatus::*;
    const T0: i64 = 1_790_000_000_000;
    const NOW: i64 = T0 + 30 * 86_400_000;
    let participants: Vec<Participant> = (0..21)
        .map(|i| Participant {
            id: format!("P{i:02}"),
            enrollment: None,
        })
        .collect();
    let mut notes = Vec::new();
    let mut ratings = crate::community::ScoringRatings::default();
    for n in 0..302u32 {
        let flips = n % 2 == 1;
        let created = T0 + i64::from(n) * 3_600_000;
        let history = if n < 300 {
            StatusHistoryRow {
                created_at_millis: created,
                first_non_nmr_status: Some(CurrentlyRatedHelpful),
                timestamp_millis_of_first_non_nmr_status: Some((created + 7_200_000) as f64),
                locked_status: Some(if flips {
                    NeedsMoreRatings
                } else {
                    CurrentlyRatedHelpful
                }),
                ..StatusHistoryRow::default()
            }
        } else {
            StatusHistoryRow {
                created_at_millis: created,
                timestamp_millis_of_nmr_due_to_min_stable_crh_time: Some(
                    (created + 7_200_000) as f64,
                ),
                timestamp_millis_of_first_nmr_due_to_min_stable_crh_time: Some(
                    (created + 7_200_000) as f64,
                ),
                ..StatusHistoryRow::default()
            }
        };
        notes.push(CommunityNote {
            note_id: 1_000 + i64::from(n),
            author: 20,
            created_at_millis: created,
            tweet_id: Some(MIN_TWEET_ID + 1 + i64::from(n)),
            ..note_with(history)
        });
        for r in 0..10u32 {
            let (rater, level) = if flips {
                (10 + r, HelpfulnessLevel::NotHelpful)
            } else {
                (r, HelpfulnessLevel::Helpful)
            };
            ratings.note.push(n);
            ratings.rater.push(rater);
            ratings
                .created_at_millis
                .push(created + 60_000 * i64::from(r + 1));
            ratings.helpful_num.push(level.value());
            ratings.level.push(Some(level));
            ratings.tags.push(0);
            ratings.population_sampled.push(false);
            ratings.high_volume.push(false);
            ratings.correlated.push(false);
        }
    }
    let factor: Vec<Option<f64>> = (0..21)
        .map(|r| Some(if r < 10 { 0.5 } else { -0.5 }))
        .collect();
    let view = ratings.view();
    let inputs = PflipInputs {
        notes: &notes,
        participants: &participants,
        training_ratings: &view,
        current_ratings: &view,
        rater_factor: &factor,
        now_millis: NOW,
    };
    let predictions = run_pflip(&inputs);
    // Only the stabilizing notes (each alone on its post) are predicted.
    assert!(predictions[..300].iter().all(Option::is_none));
    let (stays, flips) = (predictions[300].unwrap(), predictions[301].unwrap());
    assert!(
        flips.probability > stays.probability + 0.5,
        "{stays:?} {flips:?}"
    );
    assert_eq!(stays.label, PflipLabel::Crh);
    assert_eq!(flips.label, PflipLabel::Flip);
    // The same inputs give the same model and predictions.
    assert_eq!(run_pflip(&inputs), predictions);
    // A capped training set (a hash-chosen 150 of the 300 labelled notes) learns the same.
    assert_eq!(training_rows(&inputs, 150).len(), 2 * 150);
    let capped = train(&inputs, 150).expect("enough to learn from");
    let predicted: Vec<_> = predict(&capped, &inputs)
        .into_iter()
        .map(|(_, p)| p.label)
        .collect();
    assert_eq!(predicted, [PflipLabel::Crh, PflipLabel::Flip]);
}
