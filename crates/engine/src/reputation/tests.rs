use super::*;
use crate::community::Community;
use crate::first_round::splitmix64;
use crate::logit::{LogitParams, Trainable, ValidLogitParams};
use crate::rating::{RatingRow, RatingSource, RatingsBuilder};
use crate::{Classification, Enrollment, EnrollmentState, HelpfulnessLevel, Note};

/// A uniform draw in [0, 1) from a counter.
fn uniform(state: &mut u64) -> f64 {
    *state = splitmix64(*state);
    (*state >> 11) as f64 / (1u64 << 53) as f64
}

/// Ratings of a polarized community as model data: `helpfulNum` from a planted note
/// helpfulness, rater leniency and a viewpoint product, rounded to 0, ½ or 1.
fn planted(notes: u32, raters: u32, density: f64, seed: u64) -> LogitData {
    let mut s = seed | 1;
    let help: Vec<f64> = (0..notes).map(|_| uniform(&mut s) - 0.5).collect();
    let slant: Vec<f64> = (0..notes).map(|_| uniform(&mut s) * 2.0 - 1.0).collect();
    let side: Vec<f64> = (0..raters).map(|_| uniform(&mut s) * 2.0 - 1.0).collect();
    let lenient: Vec<f64> = (0..raters).map(|_| uniform(&mut s) * 0.4 - 0.2).collect();
    let (mut ns, mut us, mut ys) = (vec![], vec![], vec![]);
    for n in 0..notes {
        for u in 0..raters {
            if uniform(&mut s) >= density {
                continue;
            }
            let p = 0.4
                + help[n as usize]
                + lenient[u as usize]
                + 0.4 * side[u as usize] * slant[n as usize]
                + 0.3 * (uniform(&mut s) - 0.5);
            ns.push(n);
            us.push(u);
            ys.push(((p * 2.0).round() / 2.0).clamp(0.0, 1.0) as f32);
        }
    }
    LogitData::new(notes as usize, raters as usize, &ns, &us, &ys)
}

fn start(data: &LogitData, seed: u64) -> LogitFactors {
    let mut f = LogitFactors::new(data.notes(), data.raters());
    for n in 0..data.notes() {
        f.note_intercept[n] = standard_normal(seed, 1, n as u64);
        f.note_factor[n] = standard_normal(seed, 2, n as u64);
    }
    for u in 0..data.raters() {
        f.rater_intercept[u] = standard_normal(seed, 3, u as u64);
        f.rater_factor[u] = standard_normal(seed, 4, u as u64);
    }
    f
}

