//! `truth.json`: the latent variables behind a generated community, written as columns
//! (one JSON array per variable) without building the document in memory.

use std::io::{BufWriter, Write};
use std::path::Path;

use bridgenotes_engine::NoteStatus;
use bridgenotes_format::FormatError;
use bridgenotes_format::write::AtomicFile;
use serde::Serialize;

use crate::community::{TOPICS, World, note_flag};
use crate::{MODEL, SynthError, SynthSummary, ValidSynthParams};

/// Adapts an [`AtomicFile`] to `io::Write`, keeping the format error for the caller.
struct Sink<'a> {
    file: &'a mut AtomicFile,
    error: Option<FormatError>,
}

impl Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.file.write_all(buf) {
            Ok(()) => Ok(buf.len()),
            Err(e) => {
                self.error = Some(e);
                Err(std::io::Error::other("write failed"))
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A column serialized from a slice through a projection.
struct Column<'a, T, F>(&'a [T], F);

impl<T, V: Serialize, F: Fn(usize, &T) -> V> Serialize for Column<'_, T, F> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().enumerate().map(|(i, x)| (self.1)(i, x)))
    }
}

fn column<T, V: Serialize, F: Fn(usize, &T) -> V>(items: &[T], f: F) -> Column<'_, T, F> {
    Column(items, f)
}

/// Rounds to 5 decimals (the latent values are not more precise than that anyway).
fn round5(x: f32) -> f64 {
    (f64::from(x) * 1e5).round() / 1e5
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Args {
    notes: usize,
    raters: usize,
    ratings: usize,
    seed: u64,
    weeks: f64,
    epoch_millis: i64,
}

/// Writes `key: value` pairs of one JSON object.
struct Object<'w, W: Write> {
    w: &'w mut W,
    first: bool,
}

impl<'w, W: Write> Object<'w, W> {
    fn open(w: &'w mut W) -> std::io::Result<Self> {
        w.write_all(b"{")?;
        Ok(Object { w, first: true })
    }

    fn key(&mut self, key: &str) -> std::io::Result<()> {
        if !self.first {
            self.w.write_all(b",")?;
        }
        self.first = false;
        write!(self.w, "\n\"{key}\":")
    }

    fn field(&mut self, key: &str, value: &impl Serialize) -> std::io::Result<()> {
        self.key(key)?;
        serde_json::to_writer(&mut *self.w, value).map_err(std::io::Error::other)
    }

    fn close(self) -> std::io::Result<()> {
        self.w.write_all(b"}")
    }
}

fn write_document(
    w: &mut impl Write,
    params: &ValidSynthParams,
    world: &World,
    statuses: &[Option<NoteStatus>],
    summary: &SynthSummary,
) -> std::io::Result<()> {
    let p = params.params();
    let mut top = Object::open(w)?;
    top.field(
        "generator",
        &concat!("bridgenotes-synth ", env!("CARGO_PKG_VERSION")),
    )?;
    top.field("formatVersion", &1)?;
    top.field("seed", &p.seed)?;
    top.field("epochMillis", &p.epoch_millis)?;
    top.field("previousRunMillis", &world.previous_run_millis())?;
    top.field("windowStartMillis", &world.window_start_millis)?;
    top.field(
        "args",
        &Args {
            notes: p.notes,
            raters: p.raters,
            ratings: p.ratings,
            seed: p.seed,
            weeks: p.weeks,
            epoch_millis: p.epoch_millis,
        },
    )?;
    top.field("counts", summary)?;
    top.key("model")?;
    {
        let mut model = Object::open(&mut *top.w)?;
        model.field("helpfulness", &MODEL)?;
        model.field("qualityWeight", &crate::community::QUALITY_WEIGHT)?;
        model.field("polarizationWeight", &crate::community::POLARIZATION_WEIGHT)?;
        model.field("somewhatBand", &crate::community::SOMEWHAT_BAND)?;
        model.close()?;
    }

    let notes = &world.notes[..];
    top.key("notes")?;
    {
        let mut o = Object::open(&mut *top.w)?;
        o.field("noteId", &column(notes, |_, n| n.note_id.to_string()))?;
        o.field(
            "tweetId",
            &column(notes, |_, n| {
                world.posts[n.post as usize].tweet_id.to_string()
            }),
        )?;
        o.field("quality", &column(notes, |_, n| round5(n.quality)))?;
        o.field("slant", &column(notes, |_, n| round5(n.slant)))?;
        o.field(
            "misleading",
            &column(notes, |_, n| n.has(note_flag::MISLEADING)),
        )?;
        o.field(
            "postMisleading",
            &column(notes, |_, n| world.posts[n.post as usize].misleading),
        )?;
        o.field("topic", &column(notes, |_, n| TOPICS[n.topic as usize]))?;
        o.field(
            "authorModelingGroup",
            &column(notes, |_, n| world.raters[n.author as usize].modeling_group),
        )?;
        o.field("deleted", &column(notes, |_, n| n.has(note_flag::DELETED)))?;
        o.field("ratings", &column(notes, |_, n| n.ratings))?;
        o.field(
            "status",
            &column(statuses, |_, s| s.map(NoteStatus::as_str)),
        )?;
        o.close()?;
    }

    let raters = &world.raters[..];
    top.key("raters")?;
    {
        let mut o = Object::open(&mut *top.w)?;
        o.field(
            "participantId",
            &column(raters, |_, r| crate::community::participant_id(&r.id)),
        )?;
        o.field("viewpoint", &column(raters, |_, r| round5(r.viewpoint)))?;
        o.field("leniency", &column(raters, |_, r| round5(r.leniency)))?;
        o.field("activity", &column(raters, |_, r| round5(r.activity)))?;
        o.field("camp", &column(raters, |_, r| r.camp.name()))?;
        o.field("modelingGroup", &column(raters, |_, r| r.modeling_group))?;
        o.close()?;
    }
    top.close()?;
    w.write_all(b"\n")
}

/// Writes `truth.json` atomically.
pub(crate) fn write_truth(
    path: &Path,
    params: &ValidSynthParams,
    world: &World,
    statuses: &[Option<NoteStatus>],
    summary: &SynthSummary,
) -> Result<(), SynthError> {
    let mut file = AtomicFile::create(path)?;
    let mut sink = Sink {
        file: &mut file,
        error: None,
    };
    let result = {
        let mut buffered = BufWriter::with_capacity(1 << 16, &mut sink);
        write_document(&mut buffered, params, world, statuses, summary)
            .and_then(|()| buffered.flush())
    };
    if let Some(e) = sink.error.take() {
        return Err(e.into());
    }
    result.map_err(|e| SynthError::Truth(e.to_string()))?;
    file.commit()?;
    Ok(())
}
