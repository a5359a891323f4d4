//! The text side of the topic model: post text, seed labels, the tokenizer and stop words.
//!
//! The reference runs Python's `re` on `str`, where `\w` is a letter, a number or `_`
//! (`str.isalnum`), `\s` is `str.isspace` and `\b` is a change between the two. The `regex`
//! crate's Unicode `\w` also counts combining marks (Devanagari vowel signs, for one) and
//! has no lookaround, so those two notions are spelled out here: [`PyChars`] classifies
//! characters the Python way and word boundaries are checked by hand around regex matches.

use std::borrow::Cow;

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use regex_syntax::hir::{Class, HirKind};
use rustc_hash::FxHashSet;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::canonical_combining_class;

use crate::topic::Topic;

/// The seed terms of each topic, in Python `re` syntax as the reference writes them.
///
/// A term is matched after start-of-text or whitespace unless it contains `\.` (a URL) or
/// starts with `\b`/`\s`; `\b` and `\s` carry Python's meaning.
pub const SEED_TERMS: [(Topic, &[&str]); 5] = [
    (
        Topic::UkraineConflict,
        &[
            // Shortened on purpose, so that "ukraine", "ukrainian", ... all match.
            "ukrain", "russia", "kiev", "kyiv", "moscow", "zelensky", "putin",
        ],
    ),
    (
        Topic::GazaConflict,
        &["israel", "palestin", "gaza", "jerusalem", r"\bhamas\b"],
    ),
    (Topic::MessiRonaldo, &[r"messi\b", "ronaldo"]),
    (
        Topic::Scams,
        &[
            "scam",
            r"undisclosed\sad",
            r"terms\sof\sservice",
            r"help\.x\.com",
            r"x\.com/tos",
            r"engagement\sfarm",
            "spam",
            "gambling",
            "apostas",
            "apuestas",
            "dropship",
            r"drop\sship",
            "promotion",
        ],
    ),
    (
        Topic::InDimensionTwo,
        &[
            r"\bugc\b",
            r"\bgc\b",
            r"\bobc\b",
            r"\bsc\b",
            r"\bsc[,\s]+st\b",
            r"\bst[,\s]+sc\b",
            "आरक्षण",
        ],
    ),
];

/// URLs whose whole text survives [`PostText`]'s reduction (they are seed terms).
const KEPT_URLS: [&str; 2] = ["help.x.com", "x.com/tos"];

/// The body of a regex class matching what Python's `\s` matches (`str.isspace`): Unicode
/// `White_Space` plus the separators U+001C–U+001F.
const PY_SPACE: &str =
    r"\t-\r\x1C-\x1F \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}";