fn biggest(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

fn params(lambda: f64) -> ValidLogitParams {
    LogitParams {
        note_intercept_lambda: lambda * 0.5,
        note_factor_lambda: lambda,
        rater_intercept_lambda: lambda,
        rater_factor_lambda: lambda,
        rater_reputation_lambda: lambda,
        global_intercept_lambda: 0.0,
        ..LogitParams::default()
    }
    .validate()
    .unwrap()
}

#[test]
fn full_fits_end_at_stationary_points_and_keep_frozen_blocks() {
    let mut data = planted(80, 60, 0.3, 3);
    let weights: Vec<f64> = (0..data.len()).map(|k| 0.5 + (k % 3) as f64).collect();
    data.set_weights(&weights);
    let p = params(0.01);
    let init = start(&data, 7);
    let plain = Trainable {
        rater_reputation: false,
        ..Trainable::ALL
    };
    let (f, report) = fit_squared(&data, &p, init.clone(), plain);
    assert!(report.converged, "{report:?}");
    assert!(report.loss.total < squared_loss(&data, &p, &init).total);
    assert_eq!(f.rater_reputation, init.rater_reputation);
    let g = squared_gradient(&data, &p, &f);
    for block in [
        &g.note_intercept,
        &g.note_factor,
        &g.rater_intercept,
        &g.rater_factor,
    ] {
        assert!(biggest(block) < 1e-9, "{}", biggest(block));
    }
    assert!(g.global_intercept.abs() < 1e-9);

    // Reputations learned, note intercepts frozen (prescoring's round 2).
    let round2 = Trainable {
        note_intercept: false,
        ..Trainable::ALL
    };
    let (f2, report) = fit_squared(&data, &p, f.clone(), round2);
    assert!(report.converged, "{report:?}");
    assert_eq!(f2.note_intercept, f.note_intercept);
    let g = squared_gradient(&data, &p, &f2);
    assert!(biggest(&g.rater_reputation) < 1e-9);
    assert!(biggest(&g.note_factor) < 1e-9);
    assert!(f2.rater_reputation.iter().any(|r| (r - 1.0).abs() > 0.01));
}

#[test]
fn one_trainable_group_is_exact_in_one_pass() {
    let data = planted(50, 40, 0.4, 5);
    let p = params(0.01);
    let init = start(&data, 1);
    let notes_only = Trainable {
        note_intercept: true,
        ..Trainable::NONE
    };
    let (f, report) = fit_squared(&data, &p, init.clone(), notes_only);
    assert_eq!(report.passes, 1);
    let g = squared_gradient(&data, &p, &f);
    assert!(biggest(&g.note_intercept) < 1e-12);
    assert_eq!(f.note_factor, init.note_factor);
    assert_eq!(f.rater_intercept, init.rater_intercept);
    let (f, report) = fit_squared(&data, &p, init, Trainable::NONE);
    assert_eq!(report.passes, 0);
    assert_eq!(f, start(&data, 1));
}

#[test]
fn gradient_matches_finite_differences() {
    let mut data = planted(12, 10, 0.6, 9);
    let weights: Vec<f64> = (0..data.len()).map(|k| 1.0 + (k % 4) as f64).collect();
    data.set_weights(&weights);
    let p = LogitParams {
        global_intercept_lambda: 0.3,
        note_loss_ratio: Some(4.0),
        ..*params(0.05).get()
    }
    .validate()
    .unwrap();
    let mut f = start(&data, 2);
    f.rater_reputation
        .iter_mut()
        .enumerate()
        .for_each(|(u, r)| *r = 0.5 + u as f64 / 10.0);
    let g = squared_gradient(&data, &p, &f);
    let h = 1e-6;
    let numeric = |bump: &dyn Fn(&mut LogitFactors, f64)| {
        let (mut a, mut b) = (f.clone(), f.clone());
        bump(&mut a, h);
        bump(&mut b, -h);
        (squared_loss(&data, &p, &a).total - squared_loss(&data, &p, &b).total) / (2.0 * h)
    };
    let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    close(
        g.note_intercept[3],
        numeric(&|f, d| f.note_intercept[3] += d),
    );
    close(g.note_factor[5], numeric(&|f, d| f.note_factor[5] += d));
    close(
        g.rater_intercept[2],
        numeric(&|f, d| f.rater_intercept[2] += d),
    );
    close(g.rater_factor[7], numeric(&|f, d| f.rater_factor[7] += d));
    close(
        g.rater_reputation[4],
        numeric(&|f, d| f.rater_reputation[4] += d),
    );
    close(g.global_intercept, numeric(&|f, d| f.global_intercept += d));
}

#[test]
fn reference_constants() {
    let p = helpfulness_reputation_params();
    let early = p.logit_params(false, None);
    let third = p.logit_params(true, None);
    let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-15, "{a} vs {b}");
    close(early.note_intercept_lambda, 0.005);
    close(early.note_factor_lambda, 0.01);
    close(early.rater_intercept_lambda, 0.01);
    close(early.rater_reputation_lambda, 0.01);
    close(early.global_intercept_lambda, 0.0);
    close(third.note_intercept_lambda, 0.005);
    close(third.rater_intercept_lambda, 0.001);
    let round1 = p.weights(1, None);
    assert_eq!((round1.pos_weight, round1.rater_norm_exp), (0.2, -0.5));
    let reputation = [0.5];
    let round3 = p.weights(3, Some(&reputation));
    close(round3.pos_weight, 1.0);
    assert_eq!(
        (round3.note_norm_exp, round3.reputation_exp, round3.alpha),
        (-0.5, 1.0, 0.0)
    );
    assert_eq!(ReputationOptions::reference().crh_threshold, 0.28);
}

