//! Note topics: which notes the topic scorers score instead of the core model (the
//! reference's `topic_model.py`; spec §4.2).
//!
//! 1. **Posts.** The summaries of the notes on one post (`tweetId`; every note with tweet id
//!    −1 lands on one post) are joined with spaces in note order; URLs are reduced to their
//!    runs of ≥ 4 ASCII letters unless they contain `help.x.com` or `x.com/tos`; `_` and `/`
//!    become spaces. Deleted notes (no row in the notes file) take no part and get no topic.
//! 2. **Seed labels.** A post whose text matches seed terms of exactly one topic is labelled
//!    with it; several topics make it "conflicted" (unlabelled, left out of training).
//! 3. **Classifier.** Token counts (stop words = tokens containing a seed term; min_df 1, or
//!    25 from 2,000 posts on; max_df max(1000, ⌊posts/4⌋)) → TF-IDF (smooth idf, l2 rows) →
//!    multinomial logistic regression (C = 1), trained on the non-conflicted posts against
//!    their seed labels (unlabelled posts are class 0, "Unassigned").
//! 4. **Check.** The balanced accuracy of the classifier's argmax against the seed labels of
//!    the training posts must exceed 0.35; the reference asserts this and its run dies
//!    otherwise, so this returns [`TopicModelError::LowAccuracy`].
//! 5. **Assignment.** Each post takes the classifier's most probable class, except that a
//!    post seed-labelled L keeps L while P(L) is not too low (1 − P(L) ≤ 0.99, 0.98 for
//!    InDimensionTwo), and a conflicted post takes its most probable matched topic under the
//!    same test. Notes take their post's topic.
//!
//! The reference trains in prescoring and applies the classifier again in final scoring to
//! the posts that carry a scored note. In a full run both see every note, so one
//! [`assign_topics`] gives both phases' topics; [`TopicClassifier`] is there for applying a
//! trained classifier to other text.

mod logistic;
pub mod text;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::community::CommunityNote;
use crate::topic::Topic;
pub use logistic::{Csr, LogisticFit};
pub use text::{
    PostText, SEED_TERMS, SeedLabel, SeedLabeller, TOPICS, Tokenizer, blocked_substrings,
};

/// A seed-labelled post keeps its label while `1 − P(label)` is at most this.
pub const UNASSIGNED_THRESHOLD: f64 = 0.99;
/// The same for InDimensionTwo.
pub const IN_DIMENSION_TWO_UNASSIGNED_THRESHOLD: f64 = 0.98;
/// The classifier is rejected unless its balanced accuracy on the seed labels exceeds this.
pub const MIN_BALANCED_ACCURACY: f64 = 0.35;
/// Inverse regularization strength of the logistic regression.
pub const C: f64 = 1.0;
/// L-BFGS iteration limit.
pub const MAX_ITERATIONS: u64 = 1000;
/// From this many posts on, a term must be in [`LARGE_MIN_DF`] training posts.
pub const LARGE_CORPUS_POSTS: usize = 2000;
pub const LARGE_MIN_DF: usize = 25;
/// A term may be in at most max(this, ⌊posts · [`MAX_DF_SHARE`]⌋) training posts.
pub const MIN_MAX_DF: usize = 1000;
pub const MAX_DF_SHARE: f64 = 0.25;

/// Classes: 0 is Unassigned, then the topics by id.
pub const CLASSES: usize = 6;

/// The unassigned threshold of a topic.
pub fn unassigned_threshold(topic: Topic) -> f64 {
    match topic {
        Topic::InDimensionTwo => IN_DIMENSION_TWO_UNASSIGNED_THRESHOLD,
        _ => UNASSIGNED_THRESHOLD,
    }
}

fn topic_of_class(class: u8) -> Option<Topic> {
    class.checked_sub(1).map(|i| TOPICS[i as usize])
}