/// Python's `\s`.
pub fn is_py_space(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | '\x1c'..='\x1f'
            | ' '
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// Python's `\w` for `str` patterns: letters (`L*`), numbers (`N*`) and `_`.
#[derive(Clone, Debug)]
pub struct PyChars {
    /// Sorted, disjoint, inclusive ranges of non-ASCII word characters.
    ranges: Vec<(char, char)>,
}

impl Default for PyChars {
    fn default() -> Self {
        Self::new()
    }
}

impl PyChars {
    pub fn new() -> Self {
        let hir = regex_syntax::ParserBuilder::new()
            .build()
            .parse(r"[\p{L}\p{N}_]")
            .expect("valid class");
        let HirKind::Class(Class::Unicode(class)) = hir.kind() else {
            unreachable!("a Unicode class parses to a Unicode class")
        };
        let ranges = class
            .ranges()
            .iter()
            .map(|r| (r.start(), r.end()))
            .collect();
        PyChars { ranges }
    }

    /// Python's `\w`.
    pub fn is_word(&self, c: char) -> bool {
        if c.is_ascii() {
            return c.is_ascii_alphanumeric() || c == '_';
        }
        self.ranges
            .binary_search_by(|&(lo, hi)| {
                if hi < c {
                    std::cmp::Ordering::Less
                } else if lo > c {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
    }

    /// Python's `\b` at byte offset `at` of `text`.
    pub fn is_boundary(&self, text: &str, at: usize) -> bool {
        let before = text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| self.is_word(c));
        let after = text[at..].chars().next().is_some_and(|c| self.is_word(c));
        before != after
    }
}

/// scikit-learn's `strip_accents_unicode`: unchanged if ASCII, else NFKD with every
/// character of non-zero canonical combining class removed.
pub fn strip_accents(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(
            s.nfkd()
                .filter(|&c| canonical_combining_class(c) == 0)
                .collect(),
        )
    }
}

/// Rewrites the body of a Python seed term (no leading/trailing `\b`) in `regex` syntax:
/// `\s` becomes Python's whitespace class; `\.` and literal characters stay.
fn translate_body(term: &str) -> String {
    let mut out = String::new();
    let mut in_class = false;
    let mut chars = term.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('s') if in_class => out.push_str(PY_SPACE),
                Some('s') => {
                    out.push('[');
                    out.push_str(PY_SPACE);
                    out.push(']');
                }
                Some('.') => out.push_str(r"\."),
                other => panic!("unsupported escape \\{other:?} in seed term {term:?}"),
            },
            '[' if !in_class => {
                in_class = true;
                out.push('[');
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '+' if !in_class => out.push('+'),
            c => out.push_str(&regex_syntax::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    assert!(!in_class, "unclosed class in seed term {term:?}");
    out
}

/// What must precede a seed term's match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lead {
    /// Start of text or a whitespace character (the reference's `(?:\s|^)`).
    SpaceOrStart,
    /// A word boundary (`\b`).
    Boundary,
    /// Nothing.
    Anything,
}

/// One seed term, ready to match.
#[derive(Clone, Debug)]
struct SeedTerm {
    topic: Topic,
    lead: Lead,
    /// Whether the term ends in `\b`.
    trailing_boundary: bool,
    body: Regex,
}

impl SeedTerm {
    fn new(topic: Topic, term: &str) -> Self {
        let (lead, rest) = if let Some(rest) = term.strip_prefix(r"\b") {
            (Lead::Boundary, rest)
        } else if term.contains(r"\.") || term.starts_with(r"\s") {
            (Lead::Anything, term)
        } else {
            (Lead::SpaceOrStart, term)
        };
        let (trailing_boundary, rest) = match rest.strip_suffix(r"\b") {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        SeedTerm {
            topic,
            lead,
            trailing_boundary,
            body: case_insensitive(&translate_body(rest)),
        }
    }

    /// Whether the term has a match anywhere in `text` (already lower-cased).
    ///
    /// Each body has at most one match at a given start (its only repetition, `[,\s]+`, is
    /// followed by a letter it cannot match), so trying every start is exhaustive.
    fn occurs_in(&self, text: &str, chars: &PyChars) -> bool {
        let mut from = 0;
        while let Some(m) = self.body.find_at(text, from) {
            let lead_ok = match self.lead {
                Lead::SpaceOrStart => {
                    m.start() == 0
                        || text[..m.start()]
                            .chars()
                            .next_back()
                            .is_some_and(is_py_space)
                }
                Lead::Boundary => chars.is_boundary(text, m.start()),
                Lead::Anything => true,
            };
            if lead_ok && (!self.trailing_boundary || chars.is_boundary(text, m.end())) {
                return true;
            }
            from = m.start() + text[m.start()..].chars().next().map_or(1, char::len_utf8);
        }
        false
    }
}

fn case_insensitive(pattern: &str) -> Regex {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .build()
        .expect("valid seed pattern")
}

/// A post's label from its seed terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeedLabel {
    /// No seed term matched.
    None,
    /// The seed terms of exactly one topic matched.
    Topic(Topic),
    /// Seed terms of several topics matched (ascending): the post is Unassigned for
    /// training and left out of it.
    Conflicted(Vec<Topic>),
}

impl SeedLabel {
    /// The reference's class number: the topic's id, 0 when unassigned or conflicted.
    pub fn class(&self) -> u8 {
        match self {
            SeedLabel::Topic(t) => t.id(),
            _ => 0,
        }
    }

    pub fn is_conflicted(&self) -> bool {
        matches!(self, SeedLabel::Conflicted(_))
    }
}

/// Labels texts with the seed terms (`_make_seed_labels`).
///
/// The reference collects the topics of the matches `finditer` reports for one regex of all
/// terms. No term can match inside another topic's match (their texts do not overlap that
/// way), so that set is the set of topics with a term matching anywhere, which is what this
/// computes: a [`RegexSet`] finds candidate terms, each is then checked with Python's `\b`
/// and `\s`.
#[derive(Clone, Debug)]
pub struct SeedLabeller {
    terms: Vec<SeedTerm>,
    candidates: RegexSet,
    chars: PyChars,
}

impl Default for SeedLabeller {
    fn default() -> Self {
        Self::new()
    }
}

impl SeedLabeller {
    pub fn new() -> Self {
        let terms: Vec<SeedTerm> = SEED_TERMS
            .iter()
            .flat_map(|(topic, terms)| terms.iter().map(|t| SeedTerm::new(*topic, t)))
            .collect();
        let candidates = RegexSetBuilder::new(terms.iter().map(|t| t.body.as_str()))
            .case_insensitive(true)
            .build()
            .expect("valid seed patterns");
        SeedLabeller {
            terms,
            candidates,
            chars: PyChars::new(),
        }
    }

    /// The seed label of a post's text (lower-cased here, as the reference does).
    pub fn label(&self, text: &str) -> SeedLabel {
        let text = text.to_lowercase();
        let mut found = [false; 5];
        for i in self.candidates.matches(&text).iter() {
            let term = &self.terms[i];
            let slot = &mut found[term.topic.id() as usize - 1];
            if !*slot && term.occurs_in(&text, &self.chars) {
                *slot = true;
            }
        }
        let topics: Vec<Topic> = TOPICS
            .into_iter()
            .zip(found)
            .filter_map(|(t, f)| f.then_some(t))
            .collect();
        match topics.len() {
            0 => SeedLabel::None,
            1 => SeedLabel::Topic(topics[0]),
            _ => SeedLabel::Conflicted(topics),
        }
    }
}

/// Topics in id order.
pub const TOPICS: [Topic; 5] = [
    Topic::UkraineConflict,
    Topic::GazaConflict,
    Topic::MessiRonaldo,
    Topic::Scams,
    Topic::InDimensionTwo,
];

/// Builds a post's text from its notes' summaries (`_prepare_post_text`).
#[derive(Clone, Debug)]
pub struct PostText {
    url: Regex,
}

impl Default for PostText {
    fn default() -> Self {
        Self::new()
    }
}

impl PostText {
    pub fn new() -> Self {
        PostText {
            url: Regex::new(&format!(r"https?://[^{PY_SPACE})\]]+")).expect("valid URL pattern"),
        }
    }

    /// Replaces each URL by its runs of at least 4 ASCII letters (space-separated), except
    /// URLs containing `help.x.com` or `x.com/tos`, which stay whole.
    pub fn reduce_urls(&self, text: &str) -> String {
        self.url
            .replace_all(text, |caps: &regex::Captures<'_>| {
                let url = &caps[0];
                if KEPT_URLS.iter().any(|k| url.contains(k)) {
                    url.to_string()
                } else {
                    url.split(|c: char| !c.is_ascii_alphabetic())
                        .filter(|run| run.len() >= 4)
                        .collect::<Vec<_>>()
                        .join(" ")
                }
            })
            .into_owned()
    }

    /// The text of a post with these summaries (in note order): joined with spaces, URLs
    /// reduced, then `_` and `/` replaced by spaces.
    pub fn post_text<'a>(&self, summaries: impl IntoIterator<Item = &'a str>) -> String {
        let joined = summaries.into_iter().collect::<Vec<_>>().join(" ");
        self.reduce_urls(&joined).replace(['_', '/'], " ")
    }
}

