use proptest::prelude::*;

use super::*;

/// Xorshift uniform draws in [0, 1).
fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A random problem with planted structure: `notes` × `raters`, about `density` rated,
/// labels drawn from a logistic model with intercepts, viewpoints and rare positives.
fn problem(seed: u64, notes: usize, raters: usize, density: f64) -> LogitData {
    let mut next = uniform(seed);
    let view: Vec<f64> = (0..raters).map(|_| next() * 2.0 - 1.0).collect();
    let lean: Vec<f64> = (0..raters).map(|_| next() - 0.5).collect();
    let slant: Vec<f64> = (0..notes).map(|_| next() * 2.0 - 1.0).collect();
    let bad: Vec<f64> = (0..notes).map(|_| next() * 2.0 - 1.0).collect();
    let (mut ns, mut us, mut ys) = (Vec::new(), Vec::new(), Vec::new());
    for n in 0..notes {
        for u in 0..raters {
            if next() < density {
                let s = -1.5 + lean[u] + bad[n] + 2.0 * view[u] * slant[n];
                let p = 1.0 / (1.0 + (-s).exp());
                ns.push(n as u32);
                us.push(u as u32);
                ys.push(if next() < p { 1.0 } else { 0.0 });
            }
        }
    }
    LogitData::new(notes, raters, &ns, &us, &ys)
}

fn start(notes: usize, raters: usize) -> LogitFactors {
    let mut f = LogitFactors::new(notes, raters);
    for (k, x) in f.rater_factor.iter_mut().enumerate() {
        *x = ((k * 7919) % 13) as f64 / 13.0 - 0.5;
    }
    for (k, x) in f.note_factor.iter_mut().enumerate() {
        *x = ((k * 104729) % 11) as f64 / 11.0 - 0.5;
    }
    f
}

fn reputation_params() -> ValidLogitParams {
    LogitParams {
        rater_reputation_lambda: 0.05,
        ..LogitParams::default()
    }
    .validate()
    .unwrap()
}

/// Largest gradient component over the trainable blocks.
fn max_gradient(g: &LogitFactors, tr: &Trainable) -> f64 {
    let mut m: f64 = 0.0;
    let mut take = |on: bool, v: &[f64]| {
        if on {
            m = v.iter().fold(m, |m, x| m.max(x.abs()));
        }
    };
    take(tr.note_intercept, &g.note_intercept);
    take(tr.note_factor, &g.note_factor);
    take(tr.rater_intercept, &g.rater_intercept);
    take(tr.rater_factor, &g.rater_factor);
    take(tr.rater_reputation, &g.rater_reputation);
    take(tr.global_intercept, &[g.global_intercept]);
    m
}

fn numeric(
    d: &LogitData,
    p: &ValidLogitParams,
    f: &LogitFactors,
    pick: impl Fn(&mut LogitFactors) -> &mut f64,
) -> f64 {
    let h = 1e-6;
    let mut plus = f.clone();
    *pick(&mut plus) += h;
    let mut minus = f.clone();
    *pick(&mut minus) -= h;
    (logit_loss(d, p, &plus).total - logit_loss(d, p, &minus).total) / (2.0 * h)
}