/// Final scoring on prescoring's own data reproduces prescoring's round-2 note factors and
/// round-3 note intercepts (the final fits are those rounds with raters and μ frozen).
#[test]
fn final_fits_on_the_same_data_reproduce_prescoring() {
    let params = helpfulness_reputation_params();
    let mut data = planted(60, 50, 0.35, 11);
    let rows = |count: usize| Rows {
        ids: (0..count as u32).collect(),
        row: (0..count as u32).collect(),
    };
    let (notes, raters) = (rows(data.notes()), rows(data.raters()));
    let mut init = start(&data, 4);
    init.rater_reputation.iter_mut().for_each(|r| *r = 1.0);
    let pre = prescoring_rounds(
        &mut data,
        notes.ids.clone(),
        raters.ids.clone(),
        init,
        &params,
        &fit_squared,
    )
    .unwrap();
    assert!(pre.reports.unwrap().iter().all(|r| r.converged));
    let fin = final_rounds(
        &mut data,
        &notes,
        &raters,
        &pre,
        None,
        &params,
        &fit_squared,
    )
    .unwrap();
    assert_eq!(fin.reports.map(|r| r.passes), [1, 1]);
    for k in 0..pre.notes.len() {
        assert!((fin.note_factor[k] - pre.note_factor[k]).abs() < 1e-7);
        assert!((fin.note_intercept[k] - pre.note_intercept[k]).abs() < 1e-7);
    }
    assert_eq!(fin.rater_reputation, pre.rater_reputation);
}

fn note(id: i64, author: &str) -> Note {
    Note {
        note_id: id,
        author: author.into(),
        created_at_millis: 1_700_000_000_000,
        tweet_id: id,
        classification: Classification::MisinformedOrPotentiallyMisleading,
        believable: None,
        harmful: None,
        validation_difficulty: None,
        misleading: [false; 7],
        not_misleading: [false; 5],
        trustworthy_sources: false,
        summary: format!("note {id}"),
        is_media_note: false,
        is_collaborative_note: false,
    }
}

fn enrollment(id: &str, group: Option<f64>) -> Enrollment {
    Enrollment {
        participant_id: id.into(),
        state: EnrollmentState::EarnedIn,
        successful_rating_needed_to_earn_in: 5,
        timestamp_of_last_state_change: 0,
        timestamp_of_last_earn_out: None,
        modeling_population: None,
        modeling_group: group,
        number_of_times_earned_out: 0,
    }
}

/// A small community: 120 notes, 90 raters — a third in group 13, a third in group 4 (not a
/// core group), a third without an enrollment row. Notes 100–119 are rated almost only by
/// group-4 raters. Returns the community and each note's planted helpfulness.
fn small_community() -> (Community, Vec<f64>) {
    let mut s = 99u64;
    let notes: Vec<Note> = (0..120).map(|n| note(1000 + n, "author")).collect();
    let help: Vec<f64> = (0..120).map(|_| uniform(&mut s) - 0.5).collect();
    let slant: Vec<f64> = (0..120).map(|_| uniform(&mut s) * 2.0 - 1.0).collect();
    let side: Vec<f64> = (0..90).map(|_| uniform(&mut s) * 2.0 - 1.0).collect();
    let rater = |u: usize| format!("r{u:02}");
    let mut b = RatingsBuilder::default();
    for n in 0..120usize {
        for (u, &side_u) in side.iter().enumerate() {
            let group4 = (30..60).contains(&u);
            let density = match (n >= 100, group4) {
                (true, true) => 0.8,
                (true, false) => 0.02,
                (false, _) => 0.35,
            };
            if uniform(&mut s) >= density {
                continue;
            }
            let p = 0.45 + help[n] + 0.4 * side_u * slant[n] + 0.3 * (uniform(&mut s) - 0.5);
            let level = if p > 0.66 {
                HelpfulnessLevel::Helpful
            } else if p > 0.33 {
                HelpfulnessLevel::SomewhatHelpful
            } else {
                HelpfulnessLevel::NotHelpful
            };
            b.push(&RatingRow {
                note_id: 1000 + n as i64,
                rater: rater(u),
                created_at_millis: 1_700_000_000_000 + (n * 90 + u) as i64,
                version: None,
                flags: 0,
                level: Some(level),
                tags: 0,
                rated_on_tweet_id: None,
                source: Some(RatingSource::Default),
                suggestion: None,
                suggestion_id: None,
            });
        }
    }
    let enrollments: Vec<Enrollment> = (0..60)
        .map(|u| enrollment(&rater(u), Some(if u < 30 { 13.0 } else { 4.0 })))
        .collect();
    let (community, _) =
        crate::preprocess::prepare(notes, b.finish(), vec![], enrollments).unwrap();
    (community, help)
}