/// The reference's `custom_tokenizer`: lower case, accents stripped, then URL seed terms as
/// whole tokens (`help.x.com`, optionally after `http(s)://` and before `/path`), else
/// Python's `\b\w\w+\b`.
#[derive(Clone, Debug)]
pub struct Tokenizer {
    /// The URL seed-term alternatives, anchored.
    url_terms: Regex,
    chars: PyChars,
}

impl Default for Tokenizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Tokenizer {
    pub fn new() -> Self {
        let alternatives: Vec<String> = SEED_TERMS
            .iter()
            .flat_map(|(_, terms)| terms.iter())
            .filter(|t| t.contains(r"\."))
            .map(|t| format!(r"(?:https?://)?({})(?:/[^{PY_SPACE}]+)?", translate_body(t)))
            .collect();
        Tokenizer {
            url_terms: case_insensitive(&format!("^(?:{})", alternatives.join("|"))),
            chars: PyChars::new(),
        }
    }

    /// Tokens of `text` (the tokenizer lower-cases and strips accents itself).
    pub fn tokenize(&self, text: &str, out: &mut Vec<String>) {
        let lower = text.to_lowercase();
        let prepared = strip_accents(&lower);
        self.tokenize_prepared(&prepared, out);
    }

    /// Tokens of text already lower-cased and accent-stripped.
    ///
    /// Python's `finditer` tries the URL alternatives first at every position it visits and
    /// the word alternative only where a word starts (`\b`); a URL match may end inside a
    /// word, whose rest is then no token.
    fn tokenize_prepared(&self, s: &str, out: &mut Vec<String>) {
        let mut pos = 0;
        let mut prev_word = false;
        while pos < s.len() {
            let c = s[pos..].chars().next().expect("in bounds");
            let url = match c {
                'h' | 'x' | 'H' | 'X' => self.url_terms.captures(&s[pos..]),
                _ => None,
            };
            if let Some(caps) = url {
                let term = caps
                    .iter()
                    .skip(1)
                    .flatten()
                    .next()
                    .expect("one group matched");
                out.push(term.as_str().to_string());
                let end = pos + caps.get(0).expect("whole match").end();
                prev_word = s[..end]
                    .chars()
                    .next_back()
                    .is_some_and(|c| self.chars.is_word(c));
                pos = end;
                continue;
            }
            let is_word = self.chars.is_word(c);
            if is_word && !prev_word {
                let mut end = pos;
                let mut count = 0;
                for (i, c) in s[pos..].char_indices() {
                    if !self.chars.is_word(c) {
                        break;
                    }
                    end = pos + i + c.len_utf8();
                    count += 1;
                }
                if count >= 2 {
                    out.push(s[pos..end].to_string());
                    pos = end;
                    prev_word = true;
                    continue;
                }
            }
            prev_word = is_word;
            pos += c.len_utf8();
        }
    }