#[test]
fn analytic_gradient_matches_finite_differences() {
    let d = problem(1, 25, 40, 0.3);
    let params = LogitParams {
        rater_reputation_lambda: 0.7,
        note_loss_ratio: Some(3.0),
        ..LogitParams::default()
    }
    .validate()
    .unwrap();
    let mut f = start(25, 40);
    f.global_intercept = -0.4;
    f.note_intercept
        .iter_mut()
        .enumerate()
        .for_each(|(k, x)| *x = (k % 5) as f64 * 0.1);
    f.rater_reputation
        .iter_mut()
        .enumerate()
        .for_each(|(k, x)| *x = 1.0 - (k % 3) as f64 * 0.3);
    let g = logit_gradient(&d, &params, &f);
    for k in [0, 11, 24] {
        let want = numeric(&d, &params, &f, |f| &mut f.note_intercept[k]);
        assert!((g.note_intercept[k] - want).abs() < 1e-7, "i_n {k}");
        let want = numeric(&d, &params, &f, |f| &mut f.note_factor[k]);
        assert!((g.note_factor[k] - want).abs() < 1e-7, "f_n {k}");
    }
    for k in [0, 17, 39] {
        let want = numeric(&d, &params, &f, |f| &mut f.rater_intercept[k]);
        assert!((g.rater_intercept[k] - want).abs() < 1e-7, "i_u {k}");
        let want = numeric(&d, &params, &f, |f| &mut f.rater_factor[k]);
        assert!((g.rater_factor[k] - want).abs() < 1e-7, "f_u {k}");
        let want = numeric(&d, &params, &f, |f| &mut f.rater_reputation[k]);
        assert!((g.rater_reputation[k] - want).abs() < 1e-7, "ρ_u {k}");
    }
    let want = numeric(&d, &params, &f, |f| &mut f.global_intercept);
    assert!((g.global_intercept - want).abs() < 1e-7);
}

#[test]
fn converges_to_a_stationary_point() {
    let d = problem(3, 40, 60, 0.3);
    for params in [
        reputation_params(),
        LogitParams {
            rater_reputation_lambda: 0.05,
            note_loss_ratio: Some(12.0),
            rater_loss_ratio: Some(8.0),
            global_intercept_lambda: 0.0,
            ..LogitParams::default()
        }
        .validate()
        .unwrap(),
    ] {
        for tr in [Trainable::PLAIN, Trainable::ALL] {
            let (f, report) = fit_logit(&d, &params, start(40, 60), tr);
            assert!(report.converged, "{report:?}");
            let g = logit_gradient(&d, &params, &f);
            let m = max_gradient(&g, &tr);
            assert!(m < 1e-8, "gradient {m} with {tr:?}, {report:?}");
            // Numerical gradients agree too (the stationarity is not an artefact of the
            // analytic gradient).
            for k in [0, 20, 39] {
                assert!(numeric(&d, &params, &f, |f| &mut f.note_intercept[k]).abs() < 1e-7);
                assert!(numeric(&d, &params, &f, |f| &mut f.note_factor[k]).abs() < 1e-7);
            }
            assert!(numeric(&d, &params, &f, |f| &mut f.global_intercept).abs() < 1e-7);
            assert!(report.loss.total < logit_loss(&d, &params, &start(40, 60)).total);
        }
    }
}

#[test]
fn frozen_blocks_keep_their_values() {
    let d = problem(5, 30, 50, 0.3);
    let params = reputation_params();
    let mut init = start(30, 50);
    init.global_intercept = -1.0;
    init.rater_intercept
        .iter_mut()
        .enumerate()
        .for_each(|(k, x)| *x = (k % 7) as f64 * 0.1);
    let choices = [
        Trainable {
            rater_reputation: false,
            note_intercept: false,
            ..Trainable::ALL
        },
        Trainable {
            note_intercept: true,
            rater_intercept: true,
            global_intercept: true,
            ..Trainable::NONE
        },
        Trainable {
            note_factor: true,
            ..Trainable::NONE
        },
        Trainable {
            rater_reputation: true,
            ..Trainable::NONE
        },
    ];
    for tr in choices {
        let (f, report) = fit_logit(&d, &params, init.clone(), tr);
        let same = |on: bool, a: &[f64], b: &[f64]| on || a == b;
        assert!(same(
            tr.note_intercept,
            &f.note_intercept,
            &init.note_intercept
        ));
        assert!(same(tr.note_factor, &f.note_factor, &init.note_factor));
        assert!(same(
            tr.rater_intercept,
            &f.rater_intercept,
            &init.rater_intercept
        ));
        assert!(same(tr.rater_factor, &f.rater_factor, &init.rater_factor));
        assert!(same(
            tr.rater_reputation,
            &f.rater_reputation,
            &init.rater_reputation
        ));
        assert!(tr.global_intercept || f.global_intercept == init.global_intercept);
        let g = logit_gradient(&d, &params, &f);
        assert!(max_gradient(&g, &tr) < 1e-8, "{tr:?} {report:?}");
        if tr.groups() == 1 {
            assert_eq!(report.passes, 1, "one side convex: one exact pass");
        }
    }
    // Nothing trainable: nothing moves, no pass.
    let (f, report) = fit_logit(&d, &params, init.clone(), Trainable::NONE);
    assert_eq!(f, init);
    assert_eq!(report.passes, 0);
}

