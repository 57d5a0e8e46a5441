//! The engine: everything pbgdpl shows is computed here, from the store's latest values, with
//! DataFusion — the Đề án indicators, who owes which return and who was late, the forms' totals for
//! any unit and period, and the progress of the plan's tasks.
//!
//! ```text
//!  Snapshot { values (long form, latest versions), returns }      catalog (units, tree, row kinds,
//!        │                                                          forms due, tasks)
//!        ▼                                                               │
//!  vals ──► eff: the period's values (official else preliminary ◄────────┘
//!           per unit and form; a phase: flows summed, stocks the last year)
//!        ──► derived: + urban/rural from the unit's area where only the total was filled
//!        ──► one SQL query per cell indicator, for a unit and its children
//!  returns ──► completeness (expected, received, late) ──► BC-1, BC-2, the submissions page
//!  eff(F03) ──► task progress per lead ──► NV-1, the report's task sheet
//! ```
//!
//! Rates are ratios of sums, never averages of rates; a unit that did not report is missing, not
//! zero, and every value carries its coverage. The engine does no file IO: it takes the catalog and
//! a snapshot and gives plain values back.

mod completeness;
mod indicators;
mod snapshot;
mod tables;
mod tasks;
mod values;

pub use completeness::Expected;
pub use indicators::{IndicatorValue, Status};
pub use snapshot::{Snapshot, returns_batch, values_batch, values_parquet};
pub use tasks::TaskProgress;
pub use values::{CellKey, Cells, of_form};

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::{SessionConfig, SessionContext};
use pbgdpl_catalog::model::ReturnRecord;
use pbgdpl_catalog::{Catalog, Fault, Period, PeriodSpec};

/// Errors of the engine, sorted by who must act ([`Error::fault`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request names a unit the catalog does not have.
    #[error("Đơn vị \"{0}\" không có trong danh sách")]
    UnknownUnit(String),
    #[error("query: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    #[error("arrow: {0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    #[error("parquet: {0}")]
    Parquet(#[from] datafusion::parquet::errors::ParquetError),
    /// A query result without the shape the engine wrote it for.
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    pub fn fault(&self) -> Fault {
        match self {
            Error::UnknownUnit(_) => Fault::Input,
            Error::DataFusion(_) | Error::Arrow(_) | Error::Parquet(_) | Error::Internal(_) => Fault::Bug,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One snapshot of the store, ready to query. Each computation runs in a session of its own
/// (sessions are cheap: tables are shared Arrow batches), so concurrent requests never see each
/// other's views.
pub struct Engine {
    catalog: Arc<Catalog>,
    returns: Vec<ReturnRecord>,
    values_batch: RecordBatch,
    returns_batch: RecordBatch,
    /// The catalog as tables, built once (the unit tree's closure is the costly one).
    catalog_tables: Vec<(&'static str, RecordBatch)>,
}

impl Engine {
    /// An engine over a snapshot of the store.
    pub fn new(catalog: Arc<Catalog>, snapshot: Snapshot) -> Result<Engine> {
        let catalog_tables = tables::catalog_tables(&catalog)?;
        let engine = Engine {
            values_batch: values_batch(&snapshot.values)?,
            returns_batch: returns_batch(&snapshot.returns)?,
            returns: snapshot.returns,
            catalog,
            catalog_tables,
        };
        engine.session()?; // fail early on a schema mismatch
        Ok(engine)
    }

    /// A fresh session with the snapshot's and the catalog's tables registered. One partition: the
    /// tables are small and already in memory, so splitting a query across threads costs more than
    /// it saves.
    pub(crate) fn session(&self) -> Result<SessionContext> {
        let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(1));
        ctx.register_batch("vals", self.values_batch.clone())?;
        ctx.register_batch("returns", self.returns_batch.clone())?;
        for (name, batch) in &self.catalog_tables {
            ctx.register_batch(*name, batch.clone())?;
        }
        Ok(ctx)
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Every stored version of every return.
    pub fn returns(&self) -> &[ReturnRecord] {
        &self.returns
    }

    /// Every indicator of the catalog for `unit` and each of its children, the unit first.
    pub async fn indicators(&self, period: &PeriodSpec, unit: &str) -> Result<Vec<IndicatorValue>> {
        indicators::compute(self, period, unit).await
    }

    /// Every return due from `unit` and the units under it for a period, with what arrived, when, and
    /// whether it was late.
    pub fn completeness(&self, period: &Period, unit: &str) -> Vec<Expected<'_>> {
        completeness::expected_returns(&self.catalog, unit, period, &self.returns)
    }

    /// Every whole-number cell of the period, summed over `unit` and the units under it.
    pub async fn form_totals(&self, period: &PeriodSpec, unit: &str) -> Result<Cells> {
        values::form_totals(self, period, unit).await
    }

    /// Each unit's own whole-number cells of the period, for `unit` and the units under it.
    pub async fn unit_values(&self, period: &PeriodSpec, unit: &str) -> Result<BTreeMap<String, Cells>> {
        values::unit_values(self, period, unit).await
    }

    /// The progress of every task of the plan in force, lead by lead, for the leads under `unit`.
    pub async fn tasks(&self, period: &PeriodSpec, unit: &str) -> Result<Vec<TaskProgress>> {
        tasks::tasks(self, period, unit).await
    }

    /// Runs a SQL query over the snapshot (tables: vals, returns, units, tree, rowkinds). For tests
    /// and analysts.
    pub async fn sql(&self, query: &str) -> Result<Vec<RecordBatch>> {
        Ok(self.session()?.sql(query).await?.collect().await?)
    }
}
