//! The engine: Đề án indicators computed with DataFusion from the stored values.
//!
//! ```text
//!  vals (long form, latest versions) ──► eff: the period's values ──► derived: + urban/rural from the
//!  returns, units, tree (ancestor→descendant)    (official else          unit's area where only the
//!  due, expected, tasks (from the catalog)        preliminary; phase:     total was filled)
//!                                                 flows summed, stocks ──► one SQL query per indicator,
//!                                                 last year)              for a unit and its children
//! ```
//!
//! Rates are ratios of sums, never averages of rates; a unit that did not report is missing, not zero,
//! and every value carries its coverage. The engine does no file IO: it takes the catalog and Arrow
//! tables and gives plain values back.

mod indicators;
mod periods;
mod tables;

pub use indicators::{IndicatorValue, Status};
pub use periods::PeriodSpec;

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;
use pbgdpl_ingest::Catalog;

/// Errors of the engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("query: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    #[error("arrow: {0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    #[error("{0}")]
    Input(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One snapshot of the store, ready to query. Each computation runs in a session of its own (sessions
/// are cheap: tables are shared Arrow batches), so concurrent requests never see each other's views.
pub struct Engine {
    catalog: Arc<Catalog>,
    values: RecordBatch,
    returns: RecordBatch,
    /// The catalog as tables, built once (the unit tree's closure is the costly one).
    catalog_tables: Vec<(&'static str, RecordBatch)>,
}

impl Engine {
    /// Builds a session over the latest values (`pbgdpl_ingest::arrow_tables::values_batch`) and the
    /// stored returns (`returns_batch`).
    pub fn new(catalog: Arc<Catalog>, values: RecordBatch, returns: RecordBatch) -> Result<Engine> {
        let catalog_tables = tables::catalog_tables(&catalog)?;
        let engine = Engine {
            catalog,
            values,
            returns,
            catalog_tables,
        };
        engine.session()?; // fail early on a schema mismatch
        Ok(engine)
    }

    /// A fresh session with the snapshot's and the catalog's tables registered.
    pub(crate) fn session(&self) -> Result<SessionContext> {
        let ctx = SessionContext::new();
        ctx.register_batch("vals", self.values.clone())?;
        ctx.register_batch("returns", self.returns.clone())?;
        for (name, batch) in &self.catalog_tables {
            ctx.register_batch(*name, batch.clone())?;
        }
        Ok(ctx)
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Every indicator of the catalog for `unit` and each of its children, the unit first.
    pub async fn indicators(&self, period: &PeriodSpec, unit: &str) -> Result<Vec<IndicatorValue>> {
        indicators::compute(self, period, unit).await
    }

    /// Runs a SQL query over the snapshot (tables: vals, returns, units, tree, rowkinds). For tests
    /// and analysts.
    pub async fn sql(&self, query: &str) -> Result<Vec<RecordBatch>> {
        Ok(self.session()?.sql(query).await?.collect().await?)
    }
}
