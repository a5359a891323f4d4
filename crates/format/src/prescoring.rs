//! Reading the reference's prescoring tables (`prescoring_note_model_output`,
//! `prescoring_rater_model_output`, `pss_output`) into the engine's structures, so final
//! scoring can be run — and tested — from the reference's own prescoring.

use std::path::Path;

use bridgenotes_engine::community::Community;
use bridgenotes_engine::prescoring::{PrescoringMeta, ScorerPrescoring};
use bridgenotes_engine::pss::Cliques;

use crate::table::{TextTable, read_text_table};
use crate::{FormatError, Result};

fn missing_column(path: &Path, name: &str) -> FormatError {
    FormatError::MissingColumn {
        path: path.to_path_buf(),
        name: name.to_string(),
    }
}

fn float_cell(table: &TextTable, row: usize, column: Option<usize>) -> Option<f64> {
    column
        .and_then(|c| table.rows[row][c].parse::<f64>().ok())
        .filter(|v| !v.is_nan())
}

/// Reads the rows of one scorer (`scorerName`) from the prescoring note and rater tables in
/// `dir`. Rows whose note or participant is unknown to `community` are errors. The meta
/// values are not in these files: `meta` is stored as given (see
/// `bridgenotes_engine::prescoring::recover_meta`).
pub fn read_scorer_prescoring(
    dir: &Path,
    community: &Community,
    scorer: &str,
    meta: PrescoringMeta,
) -> Result<ScorerPrescoring> {
    let mut out =
        ScorerPrescoring::empty(community.notes.len(), community.participants.len(), meta);
    let path = dir.join("prescoring_note_model_output.tsv.gz");
    let notes = read_text_table(&path)?;
    let name = notes
        .position("scorerName")
        .ok_or_else(|| missing_column(&path, "scorerName"))?;
    let id = notes
        .position("noteId")
        .ok_or_else(|| missing_column(&path, "noteId"))?;
    for (row, cells) in notes.rows.iter().enumerate() {
        if cells[name] != scorer {
            continue;
        }
        let n = cells[id]
            .parse::<i64>()
            .ok()
            .and_then(|note_id| community.note_index(note_id))
            .ok_or_else(|| FormatError::Malformed {
                path: path.clone(),
                line: row as u64 + 2,
                message: format!("unknown note {:?}", cells[id]),
            })? as usize;
        let col = |c: &str| notes.position(c);
        out.note_intercept[n] = float_cell(&notes, row, col("internalNoteIntercept"));
        out.note_factor[n] = float_cell(&notes, row, col("internalNoteFactor1"));
        out.low_diligence_note_intercept[n] =
            float_cell(&notes, row, col("lowDiligenceNoteIntercept"));
        out.low_diligence_note_factor[n] = float_cell(&notes, row, col("lowDiligenceNoteFactor1"));
        out.low_diligence_note_intercept_round2[n] =
            float_cell(&notes, row, col("lowDiligenceNoteInterceptRound2"));
        out.harassment_note_intercept[n] = float_cell(&notes, row, col("harassmentNoteIntercept"));
        out.harassment_note_factor[n] = float_cell(&notes, row, col("harassmentNoteFactor1"));
    }
    let path = dir.join("prescoring_rater_model_output.tsv.gz");
    let raters = read_text_table(&path)?;
    let name = raters
        .position("scorerName")
        .ok_or_else(|| missing_column(&path, "scorerName"))?;
    let id = raters
        .position("raterParticipantId")
        .ok_or_else(|| missing_column(&path, "raterParticipantId"))?;
    let index: std::collections::HashMap<&str, usize> = community
        .participants
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    for (row, cells) in raters.rows.iter().enumerate() {
        if cells[name] != scorer {
            continue;
        }
        let u = *index
            .get(cells[id].as_str())
            .ok_or_else(|| FormatError::Malformed {
                path: path.clone(),
                line: row as u64 + 2,
                message: format!("unknown participant {:?}", cells[id]),
            })?;
        let col = |c: &str| raters.position(c);
        let f = |c: &str| float_cell(&raters, row, col(c));
        out.rater_intercept[u] = f("internalRaterIntercept");
        out.rater_factor[u] = f("internalRaterFactor1");
        out.first_round_rater_intercept[u] = f("internalFirstRoundRaterIntercept");
        out.first_round_rater_factor[u] = f("internalFirstRoundRaterFactor1");
        out.crh_crnh_ratio_difference[u] = f("crhCrnhRatioDifference");
        out.mean_note_score[u] = f("meanNoteScore");
        out.rater_agree_ratio[u] = f("raterAgreeRatio");
        out.above_helpfulness_threshold[u] =
            col("aboveHelpfulnessThreshold").and_then(|c| match raters.rows[row][c].as_str() {
                "True" => Some(true),
                "False" => Some(false),
                _ => None,
            });
        out.low_diligence_rater_intercept[u] = f("lowDiligenceRaterIntercept");
        out.low_diligence_rater_factor[u] = f("lowDiligenceRaterFactor1");
        out.low_diligence_rater_reputation[u] = f("lowDiligenceRaterReputation");
        out.low_diligence_rater_intercept_round2[u] = f("lowDiligenceRaterInterceptRound2");
        out.incorrect_tag_ratings_made_by_rater[u] = f("incorrectTagRatingsMadeByRater");
        out.total_ratings_made_by_rater[u] = f("totalRatingsMadeByRater");
    }
    Ok(out)
}

/// Reads `pss_output`, whose `raterParticipantId` holds the reference's internal participant
/// codes — the participant's position in the community's sorted participants.
pub fn read_cliques(path: &Path, community: &Community) -> Result<Cliques> {
    let table = read_text_table(path)?;
    let participants = community.participants.len();
    let mut cliques = Cliques {
        post_selection: vec![None; participants],
        quasi_clique: vec![None; participants],
    };
    let id = table
        .position("raterParticipantId")
        .ok_or_else(|| missing_column(path, "raterParticipantId"))?;
    let pss = table.position("postSelectionValue");
    let quasi = table.position("quasiCliqueValue");
    for (row, cells) in table.rows.iter().enumerate() {
        let u = cells[id]
            .parse::<usize>()
            .ok()
            .filter(|&u| u < participants)
            .ok_or_else(|| FormatError::Malformed {
                path: path.to_path_buf(),
                line: row as u64 + 2,
                message: format!("participant code {:?} out of range", cells[id]),
            })?;
        cliques.post_selection[u] = float_cell(&table, row, pss).map(|v| v as i64);
        cliques.quasi_clique[u] = float_cell(&table, row, quasi).map(|v| v as i64);
    }
    Ok(cliques)
}
