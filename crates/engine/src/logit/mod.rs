//! Weighted logistic (binary cross-entropy with logits) rank-1 factorization: the model
//! behind the harassment tag-consensus and low-diligence models.
//!
//! A labelled rating `y ∈ [0, 1]` by rater `u` on note `n` gets the logit
//! `s = μ + i_u + ρ_u · i_n + f_u · f_n` and the loss is
//! `(1/N) Σ w · BCE(s, y) + penalties`, with a weight `w` per rating. ρ_u is a per-rater
//! multiplier of the note intercept (the diligence model's "reputation"); a plain biased
//! factorization keeps it at 1 and frozen.
//!
//! The reference fits these models with full-batch Adam. Given the rater side, every note's
//! `(i_n, f_n)` enters the loss through a logistic regression on two covariates `(ρ_u, f_u)`
//! plus a ridge penalty, which is strictly convex; likewise every rater's `(i_u, f_u, ρ_u)`
//! given the notes (covariates `1, f_n, i_n`) and μ given both. So the solver alternates
//! block updates — damped Newton steps on a 2×2, 3×3 or 1×1 system per block, each certain
//! to lower the block's objective — in parallel over blocks with one writer per parameter
//! (`block`). After each pass it moves along the model's exact symmetries, which only the
//! penalties see and alternating updates would crawl along (`symmetry`), and Anderson
//! acceleration extrapolates from the last few passes when that lowers the loss (`accel`).
//! Sums over all ratings (the loss, μ's Newton terms) are taken in a fixed order (per note,
//! then in note order, or in fixed chunks of notes), and everything else is serial, so
//! results are bitwise identical on any number of threads.

mod accel;
mod adam;
mod block;
mod data;
mod fit;
mod math;
mod params;
mod symmetry;

pub use adam::{AdamReport, AdamSettings, fit_logit_adam, fit_logit_adam_blocks};
pub use data::{LogitData, Run};
pub use fit::{LogitFactors, LogitLoss, LogitReport, fit_logit, logit_gradient, logit_loss};
pub(crate) use fit::{Penalties, largest_change, penalties, reduce};
pub use params::{LogitParams, LogitParamsError, Trainable, ValidLogitParams};

#[cfg(test)]
mod tests;