    /// Tokens as the stop-word vocabulary sees them (`CountVectorizer(tokenizer=...)`:
    /// lower-cased, then tokenized).
    pub fn vocabulary_tokens(&self, text: &str, out: &mut Vec<String>) {
        if text.is_ascii() {
            return self.tokenize_prepared(&text.to_ascii_lowercase(), out);
        }
        self.tokenize(&text.to_lowercase(), out);
    }

    /// Tokens as the classifier's vectorizer sees them (`strip_accents="unicode"`:
    /// lower-cased, accents stripped, then tokenized), before stop words are removed.
    pub fn feature_tokens(&self, text: &str, out: &mut Vec<String>) {
        if text.is_ascii() {
            return self.tokenize_prepared(&text.to_ascii_lowercase(), out);
        }
        self.tokenize(&strip_accents(&text.to_lowercase()), out);
    }
}

/// Substrings that make a vocabulary token a stop word: each seed term with its `\s` and
/// `\b` escapes deleted, and with every escape replaced by `.`.
pub fn blocked_substrings() -> Vec<String> {
    let delete = Regex::new(r"\\[sb]").expect("valid");
    let dot = Regex::new(r"\\.").expect("valid");
    let mut blocked: Vec<String> = SEED_TERMS
        .iter()
        .flat_map(|(_, terms)| terms.iter())
        .flat_map(|t| {
            let t = t.trim();
            [
                delete.replace_all(t, "").into_owned(),
                dot.replace_all(t, ".").into_owned(),
            ]
        })
        .collect();
    blocked.sort();
    blocked.dedup();
    blocked
}

