//! The bridgenotes scoring engine.
//!
//! This crate holds the data model of a Community Notes community (notes, ratings, status
//! history, enrollment) and the algorithms that score it. It is pure: it reads no files,
//! opens no sockets and looks at no clock. Callers (the CLI, the service) load data with
//! `bridgenotes-format` or a database, hand it to the engine, and write what it returns.

pub mod adam;
pub mod community;
pub mod contributor_state;
pub mod diligence;
pub mod enrollment;
pub mod first_round;
pub mod gaussian;
pub mod harassment;
pub mod helpfulness;
pub mod history;
pub mod history_update;
pub mod logit;
pub mod meta;
pub mod mf;
pub mod note;
mod numeric;
pub mod output;
pub mod pcrh;
pub mod pflip;
pub mod pipeline;
pub mod preprocess;
pub mod prescoring;
pub mod pss;
pub mod pss_detection;
pub mod rating;
pub mod rating_view;
pub mod reputation;
pub mod request;
pub mod rules;
pub mod scorer;
pub mod status;
pub mod table;
pub mod tags;
pub mod topic;
pub mod topic_model;

pub use enrollment::{Enrollment, EnrollmentState};
pub use history::StatusHistoryRow;
pub use note::{Classification, Note};
pub use rating::{HelpfulnessLevel, RatingRow, RatingSource, Ratings};
pub use request::NoteRequest;
pub use status::NoteStatus;
pub use table::{Column, ColumnValues, Nullable, Table};
