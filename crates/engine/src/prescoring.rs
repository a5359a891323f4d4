//! What prescoring hands to final scoring, per scorer: note and rater parameters, rater
//! helpfulness and a few global values. Indexed by community note and participant index;
//! `None` where the reference's table has no value.

/// Global values of one scorer's prescoring (`PrescoringMetaScorerOutput`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PrescoringMeta {
    /// μ of the final prescoring round.
    pub global_intercept: f64,
    /// μ of the low-diligence model after rounds 1, 2 and 3.
    pub low_diligence_global_intercepts: Option<[f64; 3]>,
    /// Per not-helpful tag (TSV order): the `<tag>AdjustedRatio` threshold of the tag filter.
    pub tag_filter_thresholds: Option<Vec<f64>>,
    pub final_round_num_ratings: usize,
    pub final_round_num_notes: usize,
    pub final_round_num_users: usize,
}

impl PrescoringMeta {
    /// The reference's `ratingPerNoteLossRatio` for final fits.
    pub fn ratings_per_note(&self) -> f64 {
        self.final_round_num_ratings as f64 / self.final_round_num_notes.max(1) as f64
    }

    /// Ratings per rater of the final prescoring round.
    pub fn ratings_per_user(&self) -> f64 {
        self.final_round_num_ratings as f64 / self.final_round_num_users.max(1) as f64
    }
}

/// One scorer's prescoring results.
#[derive(Clone, Debug, PartialEq)]
pub struct ScorerPrescoring {
    pub note_intercept: Vec<Option<f64>>,
    pub note_factor: Vec<Option<f64>>,
    pub low_diligence_note_intercept: Vec<Option<f64>>,
    pub low_diligence_note_factor: Vec<Option<f64>>,
    pub low_diligence_note_intercept_round2: Vec<Option<f64>>,
    pub harassment_note_intercept: Vec<Option<f64>>,
    pub harassment_note_factor: Vec<Option<f64>>,

    pub rater_intercept: Vec<Option<f64>>,
    pub rater_factor: Vec<Option<f64>>,
    pub first_round_rater_intercept: Vec<Option<f64>>,
    pub first_round_rater_factor: Vec<Option<f64>>,
    pub crh_crnh_ratio_difference: Vec<Option<f64>>,
    pub mean_note_score: Vec<Option<f64>>,
    pub rater_agree_ratio: Vec<Option<f64>>,
    pub above_helpfulness_threshold: Vec<Option<bool>>,
    pub low_diligence_rater_intercept: Vec<Option<f64>>,
    pub low_diligence_rater_factor: Vec<Option<f64>>,
    pub low_diligence_rater_reputation: Vec<Option<f64>>,
    pub low_diligence_rater_intercept_round2: Vec<Option<f64>>,
    pub incorrect_tag_ratings_made_by_rater: Vec<Option<f64>>,
    pub total_ratings_made_by_rater: Vec<Option<f64>>,

    pub meta: PrescoringMeta,
}

impl ScorerPrescoring {
    /// Frees the note tables, keeping the rater tables (and the meta) that contributor
    /// scores read; the note tables are empty afterwards.
    pub fn drop_note_tables(&mut self) {
        for table in [
            &mut self.note_intercept,
            &mut self.note_factor,
            &mut self.low_diligence_note_intercept,
            &mut self.low_diligence_note_factor,
            &mut self.low_diligence_note_intercept_round2,
            &mut self.harassment_note_intercept,
            &mut self.harassment_note_factor,
        ] {
            *table = Vec::new();
        }
    }

    /// Frees the rater columns that only the scorer's own scoring and the core model's
    /// contributor columns read, keeping the rater intercept and factor and what
    /// [`has_rater_row`](Self::has_rater_row) reads: all that other models' contributor
    /// columns take from a scorer that is not the core.
    pub fn drop_rater_details(&mut self) {
        for table in [
            &mut self.first_round_rater_intercept,
            &mut self.first_round_rater_factor,
            &mut self.crh_crnh_ratio_difference,
            &mut self.mean_note_score,
            &mut self.low_diligence_rater_intercept,
            &mut self.low_diligence_rater_factor,
            &mut self.low_diligence_rater_reputation,
            &mut self.low_diligence_rater_intercept_round2,
            &mut self.incorrect_tag_ratings_made_by_rater,
            &mut self.total_ratings_made_by_rater,
        ] {
            *table = Vec::new();
        }
    }