/// Why no topics could be assigned. The reference's run stops in each case.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TopicModelError {
    /// No token survives stop words and the document-frequency limits (also: no posts, or
    /// every post conflicted). scikit-learn raises "empty vocabulary" / "no terms remain".
    #[error("topic model: no vocabulary to train on ({training_posts} training posts)")]
    EmptyVocabulary { training_posts: usize },
    /// The training posts have one seed class only; scikit-learn's lbfgs needs two.
    #[error(
        "topic model: every training post has seed class {class}; the classifier needs two classes"
    )]
    OneClass { class: u8 },
    /// The classifier's balanced accuracy against the seed labels is too low.
    #[error(
        "topic model: balanced accuracy {balanced_accuracy} on the seed labels is not above {MIN_BALANCED_ACCURACY}"
    )]
    LowAccuracy { balanced_accuracy: f64 },
    /// The optimizer failed (a non-finite objective).
    #[error("topic model: optimizer failed: {0}")]
    Optimizer(String),
}

/// A note as the topic model sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoteText<'a> {
    /// `None` for a deleted note (not in the notes file): it takes no part.
    pub tweet_id: Option<i64>,
    pub summary: &'a str,
}

/// One post.
#[derive(Clone, Debug, PartialEq)]
pub struct Post {
    pub tweet_id: i64,
    /// Indices of its notes in the input, in input order.
    pub notes: Vec<u32>,
    /// The prepared text.
    pub text: String,
    pub seed: SeedLabel,
    /// Classifier probabilities by class (0 Unassigned, then topic ids); classes the
    /// training posts lacked have probability 0.
    pub probabilities: [f64; CLASSES],
    /// The classifier's most probable class (the first on ties).
    pub predicted: u8,
    /// The assigned topic.
    pub topic: Option<Topic>,
}

/// How the classifier was built and how it did.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassifierReport {
    pub posts: usize,
    /// Non-conflicted posts.
    pub training_posts: usize,
    pub conflicted_posts: usize,
    /// Posts per seed class (index 0: no seed term).
    pub seed_class_posts: [usize; CLASSES],
    pub stop_words: usize,
    /// Distinct tokens in the training posts, stop words excluded.
    pub tokens: usize,
    pub min_df: usize,
    pub max_df: usize,
    /// Terms kept as features.
    pub features: usize,
    /// Classes present in training, ascending.
    pub classes: Vec<u8>,
    pub iterations: u64,
    pub loss: f64,
    pub gradient_norm: f64,
    pub converged: bool,
    /// Balanced accuracy of the argmax on the training posts' seed labels.
    pub balanced_accuracy: f64,
}

/// Topics for a set of notes.
#[derive(Clone, Debug, PartialEq)]
pub struct TopicAssignment {
    /// Per input note.
    pub note_topics: Vec<Option<Topic>>,
    /// Posts in the reference's order (tweet ids sorted as decimal strings).
    pub posts: Vec<Post>,
    pub report: ClassifierReport,
}

/// Topics of a community's notes (see the module documentation). Notes are taken in the
/// given order, which decides the order of summaries in a post's text; the reference uses
/// the order of the notes file (sorted by note id in the public files, as
/// [`crate::community::Community::notes`] is).
pub fn assign_topics(notes: &[CommunityNote]) -> Result<TopicAssignment, TopicModelError> {
    let texts: Vec<NoteText<'_>> = notes
        .iter()
        .map(|n| NoteText {
            tweet_id: n.tweet_id,
            summary: &n.summary,
        })
        .collect();
    assign_note_topics(&texts)
}