#[test]
fn identical_on_one_and_two_threads() {
    let d = problem(9, 3000, 200, 0.03);
    let params = reputation_params();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let fit = fit_logit(&d, &params, start(3000, 200), Trainable::ALL);
                let g = logit_gradient(&d, &params, &fit.0);
                (fit, g)
            })
    };
    let ((a, ra), ga) = run(1);
    let ((b, rb), gb) = run(2);
    assert_eq!(ra, rb);
    assert_eq!(a, b);
    assert_eq!(ga, gb);
}

/// With ratio-form penalties and no μ penalty the optimum does not depend on N, so a weight
/// of k must act exactly like k copies of the rating, and a weight of 0 like no rating.
#[test]
fn weights_act_as_rating_multiplicity() {
    let d = problem(11, 20, 30, 0.4);
    let params = LogitParams {
        rater_reputation_lambda: 0.01,
        note_loss_ratio: Some(5.0),
        rater_loss_ratio: Some(7.0),
        global_intercept_lambda: 0.0,
        ..LogitParams::default()
    }
    .validate()
    .unwrap();
    let (note, rater, label) = d.input();
    let weight: Vec<f64> = (0..d.len()).map(|k| (k % 3) as f64).collect();
    let mut weighted = d.clone();
    weighted.set_weights(&weight);
    let (mut ns, mut us, mut ys) = (Vec::new(), Vec::new(), Vec::new());
    for k in 0..d.len() {
        for _ in 0..weight[k] as usize {
            ns.push(note[k]);
            us.push(rater[k]);
            ys.push(label[k]);
        }
    }
    let copies = LogitData::new(20, 30, &ns, &us, &ys);
    let tr = Trainable::ALL;
    let (a, _) = fit_logit(&weighted, &params, start(20, 30), tr);
    let (b, _) = fit_logit(&copies, &params, start(20, 30), tr);
    let close = |x: &[f64], y: &[f64]| x.iter().zip(y).all(|(p, q)| (p - q).abs() < 1e-7);
    assert!(close(&a.note_intercept, &b.note_intercept));
    assert!(close(&a.note_factor, &b.note_factor));
    assert!(close(&a.rater_intercept, &b.rater_intercept));
    assert!(close(&a.rater_factor, &b.rater_factor));
    assert!(close(&a.rater_reputation, &b.rater_reputation));
    assert!((a.global_intercept - b.global_intercept).abs() < 1e-7);
    // And the weighted fit is not the unweighted one.
    let (c, _) = fit_logit(&d, &params, start(20, 30), tr);
    assert!(!close(&a.note_intercept, &c.note_intercept));
}

#[test]
fn sign_identification_makes_most_raters_negative() {
    let mut f = LogitFactors::new(1, 3);
    f.rater_factor = vec![0.5, 0.2, -0.1];
    f.note_factor = vec![0.3];
    f.identify_sign();
    assert_eq!(f.rater_factor, vec![-0.5, -0.2, 0.1]);
    assert_eq!(f.note_factor, vec![-0.3]);
    f.identify_sign();
    assert_eq!(f.rater_factor, vec![-0.5, -0.2, 0.1]);
}

