//! End-to-end checks of generated communities: format, determinism, consistency, realism.

use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::path::Path;
use std::sync::Mutex;

use bridgenotes_engine::rating::{HELPFUL_TAGS, flag};
use bridgenotes_engine::{Classification, HelpfulnessLevel, NoteStatus, RatingSource};
use bridgenotes_format::ReadOptions;
use bridgenotes_format::enrollment::read_enrollment;
use bridgenotes_format::history::read_status_history;
use bridgenotes_format::notes::read_notes;
use bridgenotes_format::ratings::read_ratings;
use bridgenotes_format::requests::read_note_requests;
use bridgenotes_synth::{SynthError, SynthParams, SynthSummary, write_community};

const GOLDEN: &str = "/work/shared/golden/tiny-s1/input";
const FILES: [&str; 5] = [
    "notes-00000.tsv",
    "ratings-00000.tsv",
    "noteStatusHistory-00000.tsv",
    "userEnrollment-00000.tsv",
    "noteRequests-00000.tsv",
];
const EPOCH: i64 = 1_795_132_800_000;

fn params(seed: u64) -> SynthParams {
    SynthParams {
        notes: 2_000,
        raters: 600,
        ratings: 40_000,
        seed,
        ..SynthParams::default()
    }
}

fn generate(params: SynthParams, dir: &Path, threads: usize) -> SynthSummary {
    let valid = params.validate().expect("valid parameters");
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| write_community(&valid, dir, &|_| {}))
        .expect("generation succeeds")
}

fn first_line(path: &Path) -> String {
    let file = std::fs::File::open(path).unwrap();
    let mut line = String::new();
    if path.extension().is_some_and(|e| e == "gz") {
        std::io::BufReader::new(flate2::read::GzDecoder::new(file))
            .read_line(&mut line)
            .unwrap();
    } else {
        std::io::BufReader::new(file).read_line(&mut line).unwrap();
    }
    line
}

#[test]
fn headers_equal_the_golden_input_headers() {
    let dir = tempfile::tempdir().unwrap();
    generate(
        SynthParams {
            notes: 20,
            raters: 10,
            ratings: 60,
            ..params(3)
        },
        dir.path(),
        1,
    );
    let ours = [
        bridgenotes_format::notes::header(),
        bridgenotes_format::ratings::header(),
        bridgenotes_format::history::header(),
        bridgenotes_format::enrollment::header(),
        bridgenotes_format::requests::header(),
    ];
    for (name, header) in FILES.iter().zip(ours) {
        let golden = first_line(&Path::new(GOLDEN).join(format!("{name}.gz")));
        assert_eq!(header, golden, "{name}");
        assert_eq!(first_line(&dir.path().join(name)), golden, "{name}");
    }
}

fn read_all(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut names: Vec<String> = FILES.iter().map(|s| s.to_string()).collect();
    names.push("truth.json".into());
    names
        .into_iter()
        .map(|n| {
            let bytes = std::fs::read(dir.join(&n)).unwrap();
            (n, bytes)
        })
        .collect()
}

#[test]
fn output_is_byte_identical_whatever_the_thread_count() {
    let one = tempfile::tempdir().unwrap();
    let two = tempfile::tempdir().unwrap();
    let three = tempfile::tempdir().unwrap();
    let p = params(11);
    let s1 = generate(p, one.path(), 1);
    let s2 = generate(p, two.path(), 2);
    let s3 = generate(p, three.path(), 3);
    assert_eq!(s1, s2);
    assert_eq!(s1, s3);
    let a = read_all(one.path());
    for other in [two.path(), three.path()] {
        for ((name, x), (_, y)) in a.iter().zip(read_all(other)) {
            assert!(*x == y, "{name} differs between thread counts");
        }
    }
    // Nothing but the six files is left behind (no temporary files).
    assert_eq!(std::fs::read_dir(one.path()).unwrap().count(), 6);
}