#[test]
fn scorer_outputs_captured_notes_with_threshold_statuses() {
    let (community, help) = small_community();
    let topics = vec![None; community.notes.len()];
    let options = ReputationOptions::reference();
    let (pre, scores) = run_reputation(&community.view(), &community.view(), &topics, &options)
        .unwrap()
        .unwrap();
    let reports = pre.reports.unwrap();
    assert!(reports.iter().all(|r| r.converged), "{reports:?}");
    let note_index = |id: i64| community.note_index(id).unwrap() as usize;
    let mut pairs = Vec::new();
    for k in 0..120i64 {
        let n = note_index(1000 + k);
        let captured = k < 100;
        assert_eq!(scores.note_intercept[n].is_some(), captured, "note {k}");
        assert_eq!(scores.status[n].is_some(), captured);
        if let (Some(i), Some(status)) = (scores.note_intercept[n], scores.status[n]) {
            let crh = i > COVERAGE_CRH_THRESHOLD;
            assert_eq!(status == NoteStatus::CurrentlyRatedHelpful, crh);
            assert!(crh || status == NoteStatus::NeedsMoreRatings);
            pairs.push((i, help[k as usize]));
        }
    }
    // The intercept tracks the planted helpfulness.
    let n = pairs.len() as f64;
    let (mx, my) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let cov: f64 = pairs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let vx: f64 = pairs.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let vy: f64 = pairs.iter().map(|p| (p.1 - my).powi(2)).sum();
    let r = cov / (vx * vy).sqrt();
    assert!(r > 0.9, "{r}");
    assert!(
        scores
            .status
            .contains(&Some(NoteStatus::CurrentlyRatedHelpful))
    );
    // Reputations for the scorer's raters only: group 13 and unassigned, not group 4.
    for u in 0..90usize {
        let p = community
            .participants
            .iter()
            .position(|p| p.id == format!("r{u:02}"))
            .unwrap();
        let in_scorer = !(30..60).contains(&u);
        assert_eq!(scores.rater_reputation[p].is_some(), in_scorer, "rater {u}");
    }
}

#[test]
fn raters_new_to_final_scoring_get_no_reputation() {
    let (community, _) = small_community();
    let topics = vec![None; community.notes.len()];
    let options = ReputationOptions::reference();
    let selection = select(&community.view(), &options.spec, &topics);
    let mut pre = prescore_reputation(&community.view(), &selection, &options)
        .unwrap()
        .unwrap();
    // Forget the first prescoring rater.
    let gone = pre.raters.remove(0) as usize;
    pre.rater_intercept.remove(0);
    pre.rater_factor.remove(0);
    pre.rater_reputation.remove(0);
    pre.rater_intercept_round2.remove(0);
    let scores = score_reputation(&community.view(), &selection, &pre, &options)
        .unwrap()
        .unwrap();
    assert_eq!(scores.rater_reputation[gone], Some(0.0));
}

#[test]
fn identical_on_one_and_two_threads() {
    let (community, _) = small_community();
    let topics = vec![None; community.notes.len()];
    let options = ReputationOptions::reference();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                run_reputation(&community.view(), &community.view(), &topics, &options).unwrap()
            })
    };
    assert_eq!(run(1), run(2));
}
