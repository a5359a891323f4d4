use super::*;
use crate::StatusHistoryRow;
use crate::community::{CommunityNote, Participant};

const HOUR: i64 = 60 * MINUTE_MILLIS;
const DAY: i64 = 24 * HOUR;
const START: i64 = 1_700_000_000_000;

/// A hand-built community: `participants` people, notes and ratings added one by one.
struct Builder {
    community: Community,
}

impl Builder {
    fn new(participants: usize) -> Builder {
        let community = Community {
            participants: (0..participants)
                .map(|u| Participant {
                    id: u.to_string(),
                    enrollment: None,
                })
                .collect(),
            ..Default::default()
        };
        Builder { community }
    }

    /// A misleading note by `author` on its own post, created at `created`.
    fn note(&mut self, author: u32, created: i64) -> u32 {
        let index = self.community.notes.len() as u32;
        let note_id = i64::from(index) + 1;
        self.community.notes.push(CommunityNote {
            note_id,
            author,
            created_at_millis: created,
            tweet_id: Some(1000 + note_id),
            classification: Some(Classification::MisinformedOrPotentiallyMisleading),
            summary: String::new(),
            history: StatusHistoryRow {
                note_id,
                author: author.to_string(),
                created_at_millis: created,
                ..Default::default()
            },
        });
        index
    }

    fn rate(&mut self, note: u32, rater: u32, at: i64, level: HelpfulnessLevel) {
        let r = &mut self.community.ratings;
        r.note.push(note);
        r.rater.push(rater);
        r.created_at_millis.push(at);
        r.helpful_num.push(match level {
            HelpfulnessLevel::Helpful => 1.0,
            HelpfulnessLevel::SomewhatHelpful => 0.5,
            HelpfulnessLevel::NotHelpful => 0.0,
        });
        r.level.push(Some(level));
        r.tags.push(0);
        r.population_sampled.push(false);
        r.high_volume.push(false);
        r.correlated.push(false);
    }

    fn created(&self, note: u32) -> i64 {
        self.community.notes[note as usize].created_at_millis
    }
}

/// Raters 0–4 co-rate notes 0–19 within minutes; raters 7–9 co-rate notes 20–39; raters
/// 10–29 rate about a third of the notes, hours apart from anyone. Authors are 30–33.
fn planted() -> Community {
    let mut b = Builder::new(34);
    let notes: Vec<u32> = (0..40)
        .map(|i| b.note(30 + (i % 4), START + i64::from(i) * DAY))
        .collect();
    for &n in &notes {
        let t = b.created(n) + 2 * HOUR;
        let clique: &[u32] = if n < 20 { &[0, 1, 2, 3, 4] } else { &[7, 8, 9] };
        for (j, &u) in clique.iter().enumerate() {
            b.rate(
                n,
                u,
                t + j as i64 * MINUTE_MILLIS,
                HelpfulnessLevel::Helpful,
            );
        }
        for v in 10..30u32 {
            if (v * 7 + n) % 3 == 0 {
                let at = t + 3 * HOUR + i64::from(v) * 30 * MINUTE_MILLIS;
                b.rate(n, v, at, HelpfulnessLevel::SomewhatHelpful);
            }
        }
    }
    b.community
}

#[test]
fn a_planted_clique_of_co_raters_is_found_and_independent_raters_are_not() {
    let community = planted();
    let cliques = detect_cliques(&community, &PssParams::default());
    for (u, clique) in cliques.post_selection.iter().enumerate() {
        let expected = match u {
            0..5 => Some(1),
            7..10 => Some(2),
            _ => None,
        };
        assert_eq!(*clique, expected, "participant {u}");
    }
    // Too few aligned posts for any quasi-clique seed.
    assert!(cliques.quasi_clique.iter().all(Option::is_none));
}

#[test]
fn detection_does_not_depend_on_rating_order() {
    let community = planted();
    let expected = detect_cliques(&community, &PssParams::default());
    let mut shuffled = community.clone();
    let n = shuffled.ratings.len() as u32;
    let order: Vec<u32> = (0..n).map(|k| (k * 7919) % n).collect();
    let mut sorted = order.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), n as usize, "a permutation");
    shuffled.ratings.permute(&order);
    assert_eq!(detect_cliques(&shuffled, &PssParams::default()), expected);
}