/// [`assign_topics`] on bare (tweet id, summary) pairs.
pub fn assign_note_topics(notes: &[NoteText<'_>]) -> Result<TopicAssignment, TopicModelError> {
    let prepare = PostText::new();
    let labeller = SeedLabeller::new();

    // Posts, ordered as pandas groups string tweet ids.
    let mut by_tweet: FxHashMap<i64, Vec<u32>> = FxHashMap::default();
    for (i, n) in notes.iter().enumerate() {
        if let Some(t) = n.tweet_id {
            by_tweet.entry(t).or_default().push(i as u32);
        }
    }
    let mut tweets: Vec<(String, i64)> = by_tweet.keys().map(|&t| (t.to_string(), t)).collect();
    tweets.sort_unstable();
    let mut posts: Vec<Post> = tweets
        .into_par_iter()
        .map(|(_, tweet_id)| {
            let members = by_tweet[&tweet_id].clone();
            let text = prepare.post_text(members.iter().map(|&i| notes[i as usize].summary));
            let seed = labeller.label(&text);
            Post {
                tweet_id,
                notes: members,
                text,
                seed,
                probabilities: [0.0; CLASSES],
                predicted: 0,
                topic: None,
            }
        })
        .collect();

    let texts: Vec<&str> = posts.iter().map(|p| p.text.as_str()).collect();
    let seeds: Vec<SeedLabel> = posts.iter().map(|p| p.seed.clone()).collect();
    let (classifier, mut report, tokens) = TopicClassifier::train_on(&texts, &seeds)?;
    let probabilities = classifier.probabilities_of_tokens(&tokens);

    let mut correct = [0usize; CLASSES];
    let mut total = [0usize; CLASSES];
    for (post, p) in posts.iter_mut().zip(probabilities) {
        post.probabilities = p;
        post.predicted = argmax(&p);
        if !post.seed.is_conflicted() {
            let class = post.seed.class() as usize;
            total[class] += 1;
            correct[class] += (post.predicted as usize == class) as usize;
        }
        post.topic = topic_of_class(merge(&post.seed, &p, post.predicted));
    }
    // scikit-learn's balanced_accuracy_score: mean recall over the classes with true samples.
    let recalls: Vec<f64> = (0..CLASSES)
        .filter(|&c| total[c] > 0)
        .map(|c| correct[c] as f64 / total[c] as f64)
        .collect();
    report.balanced_accuracy = recalls.iter().sum::<f64>() / recalls.len() as f64;
    if report.balanced_accuracy.is_nan() || report.balanced_accuracy <= MIN_BALANCED_ACCURACY {
        return Err(TopicModelError::LowAccuracy {
            balanced_accuracy: report.balanced_accuracy,
        });
    }

    let mut note_topics = vec![None; notes.len()];
    for post in &posts {
        for &n in &post.notes {
            note_topics[n as usize] = post.topic;
        }
    }
    Ok(TopicAssignment {
        note_topics,
        posts,
        report,
    })
}

/// First index of the largest probability.
fn argmax(p: &[f64; CLASSES]) -> u8 {
    let mut best = 0;
    for c in 1..CLASSES {
        if p[c] > p[best] {
            best = c;
        }
    }
    best as u8
}

/// The assignment rule (`_merge_predictions_and_labels`).
fn merge(seed: &SeedLabel, p: &[f64; CLASSES], predicted: u8) -> u8 {
    let keeps = |t: Topic| 1.0 - p[t.id() as usize] <= unassigned_threshold(t);
    match seed {
        SeedLabel::None => predicted,
        SeedLabel::Topic(t) => {
            if keeps(*t) {
                t.id()
            } else {
                predicted
            }
        }
        SeedLabel::Conflicted(topics) => {
            // The most probable matched topic (the lowest id on ties).
            let mut best: Option<Topic> = None;
            for &t in topics {
                if best.is_none_or(|b| p[t.id() as usize] > p[b.id() as usize]) {
                    best = Some(t);
                }
            }
            match best {
                Some(b) if keeps(b) => b.id(),
                _ => predicted,
            }
        }
    }
}

/// A trained topic classifier: vectorizer, TF-IDF weights and logistic regression.
#[derive(Clone, Debug)]
pub struct TopicClassifier {
    tokenizer: Tokenizer,
    stop_words: FxHashSet<String>,
    /// Feature index of each vocabulary term (terms sorted).
    vocabulary: FxHashMap<String, u32>,
    idf: Vec<f64>,
    /// Classes present in training, ascending.
    classes: Vec<u8>,
    fit: LogisticFit,
}

impl TopicClassifier {
    /// Trains on post texts and their seed labels (conflicted posts are left out of
    /// training but count for the stop words and the document-frequency limits).
    pub fn train(
        texts: &[&str],
        seeds: &[SeedLabel],
    ) -> Result<(TopicClassifier, ClassifierReport), TopicModelError> {
        Self::train_on(texts, seeds).map(|(c, r, _)| (c, r))
    }

    /// [`Self::train`], also returning every text's feature tokens (stop words removed).
    fn train_on(
        texts: &[&str],
        seeds: &[SeedLabel],
    ) -> Result<(TopicClassifier, ClassifierReport, Vec<Vec<String>>), TopicModelError> {
        assert_eq!(texts.len(), seeds.len(), "one seed label per text");
        let tokenizer = Tokenizer::new();
        let blocked = blocked_substrings();
        let posts = texts.len();

        // Stop words: tokens of the whole vocabulary (every post) containing a seed term.
        let stop_words: FxHashSet<String> = texts
            .par_iter()
            .map(|t| {
                let mut tokens = vec![];
                tokenizer.vocabulary_tokens(t, &mut tokens);
                text::stop_words(tokens.iter().map(String::as_str), &blocked)
            })
            .reduce(FxHashSet::default, |mut a, b| {
                a.extend(b);
                a
            });

        let tokens: Vec<Vec<String>> = texts
            .par_iter()
            .map(|t| {
                let mut tokens = vec![];
                tokenizer.feature_tokens(t, &mut tokens);
                tokens.retain(|t| !stop_words.contains(t));
                tokens
            })
            .collect();

        let training: Vec<usize> = (0..posts).filter(|&i| !seeds[i].is_conflicted()).collect();
        let min_df = if posts < LARGE_CORPUS_POSTS {
            1
        } else {
            LARGE_MIN_DF
        };
        let max_df = MIN_MAX_DF.max((MAX_DF_SHARE * posts as f64) as usize);

        // Document frequencies over the training posts.
        let mut df: FxHashMap<&str, usize> = FxHashMap::default();
        let mut seen: FxHashSet<&str> = FxHashSet::default();
        for &i in &training {
            seen.clear();
            for t in &tokens[i] {
                if seen.insert(t) {
                    *df.entry(t).or_default() += 1;
                }
            }
        }
        let mut terms: Vec<(&str, usize)> = df
            .iter()
            .filter(|&(_, &d)| d >= min_df && d <= max_df)
            .map(|(&t, &d)| (t, d))
            .collect();
        if terms.is_empty() {
            return Err(TopicModelError::EmptyVocabulary {
                training_posts: training.len(),
            });
        }
        terms.sort_unstable();
        let n = training.len() as f64;
        let idf: Vec<f64> = terms
            .iter()
            .map(|&(_, d)| ((n + 1.0) / (d as f64 + 1.0)).ln() + 1.0)
            .collect();
        let vocabulary: FxHashMap<String, u32> = terms
            .iter()
            .enumerate()
            .map(|(i, &(t, _))| (t.to_string(), i as u32))
            .collect();

        let mut seed_class_posts = [0usize; CLASSES];
        for s in seeds {
            seed_class_posts[s.class() as usize] += 1;
        }
        let mut classes: Vec<u8> = training.iter().map(|&i| seeds[i].class()).collect();
        classes.sort_unstable();
        classes.dedup();
        if classes.len() < 2 {
            return Err(TopicModelError::OneClass { class: classes[0] });
        }
        let class_index = |c: u8| classes.binary_search(&c).expect("a training class") as u32;
        let y: Vec<u32> = training
            .iter()
            .map(|&i| class_index(seeds[i].class()))
            .collect();

        let mut classifier = TopicClassifier {
            tokenizer,
            stop_words,
            vocabulary,
            idf,
            classes,
            fit: LogisticFit {
                params: vec![],
                features: 0,
                outputs: 0,
                iterations: 0,
                loss: 0.0,
                gradient_norm: 0.0,
                converged: false,
            },
        };
        let x = classifier.tfidf(&training.iter().map(|&i| &tokens[i][..]).collect::<Vec<_>>());
        classifier.fit = logistic::fit(&x, &y, classifier.classes.len(), C, MAX_ITERATIONS)
            .map_err(|e| TopicModelError::Optimizer(e.to_string()))?;

        let report = ClassifierReport {
            posts,
            training_posts: training.len(),
            conflicted_posts: posts - training.len(),
            seed_class_posts,
            stop_words: classifier.stop_words.len(),
            tokens: df.len(),
            min_df,
            max_df,
            features: classifier.idf.len(),
            classes: classifier.classes.clone(),
            iterations: classifier.fit.iterations,
            loss: classifier.fit.loss,
            gradient_norm: classifier.fit.gradient_norm,
            converged: classifier.fit.converged,
            balanced_accuracy: f64::NAN,
        };
        Ok((classifier, report, tokens))
    }

    /// Rows of l2-normalised TF-IDF features, one per token list.
    fn tfidf(&self, docs: &[&[String]]) -> Csr {
        let rows: Vec<Vec<(u32, f64)>> = docs
            .par_iter()
            .map(|tokens| {
                let mut ids: Vec<u32> = tokens
                    .iter()
                    .filter_map(|t| self.vocabulary.get(t.as_str()).copied())
                    .collect();
                ids.sort_unstable();
                let mut row: Vec<(u32, f64)> = vec![];
                for id in ids {
                    match row.last_mut() {
                        Some((last, count)) if *last == id => *count += 1.0,
                        _ => row.push((id, 1.0)),
                    }
                }
                let mut norm = 0.0;
                for (id, v) in row.iter_mut() {
                    *v *= self.idf[*id as usize];
                    norm += *v * *v;
                }
                if norm != 0.0 {
                    let norm = norm.sqrt();
                    for (_, v) in row.iter_mut() {
                        *v /= norm;
                    }
                }
                row
            })
            .collect();
        let mut x = Csr {
            cols: self.idf.len(),
            indptr: vec![0],
            ..Csr::default()
        };
        for row in rows {
            for (c, v) in row {
                x.indices.push(c);
                x.data.push(v);
            }
            x.indptr.push(x.indices.len());
        }
        x
    }

    fn probabilities_of_tokens(&self, tokens: &[Vec<String>]) -> Vec<[f64; CLASSES]> {
        let x = self.tfidf(&tokens.iter().map(Vec::as_slice).collect::<Vec<_>>());
        let k = if self.fit.outputs == 1 {
            2
        } else {
            self.fit.outputs
        };
        self.fit
            .probabilities(&x)
            .chunks(k)
            .map(|p| {
                let mut full = [0.0; CLASSES];
                for (&c, &v) in self.classes.iter().zip(p) {
                    full[c as usize] = v;
                }
                full
            })
            .collect()
    }

    /// Class probabilities of post texts (prepared as [`PostText::post_text`] does).
    pub fn probabilities(&self, texts: &[&str]) -> Vec<[f64; CLASSES]> {
        let tokens: Vec<Vec<String>> = texts
            .par_iter()
            .map(|t| {
                let mut tokens = vec![];
                self.tokenizer.feature_tokens(t, &mut tokens);
                tokens.retain(|t| !self.stop_words.contains(t));
                tokens
            })
            .collect();
        self.probabilities_of_tokens(&tokens)
    }

    /// Number of features.
    pub fn features(&self) -> usize {
        self.idf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(tweet: i64, summary: &str) -> NoteText<'_> {
        NoteText {
            tweet_id: Some(tweet),
            summary,
        }
    }

    /// A small corpus: topic posts share words with their seed terms' posts.
    fn corpus() -> Vec<String> {
        let mut out = vec![];
        let filler = [
            "the claim",
            "this post",
            "a video",
            "the photo",
            "an article",
        ];
        for i in 0..40 {
            let f = filler[i % filler.len()];
            out.push(format!("{f} about ukraine war front tanks drones {i}"));
            out.push(format!("{f} on gaza ceasefire hostages aid {i}"));
            out.push(format!("{f} is a scam wallet crypto giveaway {i}"));
            out.push(format!("{f} shows weather rain forecast storm {i}"));
            out.push(format!("{f} cites election ballots county count {i}"));
        }
        // Unlabelled posts in topic vocabulary.
        out.push("tanks drones at the front".into());
        out.push("crypto giveaway wallet".into());
        out
    }

    #[test]
    fn assigns_seeded_and_similar_posts() {
        let texts = corpus();
        let mut notes: Vec<NoteText<'_>> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| note(1000 + i as i64, t))
            .collect();
        // Two notes on one post, a deleted note, and a conflicted post.
        notes.push(note(1000, "more text"));
        notes.push(NoteText {
            tweet_id: None,
            summary: "",
        });
        notes.push(note(5, "russia and gaza tanks drones front"));
        let a = assign_note_topics(&notes).unwrap();
        assert_eq!(a.note_topics.len(), notes.len());
        assert_eq!(a.note_topics[0], Some(Topic::UkraineConflict));
        assert_eq!(a.note_topics[1], Some(Topic::GazaConflict));
        assert_eq!(a.note_topics[2], Some(Topic::Scams));
        assert_eq!(a.note_topics[3], None);
        assert_eq!(a.note_topics[texts.len()], Some(Topic::UkraineConflict));
        assert_eq!(a.note_topics[texts.len() + 1], None);
        // Unlabelled posts that read like a topic get it from the classifier.
        assert_eq!(a.note_topics[texts.len() - 2], Some(Topic::UkraineConflict));
        assert_eq!(a.note_topics[texts.len() - 1], Some(Topic::Scams));
        // The conflicted post takes the more probable of its matched topics.
        assert_eq!(a.note_topics[texts.len() + 2], Some(Topic::UkraineConflict));
        let r = &a.report;
        assert_eq!(r.posts, texts.len() + 1);
        assert_eq!(r.conflicted_posts, 1);
        assert_eq!(r.classes, [0, 1, 2, 4]);
        assert!(r.converged && r.balanced_accuracy > 0.9, "{r:?}");
        // Posts sorted by tweet id as text: "1000" < "1001" < ... < "5".
        assert_eq!(a.posts.last().unwrap().tweet_id, 5);
        assert_eq!(a.posts[0].notes, [0, texts.len() as u32]);
        // Seed terms are stop words: "ukraine" is no feature.
        let (c, _) = TopicClassifier::train(
            &a.posts.iter().map(|p| p.text.as_str()).collect::<Vec<_>>(),
            &a.posts.iter().map(|p| p.seed.clone()).collect::<Vec<_>>(),
        )
        .unwrap();
        assert!(!c.vocabulary.contains_key("ukraine") && c.vocabulary.contains_key("tanks"));
        assert_eq!(c.features(), a.report.features);
    }

    #[test]
    fn same_result_on_one_thread() {
        let texts = corpus();
        let notes: Vec<NoteText<'_>> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| note(i as i64 % 150, t))
            .collect();
        let many = assign_note_topics(&notes).unwrap();
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| assign_note_topics(&notes).unwrap());
        assert_eq!(many, one);
    }

    #[test]
    fn failures_match_the_reference() {
        // No seed term anywhere: one class.
        let notes = [note(1, "hello world"), note(2, "other words")];
        assert_eq!(
            assign_note_topics(&notes),
            Err(TopicModelError::OneClass { class: 0 })
        );
        // Only stop words and one-letter words.
        let notes = [note(1, "gaza a"), note(2, "b")];
        assert_eq!(
            assign_note_topics(&notes),
            Err(TopicModelError::EmptyVocabulary { training_posts: 2 })
        );
        assert!(matches!(
            assign_note_topics(&[]),
            Err(TopicModelError::EmptyVocabulary { .. })
        ));
        // A classifier that cannot tell the classes apart: every post has the same non-seed
        // text, so the argmax is the majority class for all (recall 1, 0, 0).
        let text = |i| match i {
            0 | 1 => "gaza same words",
            2 | 3 => "russia same words",
            _ => "same words",
        };
        let notes: Vec<NoteText<'_>> = (0..10).map(|i| note(i, text(i))).collect();
        match assign_note_topics(&notes) {
            Err(TopicModelError::LowAccuracy { balanced_accuracy }) => {
                assert!((balanced_accuracy - 1.0 / 3.0).abs() < 1e-12)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn merge_rule() {
        let mut p = [0.0; CLASSES];
        p[0] = 0.985;
        p[1] = 0.011;
        p[5] = 0.004;
        let t = |t| SeedLabel::Topic(t);
        // Seed label kept at P ≥ 0.01 ...
        assert_eq!(merge(&t(Topic::UkraineConflict), &p, 0), 1);
        // ... InDimensionTwo needs 0.02.
        assert_eq!(merge(&t(Topic::InDimensionTwo), &p, 0), 0);
        p[5] = 0.02;
        assert_eq!(merge(&t(Topic::InDimensionTwo), &p, 0), 5);
        // A label without probability falls back to the argmax.
        assert_eq!(merge(&t(Topic::Scams), &p, 0), 0);
        assert_eq!(merge(&SeedLabel::None, &p, 3), 3);
        let both = SeedLabel::Conflicted(vec![Topic::UkraineConflict, Topic::InDimensionTwo]);
        assert_eq!(merge(&both, &p, 0), 5);
        p[5] = 0.011;
        // Tie: the lower id.
        assert_eq!(merge(&both, &p, 0), 1);
        p[1] = 0.001;
        p[5] = 0.015;
        assert_eq!(merge(&both, &p, 0), 0);
        assert_eq!(argmax(&[0.2, 0.4, 0.4, 0.0, 0.0, 0.0]), 1);
    }
}