#[test]
fn different_seeds_give_different_communities() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    generate(params(1), a.path(), 2);
    generate(params(2), b.path(), 2);
    for ((name, x), (_, y)) in read_all(a.path()).iter().zip(read_all(b.path())) {
        assert!(*x != y, "{name} is the same for two seeds");
    }
}

fn is_participant_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

#[test]
fn files_read_back_consistently_and_match_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let p = params(5);
    let summary = generate(p, dir.path(), 2);
    let options = ReadOptions {
        keep_unused_columns: true,
        ..ReadOptions::default()
    };
    let d = dir.path();
    let notes = read_notes(&d.join(FILES[0]), &options).unwrap();
    let ratings = read_ratings(&d.join(FILES[1]), &options).unwrap();
    let history = read_status_history(&d.join(FILES[2]), &options).unwrap();
    let enrollment = read_enrollment(&d.join(FILES[3]), &options).unwrap();
    let requests = read_note_requests(&d.join(FILES[4]), &options).unwrap();

    // Counts.
    assert_eq!(notes.len(), summary.notes);
    assert_eq!(ratings.len(), summary.ratings);
    assert_eq!(history.len(), summary.status_history_rows);
    let previous_run = EPOCH - 3_600_000;
    assert!(history.len() <= p.notes && history.len() > p.notes * 99 / 100);
    assert_eq!(summary.notes + summary.deleted_notes, p.notes);
    assert!(summary.deleted_notes > 0 && summary.deleted_notes < p.notes / 20);
    assert_eq!(enrollment.len(), summary.raters);
    assert_eq!(enrollment.len(), p.raters);
    assert_eq!(requests.len(), summary.note_requests);
    assert!(!requests.is_empty());
    assert_eq!(summary.ratings, p.ratings);
    let total = summary.ratings as f64;
    assert_eq!(
        summary.helpful_ratings + summary.somewhat_helpful_ratings + summary.not_helpful_ratings,
        summary.ratings
    );
    assert_eq!(
        summary.currently_rated_helpful
            + summary.currently_rated_not_helpful
            + summary.needs_more_ratings,
        summary.status_history_rows
    );
    assert!(summary.currently_rated_helpful > 0 && summary.currently_rated_not_helpful > 0);

    // Raters.
    let raters: HashSet<&str> = enrollment
        .iter()
        .map(|e| e.participant_id.as_str())
        .collect();
    assert_eq!(raters.len(), p.raters, "participant ids are unique");
    assert!(raters.iter().all(|id| is_participant_id(id)));
    for e in &enrollment {
        assert!(e.successful_rating_needed_to_earn_in >= 5);
        assert!(e.timestamp_of_last_state_change < EPOCH);
        let group = e.modeling_group.unwrap();
        assert!((0.0..=33.0).contains(&group) && group.fract() == 0.0);
    }

    // Notes: ids increase with creation time, authors are raters, reasons fit the class.
    assert!(
        notes.windows(2).all(
            |w| w[0].note_id < w[1].note_id && w[0].created_at_millis <= w[1].created_at_millis
        )
    );
    let window_start = EPOCH - (p.weeks * 7.0 * 86_400_000.0) as i64;
    let mut misleading = 0;
    for n in &notes {
        assert_eq!(n.note_id.to_string().len(), 19);
        assert!(raters.contains(n.author.as_str()));
        assert!(n.created_at_millis >= window_start && n.created_at_millis < EPOCH);
        match n.classification {
            Classification::MisinformedOrPotentiallyMisleading => {
                misleading += 1;
                assert!(n.misleading.iter().any(|&f| f));
                assert!(!n.not_misleading.iter().any(|&f| f));
                assert!(n.summary.contains("https://"), "{}", n.summary);
                assert!(n.trustworthy_sources);
            }
            Classification::NotMisleading => {
                assert!(n.not_misleading.iter().any(|&f| f));
                assert!(!n.misleading.iter().any(|&f| f));
                assert_eq!(n.trustworthy_sources, n.summary.contains("https://"));
            }
        }
    }
    let share = f64::from(misleading) / notes.len() as f64;
    assert!((0.6..0.8).contains(&share), "misleading share {share}");

    // History covers every note scored by the previous run, deleted ones too.
    let note_by_id: HashMap<i64, &bridgenotes_engine::Note> =
        notes.iter().map(|n| (n.note_id, n)).collect();
    let history_by_id: HashMap<i64, _> = history.iter().map(|h| (h.note_id, h)).collect();
    assert_eq!(history_by_id.len(), history.len());
    for n in &notes {
        match history_by_id.get(&n.note_id) {
            Some(h) => {
                assert_eq!(h.author, n.author);
                assert_eq!(h.created_at_millis, n.created_at_millis);
            }
            None => assert!(n.created_at_millis >= previous_run),
        }
    }
    let mut locked = 0;
    for h in &history {
        let status = h.current_status.unwrap();
        assert!(matches!(
            status,
            NoteStatus::CurrentlyRatedHelpful
                | NoteStatus::CurrentlyRatedNotHelpful
                | NoteStatus::NeedsMoreRatings
        ));
        let current = h.timestamp_millis_of_current_status.unwrap();
        assert!(current > h.created_at_millis as f64 && current < EPOCH as f64);
        if let Some(lock) = h.timestamp_millis_of_status_lock {
            // Locked 14 days after creation, before "now".
            locked += 1;
            assert_eq!(h.locked_status, Some(status));
            assert!(lock >= (h.created_at_millis + 14 * 86_400_000) as f64);
            assert!(lock < EPOCH as f64 && current >= lock);
        } else {
            assert_eq!(h.locked_status, None);
            assert!(EPOCH - h.created_at_millis < 15 * 86_400_000);
        }
        if let Some(t) = h.timestamp_millis_of_first_non_nmr_status {
            assert!(t > h.created_at_millis as f64 && t < EPOCH as f64);
        }
    }
    assert!(
        locked > p.notes / 2,
        "most notes are old enough to be locked"
    );

    // Ratings.
    let mut pairs = HashSet::new();
    let mut rated_notes = HashSet::new();
    let mut population_sampled = 0;
    // Authors and creation times of all notes, deleted ones too (from the history).
    let mut author_of: HashMap<i64, (&str, i64)> = history
        .iter()
        .map(|h| (h.note_id, (h.author.as_str(), h.created_at_millis)))
        .collect();
    author_of.extend(
        notes
            .iter()
            .map(|n| (n.note_id, (n.author.as_str(), n.created_at_millis))),
    );
    for i in 0..ratings.len() {
        let r = ratings.row(i);
        let &(author, created) = author_of
            .get(&r.note_id)
            .expect("a rated note is in the notes file or the history");
        assert_ne!(r.rater, author, "a self-rating");
        assert!(raters.contains(r.rater.as_str()));
        assert!(
            pairs.insert((r.rater.clone(), r.note_id)),
            "a duplicate rating"
        );
        rated_notes.insert(r.note_id);
        assert!(r.created_at_millis > created && r.created_at_millis < EPOCH);
        assert_eq!(r.version, Some(2));
        assert_eq!(
            r.flags & (flag::AGREE | flag::DISAGREE | flag::HELPFUL_V1),
            0
        );
        let helpful_bits = (1u32 << HELPFUL_TAGS.len()) - 1;
        match r.level.unwrap() {
            HelpfulnessLevel::Helpful => {
                assert_eq!(r.tags & !helpful_bits, 0);
                assert!((1..=3).contains(&r.tags.count_ones()));
            }
            HelpfulnessLevel::SomewhatHelpful => assert_eq!(r.tags & !helpful_bits, 0),
            HelpfulnessLevel::NotHelpful => {
                assert_eq!(r.tags & helpful_bits, 0);
                assert!((1..=3).contains(&r.tags.count_ones()));
            }
        }
        if let Some(n) = note_by_id.get(&r.note_id) {
            assert_eq!(r.rated_on_tweet_id, Some(n.tweet_id));
        }
        if r.source == Some(RatingSource::PopulationSampled) {
            population_sampled += 1;
        }
        assert_eq!(r.suggestion.is_some(), r.suggestion_id.is_some());
    }
    assert_eq!(population_sampled, summary.population_sampled_ratings);
    let sampled_share = population_sampled as f64 / total;
    assert!((0.06..0.10).contains(&sampled_share), "{sampled_share}");
    assert_eq!(
        rated_notes.len(),
        p.notes,
        "every note, deleted ones too, is rated"
    );
    let deleted_rated = rated_notes
        .iter()
        .filter(|id| !note_by_id.contains_key(id))
        .count();
    assert_eq!(deleted_rated, summary.deleted_notes);

    // Heavy tails: a few raters rate a lot, the median rater little.
    let mut per_rater: HashMap<&str, usize> = HashMap::new();
    for i in 0..ratings.len() {
        *per_rater.entry(ratings.rater_id(i)).or_default() += 1;
    }
    let mut counts: Vec<usize> = per_rater.values().copied().collect();
    counts.sort_unstable();
    let median = counts[counts.len() / 2];
    let top = counts[counts.len() - 1];
    assert!(top > 8 * median, "max {top} vs median {median}");

    // Requests name posts that notes are about (or other posts), with sane timestamps.
    let tweets: HashSet<i64> = notes.iter().map(|n| n.tweet_id).collect();
    assert!(requests.iter().any(|r| tweets.contains(&r.tweet_id)));
    for r in &requests {
        assert!(r.source_links.starts_with('[') && r.suggestions.starts_with('['));
        for t in [
            r.note_request_feed_eligible_timestamp,
            r.api_small_feed_eligible_timestamp,
            r.api_large_feed_eligible_timestamp,
            r.api_xl_feed_eligible_timestamp,
        ] {
            assert!(t == -1 || (t > 1_700_000_000_000 && t < EPOCH));
        }
    }

    // Truth names every note and rater.
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("truth.json")).unwrap()).unwrap();
    assert_eq!(truth["notes"]["noteId"].as_array().unwrap().len(), p.notes);
    assert_eq!(
        truth["raters"]["participantId"].as_array().unwrap().len(),
        p.raters
    );
    assert_eq!(truth["counts"]["ratings"], summary.ratings);
}