#[test]
fn raters_who_mostly_rate_one_author_right_away_join_the_author() {
    let mut b = Builder::new(8);
    // Author 0 writes 12 notes; rater 1 rates 10 of them helpful within 30 seconds.
    let notes: Vec<u32> = (0..12).map(|i| b.note(0, START + i * DAY)).collect();
    for &n in &notes[..10] {
        let t = b.created(n);
        b.rate(n, 1, t + 30_000, HelpfulnessLevel::Helpful);
        // Rater 2 rates the same notes, but hours later: no affinity.
        b.rate(n, 2, t + 2 * HOUR, HelpfulnessLevel::Helpful);
    }
    // Author 4 writes 9 notes and rater 3 rates all 9 at once: denominators below 10.
    let small: Vec<u32> = (0..9).map(|i| b.note(4, START + i * DAY + HOUR)).collect();
    for &n in &small {
        let t = b.created(n);
        b.rate(n, 3, t + 10_000, HelpfulnessLevel::Helpful);
    }
    // Rater 5 rates author 0 quickly, but not helpfully: only helpful ratings count.
    for &n in &notes {
        let t = b.created(n);
        b.rate(n, 5, t + 5 * HOUR + 20_000, HelpfulnessLevel::NotHelpful);
        b.rate(n, 6, t + 7 * HOUR, HelpfulnessLevel::NotHelpful);
    }
    let community = b.community;
    let pairs = suspect_pairs(&community, &PssParams::default());
    assert_eq!(pairs, vec![(0, 1)]);
    let pss = post_selection_cliques(&community, &PssParams::default());
    assert_eq!(
        pss,
        vec![Some(1), Some(1), None, None, None, None, None, None]
    );
}

#[test]
fn writer_coverage_alone_links_an_author_and_a_broad_rater() {
    let mut b = Builder::new(3);
    // Rater 1 rates 10 of author 0's 20 notes within 4 minutes (coverage 0.5 at 5 minutes)
    // but 40 other notes as quickly too (affinity 0.2, under the 0.45 and 0.7 thresholds;
    // at 1 minute it has no ratings).
    let mine: Vec<u32> = (0..20).map(|i| b.note(0, START + i * DAY)).collect();
    let others: Vec<u32> = (0..40).map(|i| b.note(2, START + i * DAY + HOUR)).collect();
    for &n in mine[..10].iter().chain(&others) {
        let t = b.created(n);
        b.rate(n, 1, t + 4 * MINUTE_MILLIS, HelpfulnessLevel::Helpful);
    }
    let community = b.community;
    let pairs = suspect_pairs(&community, &PssParams::default());
    // Author 2: coverage 40/40 and affinity 0.8 too.
    assert_eq!(pairs, vec![(0, 1), (1, 2)]);
}

/// Raters 0–5 give the same rating to each of 60 notes; rater 6 joins them on 10.
fn quasi_community() -> Community {
    let mut b = Builder::new(11);
    let notes: Vec<u32> = (0..60)
        .map(|i| b.note(10, START + i64::from(i) * DAY))
        .collect();
    for &n in &notes {
        let t = b.created(n) + HOUR;
        let level = if n % 2 == 0 {
            HelpfulnessLevel::Helpful
        } else {
            HelpfulnessLevel::NotHelpful
        };
        for u in 0..6u32 {
            b.rate(n, u, t + i64::from(u) * 2 * HOUR, level);
        }
        if n < 10 {
            b.rate(n, 6, t + 20 * HOUR, level);
        }
        // Rater 7 rates every note the other way.
        let other = if n % 2 == 0 {
            HelpfulnessLevel::NotHelpful
        } else {
            HelpfulnessLevel::Helpful
        };
        b.rate(n, 7, t + 22 * HOUR, other);
    }
    b.community
}

