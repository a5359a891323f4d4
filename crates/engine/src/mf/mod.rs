//! Matrix factorization: the model at the heart of Community Notes scoring.
//!
//! A rating `r` by rater `u` on note `n` is modelled as
//! `r ≈ μ + i_u + i_n + f_u · f_n`: a global intercept, a rater intercept (leniency), a
//! note intercept (helpfulness shared across viewpoints) and the product of one-dimensional
//! rater and note factors (viewpoint). A note is rated helpful only when its *intercept* is
//! high: agreement explained by shared viewpoint goes into the factors instead.
//!
//! The reference fits this with thousands of full-batch Adam steps. For a rank-1 model with
//! separate L2 penalties the problem is convex in the note parameters when raters are fixed
//! (and vice versa), so this crate solves it by exact alternating block updates: every note's
//! `(i_n, f_n)` is a 2×2 linear solve given the raters, every rater's likewise given the
//! notes, and μ has a closed form. It reaches the same optimum in tens of passes instead of
//! thousands, and when raters are frozen (final scoring) a single pass is exact.
//!
//! Where the reference's result depends on where its Adam loop stops rather than on the
//! optimum (prescoring fits that start from an earlier fit), [`fit_adam`] replays that loop
//! ([`crate::adam`]); [`gradient`] gives the loss gradient it steps along.

mod adam;
mod fit;
mod matrix;
mod params;
mod pseudo_raters;
mod weights;

pub use adam::fit_adam;
pub use fit::{Factors, FitReport, Frozen, fit, gradient, loss, spectral_init};
pub use matrix::RatingMatrix;
pub(crate) use matrix::counting_sort;
pub use params::{MfParams, MfParamsError, NormalizedLoss, ValidMfParams};
pub use pseudo_raters::{NoteBounds, pseudo_rater_bounds};
pub use weights::{normalized_matrix, normalized_weights};
