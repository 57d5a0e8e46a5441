//! The domain model of pbgdpl: every rule that says what a unit, a period, a form, an indicator, a
//! target or a plan is lives here as catalog data with one home in code, beside the shapes a return
//! takes (drafts, values, issues, stored records), who may do what (roles) and what time it is (the
//! clock).
//!
//! ```text
//!  catalog files (CatalogSource) ──► Catalog::from_source ──► Catalog { units, periods, forms,
//!                                     (every mistake, with      indicators, plans }
//!                                      file and line)
//! ```
//!
//! This crate does no IO beyond reading a catalog folder into a [`CatalogSource`]; parsing never
//! touches the file system, so the bundled catalog and a folder load the same way.

mod access;
mod catalog;
mod clock;
mod fault;
pub mod model;
pub mod text;

pub use access::{Denied, Role, User};
pub use catalog::{
    Area, Catalog, CatalogIssue, CatalogSource, ColumnDef, ColumnRole, ColumnType, DoneRule, Due, Form, FormRule,
    Indicator, IndicatorKind, Period, PeriodCalendar, PeriodKind, PeriodKindDef, PeriodSpec, Phase, Plan, ProvinceInfo,
    RowDef, SenderLevel, Survey, SurveyEstimate, Target, Task, TaskDue, Term, Tree, Unit, UnitKind, Units,
    column_matches, is_late, normalize_row_code, present,
};
pub use clock::{CLOCK_ENV, Clock, local_date, local_day, vietnam_date};
pub use fault::Fault;
pub use model::{Issue, ReturnDraft, Rule, Severity, Value};

use std::path::PathBuf;

/// Errors of the catalog crate: a catalog folder that cannot be read, or a catalog with mistakes.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the catalog has {} mistake(s):\n{}", .0.len(), catalog::format_issues(.0))]
    Catalog(Vec<CatalogIssue>),
}

impl Error {
    /// A catalog folder that cannot be read is the operator's to fix; a broken catalog its author's.
    pub fn fault(&self) -> Fault {
        match self {
            Error::Io { .. } => Fault::Operator,
            Error::Catalog(_) => Fault::Catalog,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}