#[test]
fn partisan_notes_split_the_camps() {
    let dir = tempfile::tempdir().unwrap();
    generate(params(7), dir.path(), 2);
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("truth.json")).unwrap()).unwrap();
    let ids = truth["raters"]["participantId"].as_array().unwrap();
    let camps = truth["raters"]["camp"].as_array().unwrap();
    let camp: HashMap<&str, &str> = ids
        .iter()
        .zip(camps)
        .map(|(i, c)| (i.as_str().unwrap(), c.as_str().unwrap()))
        .collect();
    let note_ids = truth["notes"]["noteId"].as_array().unwrap();
    let slants = truth["notes"]["slant"].as_array().unwrap();
    let slant: HashMap<i64, f64> = note_ids
        .iter()
        .zip(slants)
        .map(|(i, s)| (i.as_str().unwrap().parse().unwrap(), s.as_f64().unwrap()))
        .collect();
    let ratings = read_ratings(&dir.path().join(FILES[1]), &ReadOptions::default()).unwrap();
    // For notes slanted one way (slant > 0.5 and, mirrored, < -0.5), count helpful-ish
    // ratings from the camp the slant favours (viewpoint * slant < 0) and the other one.
    let (mut favoured, mut opposed) = ((0u32, 0u32), (0u32, 0u32));
    for i in 0..ratings.len() {
        let s = slant[&ratings.note_id(i)];
        if s.abs() < 0.5 {
            continue;
        }
        let side = match camp[ratings.rater_id(i)] {
            "left" => -1.0,
            "right" => 1.0,
            _ => continue,
        };
        let helpful = ratings.helpful_num(i).unwrap() > 0.0;
        let bucket = if side * s < 0.0 {
            &mut favoured
        } else {
            &mut opposed
        };
        bucket.0 += u32::from(helpful);
        bucket.1 += 1;
    }
    assert!(
        favoured.1 > 1_000 && opposed.1 > 1_000,
        "{favoured:?} {opposed:?}"
    );
    let rate = |(h, n): (u32, u32)| f64::from(h) / f64::from(n);
    let (f, o) = (rate(favoured), rate(opposed));
    println!(
        "helpful-ish rate: favoured camp {f:.3} ({favoured:?}), opposed camp {o:.3} ({opposed:?})"
    );
    assert!(f - o > 0.3, "favoured {f:.3} vs opposed {o:.3}");
}

