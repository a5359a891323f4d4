//! Every SQL statement in storage is parameterized: values travel as bind parameters, never
//! as text spliced into SQL. This reads the crate's source and checks each place SQL text is
//! assembled: a `format!` whose text is SQL may splice in only the crate's constant column
//! lists (ALL_CAPS names) or a `&'static str` WHERE clause, and `QueryBuilder::push` may take
//! only string literals. (Tests that create a schema of their own name it from the process id
//! and a counter: the one other exception, in `testing`.)

use std::path::Path;

const SQL_WORDS: [&str; 7] = [
    "SELECT ", "INSERT ", "UPDATE ", "DELETE ", "CREATE ", "DROP ", "ALTER ",
];

/// The string literal starting at `text` (just after its opening quote): its content.
fn literal(text: &str) -> &str {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return &text[..i],
            _ => i += 1,
        }
    }
    panic!("unterminated string literal");
}

/// The `{…}` placeholders of a format string (`{{` escapes skipped).
fn placeholders(format: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = format;
    while let Some(open) = rest.find('{') {
        if rest[open + 1..].starts_with('{') {
            rest = &rest[open + 2..];
            continue;
        }
        let close = rest[open..].find('}').expect("closed placeholder") + open;
        out.push(rest[open + 1..close].split(':').next().unwrap_or(""));
        rest = &rest[close + 1..];
    }
    out
}

/// Problems found in one source file.
fn check(file: &str, source: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut formats = 0;
    for (at, _) in source.match_indices("format!(") {
        let after = source[at + "format!(".len()..].trim_start();
        let Some(text) = after.strip_prefix('"') else {
            problems.push(format!("{file}: format! without a literal at byte {at}"));
            continue;
        };
        let text = literal(text);
        if !SQL_WORDS.iter().any(|w| text.contains(w)) {
            continue;
        }
        formats += 1;
        for name in placeholders(text) {
            let constant =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_');
            // The test helpers' schema and database names, made from letters, digits and
            // underscores (`plain_identifier` checks the database names).
            let test_schema = file.ends_with("lib.rs")
                && (name == "schema"
                    || (name == "name" && source.contains("fn plain_identifier(name: &str)")));
            // `note_views` takes its WHERE clause as a `&'static str` (a literal).
            let static_filter = file.ends_with("sql.rs")
                && name == "filter"
                && source.contains("filter: &'static str");
            if !constant && !test_schema && !static_filter {
                problems.push(format!("{file}: SQL built with {{{name}}}: {text:?}"));
            }
        }
    }
    for (at, _) in source.match_indices(".push(") {
        let after = &source[at + ".push(".len()..];
        // Only QueryBuilder pushes carry SQL; they are the ones taking text.
        if let Some(rest) = after.strip_prefix('"') {
            let text = literal(rest);
            if text.contains('{') || text.contains('$') {
                problems.push(format!("{file}: pushed SQL with a value: {text:?}"));
            }
        }
    }
    for (at, _) in source.match_indices("push_unseparated(") {
        problems.push(format!("{file}: push_unseparated at byte {at}"));
    }
    if file.ends_with("sql.rs") {
        assert!(
            formats >= 8,
            "{file}: the scan found the SQL it should ({formats})"
        );
    }
    problems
}

#[test]
fn sql_is_parameterized() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut problems = Vec::new();
    let mut files = 0;
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            files += 1;
            let source = std::fs::read_to_string(&path).unwrap();
            problems.extend(check(&path.display().to_string(), &source));
        }
    }
    assert!(files >= 5);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_scan_catches_spliced_values() {
    let bad = r#"let sql = format!("SELECT * FROM notes WHERE id = {id}");"#;
    assert_eq!(check("x.rs", bad).len(), 1);
    let positional = r#"sqlx::query(&format!("DELETE FROM ratings WHERE rater = '{}'", who))"#;
    assert_eq!(check("x.rs", positional).len(), 1);
    let pushed = r#"q.push(" WHERE id = $1");"#;
    assert_eq!(check("x.rs", pushed).len(), 1);
    let fine = r#"format!("SELECT {NOTE_COLUMNS} FROM notes WHERE id = $1")"#;
    assert!(check("x.rs", fine).is_empty());
    let message = r#"format!("{what} already exists")"#;
    assert!(check("x.rs", message).is_empty());
}