#[test]
fn raters_aligned_on_many_posts_form_a_quasi_clique() {
    let community = quasi_community();
    let params = PssParams::default();
    assert_eq!(
        quasi_cliques(&community, &params.quasi),
        vec![vec![0, 1, 2, 3, 4, 5]]
    );
    let cliques = detect_cliques(&community, &params);
    let expected: Vec<Option<i64>> = (0..11).map(|u| (u < 6).then_some(1)).collect();
    assert_eq!(cliques.quasi_clique, expected);
}

#[test]
fn old_notes_fall_outside_the_quasi_clique_window() {
    let mut community = quasi_community();
    // Push all but the 20 newest notes more than 13 weeks back.
    let newest = community.notes.last().unwrap().created_at_millis;
    for note in &mut community.notes[..40] {
        note.created_at_millis = newest - 14 * 7 * DAY;
    }
    assert!(quasi_cliques(&community, &QuasiCliqueParams::default()).is_empty());
}

#[test]
fn small_data_gives_no_cliques_instead_of_the_reference_crash() {
    let empty = Community::default();
    assert_eq!(
        detect_cliques(&empty, &PssParams::default()),
        Cliques::default()
    );
    let mut b = Builder::new(4);
    for i in 0..3 {
        let n = b.note(3, START + i * DAY);
        b.rate(n, 0, START + i * DAY + HOUR, HelpfulnessLevel::Helpful);
        b.rate(n, 1, START + i * DAY + HOUR, HelpfulnessLevel::Helpful);
    }
    let cliques = detect_cliques(&b.community, &PssParams::default());
    assert_eq!(cliques.quasi_clique, vec![None; 4]);
    assert_eq!(cliques.post_selection, vec![None; 4]);
}

#[test]
fn detection_does_not_depend_on_the_thread_count() {
    let community = planted();
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| detect_cliques(&community, &PssParams::default()))
    };
    assert_eq!(run(1), run(3));
}

/// Aligned-post counts the plain way: every pair of each group into one hash map, counted
/// once per post.
fn aligned_pair_counts_by_map(
    rows: &[(i64, u32, u8, u32)],
    min_posts: u32,
) -> Vec<(u32, u32, u32)> {
    let mut per_post: FxHashSet<(i64, u32, u32)> = FxHashSet::default();
    for group in rows.chunk_by(|a, b| (a.0, a.1, a.2) == (b.0, b.1, b.2)) {
        for (i, a) in group.iter().enumerate() {
            for b in &group[i + 1..] {
                per_post.insert((a.0, a.3.min(b.3), a.3.max(b.3)));
            }
        }
    }
    let mut counts: FxHashMap<(u32, u32), u32> = FxHashMap::default();
    for (_, a, b) in per_post {
        *counts.entry((a, b)).or_insert(0) += 1;
    }
    let mut out: Vec<(u32, u32, u32)> = counts
        .into_iter()
        .filter(|&(_, n)| n >= min_posts)
        .map(|((a, b), n)| (a, b, n))
        .collect();
    out.sort_unstable();
    out
}

/// `(post, note, rating, rater)` rows as quasi-clique detection builds them: sorted, one
/// rating per rater and note.
fn aligned_rows() -> impl proptest::strategy::Strategy<Value = Vec<(i64, u32, u8, u32)>> {
    use proptest::prelude::*;
    proptest::collection::vec((0i64..6, 0u32..4, 0u8..3, 0u32..12), 0..200).prop_map(|mut rows| {
        rows.sort_unstable();
        // One rating per (post, note, rater): keep the first rating value seen.
        let mut seen = FxHashSet::default();
        rows.retain(|r| seen.insert((r.0, r.1, r.3)));
        rows
    })
}

proptest::proptest! {
    #[test]
    fn aligned_pair_counts_match_a_plain_count_in_any_number_of_passes(
        rows in aligned_rows(),
        min_posts in 1u32..4,
        pairs_per_pass in 1usize..60,
    ) {
        let expected = aligned_pair_counts_by_map(&rows, min_posts);
        proptest::prop_assert_eq!(aligned_pair_counts(&rows, 12, min_posts, pairs_per_pass), expected.clone());
        proptest::prop_assert_eq!(aligned_pair_counts(&rows, 12, min_posts, usize::MAX), expected);
    }
}