#[test]
fn progress_reports_ratings_written() {
    let dir = tempfile::tempdir().unwrap();
    let seen = Mutex::new(Vec::new());
    let valid = SynthParams {
        notes: 3_000,
        raters: 500,
        ratings: 80_000,
        ..params(9)
    }
    .validate()
    .unwrap();
    let summary = write_community(&valid, dir.path(), &|n| seen.lock().unwrap().push(n)).unwrap();
    let seen = seen.into_inner().unwrap();
    assert!(seen.len() > 3, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(*seen.last().unwrap(), summary.ratings as u64);
}

#[test]
fn invalid_parameters_are_rejected_with_clear_messages() {
    let ok = params(1);
    assert!(ok.validate().is_ok());
    let cases: [(SynthParams, &str); 8] = [
        (SynthParams { notes: 0, ..ok }, "notes"),
        (SynthParams { raters: 1, ..ok }, "raters"),
        (
            SynthParams {
                ratings: ok.notes - 1,
                ..ok
            },
            "ratings",
        ),
        (
            SynthParams {
                notes: 10,
                raters: 3,
                ratings: 21,
                ..ok
            },
            "ratings",
        ),
        (SynthParams { weeks: 0.0, ..ok }, "weeks"),
        (
            SynthParams {
                weeks: f64::NAN,
                ..ok
            },
            "weeks",
        ),
        (
            SynthParams {
                epoch_millis: 0,
                ..ok
            },
            "epoch_millis",
        ),
        (
            SynthParams {
                epoch_millis: i64::MAX,
                ..ok
            },
            "epoch_millis",
        ),
    ];
    for (p, field) in cases {
        match p.validate() {
            Err(e @ SynthError::InvalidParams { .. }) => {
                let message = e.to_string();
                assert!(message.contains(field), "{message}");
            }
            other => panic!("{p:?} gave {other:?}"),
        }
    }
    // The densest valid community: every rater rates every note they did not write.
    let dir = tempfile::tempdir().unwrap();
    let dense = SynthParams {
        notes: 10,
        raters: 3,
        ratings: 20,
        ..ok
    };
    let summary = generate(dense, dir.path(), 2);
    assert_eq!(summary.ratings, 20);
}

/// Generation speed; run with `cargo test --release -p bridgenotes-synth -- --ignored --nocapture`.
#[test]
#[ignore]
fn throughput() {
    let dir = tempfile::tempdir().unwrap();
    let valid = SynthParams {
        notes: 50_000,
        raters: 30_000,
        ratings: 1_000_000,
        ..params(42)
    }
    .validate()
    .unwrap();
    let start = std::time::Instant::now();
    let summary = write_community(&valid, dir.path(), &|_| {}).unwrap();
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{} ratings in {seconds:.2} s: {:.2} M ratings/s overall ({} threads)",
        summary.ratings,
        summary.ratings as f64 / seconds / 1e6,
        rayon::current_num_threads()
    );
}