#[test]
fn empty_data_returns_the_start() {
    let d = LogitData::new(2, 3, &[], &[], &[]);
    let params = LogitParams::default().validate().unwrap();
    let init = start(2, 3);
    let (f, report) = fit_logit(&d, &params, init.clone(), Trainable::ALL);
    assert_eq!(f, init);
    assert_eq!(report.passes, 0);
    assert_eq!(report.loss.total, 0.0);
}

#[test]
fn extreme_logits_stay_finite() {
    // A rater who always says 1 and one who always says 0, with huge weights: the Newton
    // steps must not overflow.
    let note = [0, 1, 2, 0, 1, 2];
    let rater = [0, 0, 0, 1, 1, 1];
    let label = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0];
    let mut d = LogitData::new(3, 2, &note, &rater, &label);
    d.set_weights(&[1e4; 6]);
    let params = LogitParams {
        rater_intercept_lambda: 1e-9,
        ..LogitParams::default()
    }
    .validate()
    .unwrap();
    let (f, report) = fit_logit(&d, &params, LogitFactors::new(3, 2), Trainable::PLAIN);
    assert!(report.loss.total.is_finite());
    assert!(
        f.rater_intercept[0] > 5.0 && f.rater_intercept[1] < -5.0,
        "{f:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn passes_never_increase_the_loss(seed in 0u64..1000, density in 0.05f64..0.6) {
        let d = problem(seed, 12, 20, density);
        let params = LogitParams { max_passes: 1, rater_reputation_lambda: 0.5,
            ..LogitParams::default() }.validate().unwrap();
        let mut f = start(12, 20);
        let mut previous = logit_loss(&d, &params, &f).total;
        for _ in 0..15 {
            let (next, report) = fit_logit(&d, &params, f, Trainable::ALL);
            prop_assert!(report.loss.total <= previous + 1e-12, "{} > {}", report.loss.total, previous);
            prop_assert!(report.loss.total.is_finite());
            previous = report.loss.total;
            f = next;
        }
    }
}

/// The Adam replay's fused evaluation gives, bit for bit, the loss computed apart, the same
/// gradient with or without the loss, and for any choice of blocks the full gradient's
/// entries in those blocks and 0 elsewhere, over more notes than one chunk of the sums.
/// (The full gradient is checked against numerical derivatives above.)
#[test]
fn fused_loss_and_gradient_equal_the_separate_ones_bit_for_bit() {
    use super::fit::logit_loss_and_gradient_of;
    let d = problem(7, 2600, 30, 0.15);
    let params = reputation_params();
    let mut f = start(2600, 30);
    f.global_intercept = 0.3;
    f.note_intercept
        .iter_mut()
        .enumerate()
        .for_each(|(k, x)| *x = (k % 7) as f64 * 0.05 - 0.1);
    f.rater_reputation
        .iter_mut()
        .enumerate()
        .for_each(|(k, x)| *x = 1.0 - (k % 4) as f64 * 0.2);
    let choices = [
        Trainable::ALL,
        Trainable::NONE,
        Trainable {
            note_factor: true,
            ..Trainable::NONE
        },
        Trainable {
            note_intercept: true,
            rater_intercept: true,
            global_intercept: true,
            ..Trainable::NONE
        },
        Trainable {
            rater_reputation: false,
            ..Trainable::ALL
        },
    ];
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for wanted in choices {
        let (loss, g) = logit_loss_and_gradient_of(&d, &params, &f, &wanted, true);
        let (no_loss, without) = logit_loss_and_gradient_of(&d, &params, &f, &wanted, false);
        assert!(no_loss.is_nan());
        assert_eq!(bits(&without.note_factor), bits(&g.note_factor));
        assert_eq!(bits(&without.rater_intercept), bits(&g.rater_intercept));
        assert_eq!(
            without.global_intercept.to_bits(),
            g.global_intercept.to_bits()
        );
        assert_eq!(
            loss.to_bits(),
            logit_loss(&d, &params, &f).total.to_bits(),
            "{wanted:?}"
        );
        let full = logit_gradient(&d, &params, &f);
        let block = |on: bool, ours: &[f64], all: &[f64]| {
            if on {
                assert_eq!(bits(ours), bits(all), "{wanted:?}");
            } else {
                assert!(ours.iter().all(|x| *x == 0.0), "{wanted:?}");
            }
        };
        let notes = wanted.note_intercept || wanted.note_factor;
        let raters = wanted.rater_intercept || wanted.rater_factor || wanted.rater_reputation;
        block(notes, &g.note_intercept, &full.note_intercept);
        block(notes, &g.note_factor, &full.note_factor);
        block(raters, &g.rater_intercept, &full.rater_intercept);
        block(raters, &g.rater_factor, &full.rater_factor);
        block(raters, &g.rater_reputation, &full.rater_reputation);
        block(
            wanted.global_intercept,
            &[g.global_intercept],
            &[full.global_intercept],
        );
    }
}

