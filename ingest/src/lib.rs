//! Ingest: everything that enters pbgdpl — the catalog of definitions and the units' returns — and the
//! embedded store of record that keeps them.
//!
//! ```text
//!  catalog dir ──► catalog::Catalog ─────────────────────────────┐
//!  .xlsx/.xls/.ods ─► read::read_workbook ─► ReturnDraft ─┐       │
//!  JSON (API) ─────────────────────────────► ReturnDraft ─┴► validate::validate ─► store::Store ─► arrow batches
//! ```
//!
//! Validation is data, not failure: reading and validating give a return plus its cell issues; `Err` is
//! kept for IO, corrupt files and a broken catalog.

pub mod arrow_tables;
pub mod catalog;
pub mod completeness;
pub mod model;
pub mod pipeline;
pub mod read;
pub mod store;
pub mod text;
pub mod validate;

pub use catalog::Catalog;
pub use model::{Issue, ReturnDraft, Rule, Severity, Value};
pub use store::Store;

use std::path::PathBuf;

/// Errors of the ingest crate. Validation findings are not errors: they are [`Issue`]s.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the catalog has {} mistake(s):\n{}", .0.len(), catalog::format_issues(.0))]
    Catalog(Vec<catalog::CatalogIssue>),
    #[error("store: {0}")]
    Store(#[from] rusqlite::Error),
    #[error("store: {0}")]
    StoreData(String),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}