/// The stop words: tokens of the vocabulary that contain a blocked substring.
pub fn stop_words<'a>(
    vocabulary: impl IntoIterator<Item = &'a str>,
    blocked: &[String],
) -> FxHashSet<String> {
    vocabulary
        .into_iter()
        .filter(|v| blocked.iter().any(|b| v.contains(b.as_str())))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(text: &str) -> SeedLabel {
        SeedLabeller::new().label(text)
    }

    fn tokens(text: &str) -> Vec<String> {
        let mut out = vec![];
        Tokenizer::new().tokenize(text, &mut out);
        out
    }

    #[test]
    fn python_character_classes() {
        let c = PyChars::new();
        for w in ['a', 'Z', '0', '_', 'é', 'я', 'क', '投', '²', 'ー'] {
            assert!(c.is_word(w), "{w:?} is \\w in Python");
        }
        // Devanagari vowel sign and virama, combining acute, ZWJ, connector punctuation.
        for n in [
            '\u{93e}', '\u{94d}', '\u{301}', '\u{200d}', '‿', '-', ' ', '.',
        ] {
            assert!(!c.is_word(n), "{n:?} is not \\w in Python");
        }
        for s in ['\t', '\x1c', '\x1f', ' ', '\u{a0}', '\u{3000}', '\u{85}'] {
            assert!(is_py_space(s));
        }
        assert!(!is_py_space('\u{200b}') && !is_py_space('x'));
        assert!(c.is_boundary("ab cd", 2) && c.is_boundary("ab cd", 0));
        assert!(!c.is_boundary("ab cd", 1) && c.is_boundary("ab", 2));
    }

    #[test]
    fn seed_terms_translate() {
        for (topic, terms) in SEED_TERMS {
            for term in terms {
                let t = SeedTerm::new(topic, term);
                assert!(!t.body.as_str().contains(r"\b"), "{term}");
            }
        }
        let t = SeedTerm::new(Topic::InDimensionTwo, r"\bsc[,\s]+st\b");
        assert_eq!(t.lead, Lead::Boundary);
        assert!(t.trailing_boundary);
        assert_eq!(
            SeedTerm::new(Topic::Scams, r"help\.x\.com").lead,
            Lead::Anything
        );
        assert_eq!(SeedTerm::new(Topic::Scams, "scam").lead, Lead::SpaceOrStart);
        assert_eq!(
            SeedTerm::new(Topic::MessiRonaldo, r"messi\b").lead,
            Lead::SpaceOrStart
        );
    }

    #[test]
    fn seed_terms_match_as_prefixes_after_whitespace() {
        use crate::topic::Topic as T;
        use SeedLabel::None;
        let topic = SeedLabel::Topic;
        assert_eq!(label("The Ukrainian army"), topic(T::UkraineConflict));
        assert_eq!(label("UKRAINE"), topic(T::UkraineConflict));
        // Not after a letter or punctuation: only start-of-text or whitespace may precede.
        assert_eq!(label("pro-russia rally"), None);
        assert_eq!(label("(gaza)"), None);
        assert_eq!(label("\u{3000}gaza"), topic(T::GazaConflict));
        assert_eq!(label("x\x1cgaza"), topic(T::GazaConflict));
        // Non-breaking-less zero width space is not whitespace in Python.
        assert_eq!(label("x\u{200b}gaza"), None);
        assert_eq!(label("scammers everywhere"), topic(T::Scams));
        assert_eq!(label("a promotional post"), topic(T::Scams));
        assert_eq!(label("undisclosed\tad here"), topic(T::Scams));
        assert_eq!(label("undisclosed  ad"), None);
        assert_eq!(label("Terms of Service"), topic(T::Scams));
    }

    #[test]
    fn seed_terms_with_word_boundaries() {
        use crate::topic::Topic as T;
        use SeedLabel::None;
        let topic = SeedLabel::Topic;
        assert_eq!(label("messi scores"), topic(T::MessiRonaldo));
        assert_eq!(label("messi, again"), topic(T::MessiRonaldo));
        assert_eq!(label("messiah"), None);
        assert_eq!(label("lionel messi"), topic(T::MessiRonaldo));
        assert_eq!(label("the hamas attack"), topic(T::GazaConflict));
        assert_eq!(label("(hamas)"), topic(T::GazaConflict));
        assert_eq!(label("hamasx"), None);
        assert_eq!(label("xhamas"), None);
        assert_eq!(label("sc/st quota"), topic(T::InDimensionTwo));
        assert_eq!(label("the sc, st reservation"), topic(T::InDimensionTwo));
        assert_eq!(label("OBC"), topic(T::InDimensionTwo));
        assert_eq!(label("disc"), None);
        assert_eq!(label("sc_lang"), None);
        // A combining mark is no word character in Python: "sc" before it is a word.
        assert_eq!(label("sc\u{301}"), topic(T::InDimensionTwo));
        // A Devanagari vowel sign is not \w in Python either.
        assert_eq!(label("\u{93e}gc"), topic(T::InDimensionTwo));
        // But a letter is.
        assert_eq!(label("égc"), None);
        assert_eq!(label("आरक्षण नीति"), topic(T::InDimensionTwo));
    }

    #[test]
    fn urls_and_conflicts() {
        use crate::topic::Topic as T;
        use SeedLabel::{Conflicted, None};
        let topic = SeedLabel::Topic;
        // URL seed terms match anywhere, not only after whitespace.
        assert_eq!(label("see https://help.x.com/en"), topic(T::Scams));
        assert_eq!(label("seehelp.x.com"), topic(T::Scams));
        assert_eq!(label("helpXx.com"), None);
        assert_eq!(
            label("russia and gaza"),
            Conflicted(vec![T::UkraineConflict, T::GazaConflict])
        );
        assert_eq!(
            label("hamas russia messi scam obc"),
            Conflicted(vec![
                T::UkraineConflict,
                T::GazaConflict,
                T::MessiRonaldo,
                T::Scams,
                T::InDimensionTwo
            ])
        );
        assert!(label("gaza kyiv").is_conflicted());
        assert_eq!(label("gaza kyiv").class(), 0);
        assert_eq!(label("gaza").class(), 2);
        assert_eq!(label("").class(), 0);
    }

    #[test]
    fn post_text_reduces_urls() {
        let p = PostText::new();
        assert_eq!(
            p.reduce_urls("see https://www.example.com/some_path/sc_lang?x=1 now"),
            "see https example some path lang now"
        );
        assert_eq!(
            p.reduce_urls("(https://news.site/abc)"),
            "(https news site)"
        );
        assert_eq!(
            p.reduce_urls("https://help.x.com/en/rules x"),
            "https://help.x.com/en/rules x"
        );
        assert_eq!(p.reduce_urls("http://x.com/tos"), "http://x.com/tos");
        assert_eq!(
            p.reduce_urls("HTTPS://UPPER.CASE/path"),
            "HTTPS://UPPER.CASE/path"
        );
        assert_eq!(
            p.post_text(["a_b", "c/d https://www.bbc.co.uk/news_x"]),
            "a b c d https news"
        );
        // The reduction keeps "sc" out of the text; without it "sc" would be a seed term.
        let text = p.post_text(["https://t.co/x?sc_lang=en"]);
        assert_eq!(text, "https lang");
        assert_eq!(SeedLabeller::new().label(&text), SeedLabel::None);
        assert_eq!(
            SeedLabeller::new().label(&p.post_text(["sc_lang"])),
            SeedLabel::Topic(Topic::InDimensionTwo)
        );
    }

    #[test]
    fn tokenizer_words_and_url_terms() {
        assert_eq!(tokens("Hello, a World_2 x"), ["hello", "world_2"]);
        assert_eq!(tokens("Café naïve"), ["cafe", "naive"]);
        assert_eq!(
            tokens("see https://help.x.com/en/rules and HELP.X.COM"),
            ["see", "help.x.com", "and", "help.x.com"]
        );
        assert_eq!(tokens("x.com/tos/more"), ["x.com/tos"]);
        assert_eq!(tokens("x.com tos"), ["com", "tos"]);
        // The rest of a word after a URL term is no token (no \b there) ...
        assert_eq!(tokens("help.x.comfoo bar"), ["help.x.com", "bar"]);
        // ... but another URL term there is.
        assert_eq!(tokens("help.x.comhelp.x.com"), ["help.x.com", "help.x.com"]);
        // A URL term inside a word is not found: the word is taken first.
        assert_eq!(tokens("foohelp.x.com"), ["foohelp", "com"]);
        // Python's \w: Devanagari vowel signs split words; a virama is stripped as an accent.
        assert_eq!(tokens("सरकारी"), ["सरक"]);
        assert_eq!(tokens("आरक्षण"), ["आरकषण"]);
        assert_eq!(
            tokens("この投稿は誤りです。 FDA approvalに"),
            ["この投稿は誤りてす", "fda", "approvalに"]
        );
    }

    #[test]
    fn stop_words_from_seed_terms() {
        let blocked = blocked_substrings();
        for b in [
            "ukrain",
            "hamas",
            ".hamas.",
            "messi",
            "messi.",
            "undisclosedad",
            "undisclosed.ad",
            "help.x.com",
            r"help\.x\.com",
            "x.com/tos",
            "sc",
            ".sc.",
            "sc[,]+st",
            ".sc[,.]+st.",
            "आरक्षण",
        ] {
            assert!(blocked.contains(&b.to_string()), "{b}");
        }
        let vocab = [
            "ukraine",
            "describe",
            "gcse",
            "help.x.com",
            "scam",
            "news",
            "messiah",
            "hamas",
            "stocks",
            "obcx",
        ];
        let mut stop: Vec<String> = stop_words(vocab, &blocked).into_iter().collect();
        stop.sort();
        assert_eq!(
            stop,
            [
                "describe",
                "gcse",
                "hamas",
                "help.x.com",
                "messiah",
                "obcx",
                "scam",
                "ukraine"
            ]
        );
    }

    #[test]
    fn analyzers_differ_only_on_compatibility_characters() {
        let t = Tokenizer::new();
        let (mut a, mut b) = (vec![], vec![]);
        t.vocabulary_tokens("Naïve ﬁle", &mut a);
        t.feature_tokens("Naïve ﬁle", &mut b);
        assert_eq!(a, ["naive", "file"]);
        assert_eq!(b, a);
        let (mut a, mut b) = (vec![], vec![]);
        // U+3392 SQUARE MHZ decomposes to "MHz" after lower-casing: only the feature
        // analyzer lower-cases again.
        t.vocabulary_tokens("㎒", &mut a);
        t.feature_tokens("㎒", &mut b);
        assert_eq!(a, ["MHz"]);
        assert_eq!(b, ["mhz"]);
    }
}