    /// Empty tables for `notes` notes and `participants` participants.
    pub fn empty(notes: usize, participants: usize, meta: PrescoringMeta) -> Self {
        let n = || vec![None; notes];
        let p = || vec![None; participants];
        ScorerPrescoring {
            note_intercept: n(),
            note_factor: n(),
            low_diligence_note_intercept: n(),
            low_diligence_note_factor: n(),
            low_diligence_note_intercept_round2: n(),
            harassment_note_intercept: n(),
            harassment_note_factor: n(),
            rater_intercept: p(),
            rater_factor: p(),
            first_round_rater_intercept: p(),
            first_round_rater_factor: p(),
            crh_crnh_ratio_difference: p(),
            mean_note_score: p(),
            rater_agree_ratio: p(),
            above_helpfulness_threshold: vec![None; participants],
            low_diligence_rater_intercept: p(),
            low_diligence_rater_factor: p(),
            low_diligence_rater_reputation: p(),
            low_diligence_rater_intercept_round2: p(),
            incorrect_tag_ratings_made_by_rater: p(),
            total_ratings_made_by_rater: p(),
            meta,
        }
    }

    /// Whether participant `u` has final-round rater parameters.
    pub fn has_rater_params(&self, u: usize) -> bool {
        self.rater_intercept[u].is_some() && self.rater_factor[u].is_some()
    }

    /// Whether participant `u` has a row in the reference's prescoring rater table: raters
    /// of the final prescoring round and raters with a helpfulness verdict. Raters only of
    /// the first round have none, so their first-round parameters are not reported.
    /// Per participant, `internalRaterFactor1` of the prescoring rater table: the final
    /// round's factor, else the first round's for raters with a row (those with a
    /// helpfulness verdict).
    pub fn table_rater_factors(&self) -> Vec<Option<f64>> {
        (0..self.rater_factor.len())
            .map(|p| {
                self.rater_factor[p]
                    .or(self.first_round_rater_factor[p].filter(|_| self.has_rater_row(p)))
            })
            .collect()
    }

    pub fn has_rater_row(&self, u: usize) -> bool {
        self.rater_intercept[u].is_some()
            || self.above_helpfulness_threshold[u].is_some()
            || self.rater_agree_ratio[u].is_some()
    }

    /// Whether participant `u` passed the helpfulness filter (missing counts as no).
    pub fn is_helpful(&self, u: usize) -> bool {
        self.above_helpfulness_threshold[u] == Some(true)
    }
}

/// Reconstructs the meta values of a scorer's prescoring from its note and rater tables when
/// only the tables were kept (the reference writes no meta values to its intermediate TSV
/// files). The final prescoring round is rebuilt — the scorer's `ratings` after the
/// first-round count filter, by raters with parameters who passed the helpfulness filter —
/// and μ is the value at which the loss is stationary given every other parameter:
/// Σ residual / (N · (1 + λ_μ)). Tag thresholds and low-diligence intercepts stay unknown.
pub fn recover_meta(
    community: &crate::community::CommunityView,
    ratings: &[u32],
    tables: &ScorerPrescoring,
    global_intercept_lambda: f64,
) -> PrescoringMeta {
    use crate::first_round::{MIN_RATINGS_PER_NOTE, MIN_RATINGS_PER_RATER, filter_by_counts};
    let r = &community.ratings;
    let notes: Vec<u32> = ratings.iter().map(|&k| r.note(k as usize)).collect();
    let raters: Vec<u32> = ratings.iter().map(|&k| r.rater(k as usize)).collect();
    let mut keep = vec![true; ratings.len()];
    filter_by_counts(
        &notes,
        &raters,
        &mut keep,
        MIN_RATINGS_PER_RATER,
        MIN_RATINGS_PER_NOTE,
    );
    let (mut residual, mut count) = (0.0, 0usize);
    let mut seen_note = vec![false; community.notes.len()];
    let mut seen_rater = vec![false; community.participants.len()];
    for (j, &k) in ratings.iter().enumerate() {
        let (n, u) = (notes[j] as usize, raters[j] as usize);
        if !keep[j] || !tables.has_rater_params(u) || !tables.is_helpful(u) {
            continue;
        }
        let (Some(i_n), Some(f_n)) = (tables.note_intercept[n], tables.note_factor[n]) else {
            continue;
        };
        let (i_u, f_u) = (
            tables.rater_intercept[u].unwrap_or(0.0),
            tables.rater_factor[u].unwrap_or(0.0),
        );
        residual += r.helpful_num(k as usize) as f64 - i_u - i_n - f_u * f_n;
        count += 1;
        seen_note[n] = true;
        seen_rater[u] = true;
    }
    PrescoringMeta {
        global_intercept: if count > 0 {
            residual / (count as f64 * (1.0 + global_intercept_lambda))
        } else {
            0.0
        },
        low_diligence_global_intercepts: None,
        tag_filter_thresholds: None,
        final_round_num_ratings: count,
        final_round_num_notes: seen_note.iter().filter(|s| **s).count(),
        final_round_num_users: seen_rater.iter().filter(|s| **s).count(),
    }
}