/// Started at the saddle of the rank-1 part (every factor tiny, so their products cannot
/// explain anything yet), the fit ends where a fit from a generic start ends.
#[test]
fn reaches_the_generic_optimum_from_the_saddle() {
    let d = problem(11, 60, 80, 0.3);
    let params = reputation_params();
    let tr = Trainable::PLAIN;
    let mut saddle = LogitFactors::new(60, 80);
    saddle
        .note_factor
        .iter_mut()
        .enumerate()
        .for_each(|(k, x)| *x = 1e-9 * ((k % 7) as f64 - 3.0));
    saddle
        .rater_factor
        .iter_mut()
        .enumerate()
        .for_each(|(k, x)| *x = 1e-9 * ((k % 5) as f64 - 2.0));
    let (_, from_saddle) = fit_logit(&d, &params, saddle, tr);
    let (_, generic) = fit_logit(&d, &params, start(60, 80), tr);
    assert!(from_saddle.converged, "{from_saddle:?}");
    assert!(
        (from_saddle.loss.total - generic.loss.total).abs() < 1e-9,
        "{from_saddle:?} vs {generic:?}"
    );
}

/// Continuing a move that lowers the loss goes as far as the loss keeps falling (each step
/// doubles the distance, so the result lies 2^k − 1 moves beyond); no move gives nothing.
#[test]
fn extrapolation_goes_as_far_as_the_loss_falls() {
    use super::fit::extrapolate;
    let d = problem(4, 30, 40, 0.4);
    let params = reputation_params();
    let tr = Trainable::PLAIN;
    let (optimum, _) = fit_logit(&d, &params, start(30, 40), tr);
    let loss = |f: &LogitFactors| logit_loss(&d, &params, f).total;
    // A short step from far away toward the optimum: continuing it helps, up to a point.
    let mut before = optimum.clone();
    before.note_intercept.iter_mut().for_each(|x| *x -= 0.8);
    let mut after = before.clone();
    for (a, o) in after.note_intercept.iter_mut().zip(&optimum.note_intercept) {
        *a += 0.01 * (o - *a);
    }
    let far = extrapolate(&d, &params, &tr, &before, &after, 14).expect("a longer step helps");
    assert!(loss(&far) < loss(&after));
    let step = far.note_intercept[0] - after.note_intercept[0];
    let unit = after.note_intercept[0] - before.note_intercept[0];
    let multiple = (step / unit).round() as u32;
    assert!(
        (multiple + 1).is_power_of_two() && multiple >= 3,
        "{multiple}"
    );
    // The next doubling would not have been lower.
    let mut next = after.clone();
    for (n, (a, b)) in next
        .note_intercept
        .iter_mut()
        .zip(after.note_intercept.iter().zip(&before.note_intercept))
    {
        *n = a + f64::from(2 * multiple + 1) * (a - b);
    }
    assert!(loss(&next) >= loss(&far));
    // A move of nothing gives nothing.
    assert!(extrapolate(&d, &params, &tr, &optimum, &optimum, 14).is_none());
}
