//! Topic assignment on the golden datasets must agree with the reference's.
//!
//! The reference does not write its topic table, but its scored notes show it: a note the
//! core model scored (non-empty `coreNoteIntercept`) has no topic; a note with ≥ 5 ratings
//! that the core-with-topics model scored but the core model did not has one; `noteTopic`
//! names it where a topic scorer output the note.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use bridgenotes_engine::community::Community;
use bridgenotes_engine::preprocess::prepare;
use bridgenotes_engine::topic::Topic;
use bridgenotes_engine::topic_model::{TopicAssignment, assign_topics};
use bridgenotes_format::table::read_text_table;
use bridgenotes_format::{ReadOptions, enrollment, history, notes, ratings};

fn golden(dataset: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/golden")
        .join(dataset)
}

fn load(dir: &Path) -> Community {
    let o = ReadOptions::default();
    let file = |name: &str| dir.join(format!("input/{name}-00000.tsv.gz"));
    prepare(
        notes::read_notes(&file("notes"), &o).unwrap(),
        ratings::read_ratings(&file("ratings"), &o).unwrap(),
        history::read_status_history(&file("noteStatusHistory"), &o).unwrap(),
        enrollment::read_enrollment(&file("userEnrollment"), &o).unwrap(),
    )
    .unwrap()
    .0
}

/// What the reference's output says about one note's topic.
#[derive(Clone, Debug, Default)]
struct Reference {
    /// Whether it has a topic, where that can be told.
    has_topic: Option<bool>,
    /// The topic, where a topic scorer output the note.
    topic: Option<Topic>,
}

fn reference(dir: &Path, community: &Community) -> Vec<Reference> {
    let scored = read_text_table(&dir.join("reference-output/scored_notes.tsv.gz")).unwrap();
    let ids = scored.ints("noteId").unwrap();
    let core = scored.floats("coreNoteIntercept").unwrap();
    let with_topics = scored.floats("coreWithTopicsNoteIntercept").unwrap();
    let ratings = scored.floats("numRatings").unwrap();
    let topics: Vec<&str> = scored.column("noteTopic").unwrap().collect();
    let mut out = vec![Reference::default(); community.notes.len()];
    for i in 0..ids.len() {
        let n = community.note_index(ids[i].unwrap()).unwrap() as usize;
        let topic = (!topics[i].is_empty()).then(|| topics[i].parse::<Topic>().unwrap());
        let has_topic = if topic.is_some() {
            assert!(
                core[i].is_none(),
                "a topic-scored note the core model scored"
            );
            Some(true)
        } else if core[i].is_some() {
            Some(false)
        } else if with_topics[i].is_some() && ratings[i].unwrap_or(0.0) >= 5.0 {
            Some(true)
        } else {
            None
        };
        out[n] = Reference { has_topic, topic };
    }
    out
}

/// The generator's planted topic per note.
fn truth(dir: &Path, community: &Community) -> Vec<Option<Topic>> {
    let text = std::fs::read_to_string(dir.join("input/truth.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let notes = &json["notes"];
    let mut out = vec![None; community.notes.len()];
    let ids = notes["noteId"].as_array().unwrap();
    let topics = notes["topic"].as_array().unwrap();
    for (id, topic) in ids.iter().zip(topics) {
        let id: i64 = id.as_str().unwrap().parse().unwrap();
        let topic = topic.as_str().unwrap();
        if let Some(n) = community.note_index(id) {
            out[n as usize] = (!topic.is_empty()).then(|| topic.parse().unwrap());
        }
    }
    out
}

struct Agreement {
    has_topic: (usize, usize),
    topic: (usize, usize),
}

impl Agreement {
    fn has_topic_share(&self) -> f64 {
        self.has_topic.0 as f64 / self.has_topic.1 as f64
    }
    fn topic_share(&self) -> f64 {
        self.topic.0 as f64 / self.topic.1 as f64
    }
}

fn name(t: Option<Topic>) -> &'static str {
    t.map_or("-", Topic::name)
}

fn compare(dataset: &str) -> Agreement {
    let dir = golden(dataset);
    let community = load(&dir);
    let start = Instant::now();
    let a: TopicAssignment = assign_topics(&community.notes).unwrap();
    let elapsed = start.elapsed();
    let r = &a.report;
    eprintln!(
        "{dataset}: topic model {elapsed:.2?}: {} posts ({} conflicted), seed classes {:?}, \
         {} stop words, {} features of {} tokens (min_df {}, max_df {}), classes {:?}, \
         {} L-BFGS iterations, |grad| {:.1e}, balanced accuracy {:.4}",
        r.posts,
        r.conflicted_posts,
        r.seed_class_posts,
        r.stop_words,
        r.features,
        r.tokens,
        r.min_df,
        r.max_df,
        r.classes,
        r.iterations,
        r.gradient_norm,
        r.balanced_accuracy
    );

    let theirs = reference(&dir, &community);
    let planted = truth(&dir, &community);
    let post_of: HashMap<u32, usize> = a
        .posts
        .iter()
        .enumerate()
        .flat_map(|(p, post)| post.notes.iter().map(move |&n| (n, p)))
        .collect();
    let mut agreement = Agreement {
        has_topic: (0, 0),
        topic: (0, 0),
    };
    let mut versus_truth: HashMap<(&str, &str), usize> = HashMap::new();
    for (n, ours) in a.note_topics.iter().enumerate() {
        *versus_truth
            .entry((name(*ours), name(planted[n])))
            .or_default() += 1;
        let reference = &theirs[n];
        let mut differs = false;
        if let Some(has) = reference.has_topic {
            agreement.has_topic.1 += 1;
            if ours.is_some() == has {
                agreement.has_topic.0 += 1;
            } else {
                differs = true;
            }
        }
        if let Some(topic) = reference.topic {
            agreement.topic.1 += 1;
            if *ours == Some(topic) {
                agreement.topic.0 += 1;
            } else {
                differs = true;
            }
        }
        if differs {
            let note = &community.notes[n];
            let post = post_of.get(&(n as u32)).map(|&p| &a.posts[p]);
            eprintln!(
                "  note {}: ours {}, reference {:?}, planted {}; post {:?}",
                note.note_id,
                name(*ours),
                reference,
                name(planted[n]),
                post.map(|p| (&p.seed, p.probabilities, &p.text)),
            );
        }
    }
    let mut versus_truth: Vec<_> = versus_truth.into_iter().collect();
    versus_truth.sort();
    eprintln!("  (ours, planted) note counts: {versus_truth:?}");
    eprintln!(
        "  agreement with the reference: has a topic {}/{} = {:.4}, topic {}/{} = {:.4}",
        agreement.has_topic.0,
        agreement.has_topic.1,
        agreement.has_topic_share(),
        agreement.topic.0,
        agreement.topic.1,
        agreement.topic_share()
    );
    agreement
}

#[test]
fn tiny_s1_topics_agree_with_the_reference() {
    let a = compare("tiny-s1");
    assert!(a.has_topic.1 > 600 && a.topic.1 > 200);
    assert!(a.has_topic_share() >= 0.99, "{}", a.has_topic_share());
    assert!(a.topic_share() >= 0.99, "{}", a.topic_share());
}

#[test]
fn small_s2_topics_agree_with_the_reference() {
    let a = compare("small-s2");
    assert!(a.has_topic.1 > 6000 && a.topic.1 > 1500);
    assert!(a.has_topic_share() >= 0.99, "{}", a.has_topic_share());
    assert!(a.topic_share() >= 0.99, "{}", a.topic_share());
}
