//! Ingest: everything that enters pbgdpl as a return — workbooks as people fill them and JSON
//! bodies — read, validated against the catalog and handed to the store.
//!
//! ```text
//!  .xlsx/.xls/.ods ─► read (in a bounded worker process) ─► ReturnDraft ─┐
//!  JSON (API) ──────────────────────────────────────────► ReturnDraft ─┴► validate ─► Store::submit
//! ```
//!
//! Validation is data, not failure: reading and validating give a return plus its cell issues; `Err`
//! is kept for IO and a store that cannot take the write.

pub mod pipeline;
pub mod read;
pub mod survey;
pub mod validate;

use std::path::PathBuf;

use pbgdpl_catalog::Fault;

/// Errors of the ingest crate. Validation findings are not errors: they are [`pbgdpl_catalog::Issue`]s.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] pbgdpl_store::Error),
    /// A reader thread stopped without an answer: a bug.
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    pub fn fault(&self) -> Fault {
        match self {
            Error::Io { .. } => Fault::Input,
            Error::Store(e) => e.fault(),
            Error::Internal(_) => Fault::Bug,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}
