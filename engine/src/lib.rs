//! The engine: everything pbgdpl shows is computed here, from the store's latest values — the
//! Đề án indicators, who owes which return and who was late, the forms' totals for any unit and
//! period, and the progress of the plan's tasks. The period's values and the indicators are built
//! and folded over Arrow batches in Rust; DataFusion runs the computations written in SQL over them
//! (the forms' totals, each unit's figures) and any query an analyst asks.
//!
//! ```text
//!  Snapshot { values (long form, latest versions), returns }      catalog (units, tree, row kinds,
//!        │                                                          forms due, deadlines, tasks)
//!        ▼                                                               │
//!  the period's batches ──► eff: the period's values (official else  ◄───┘
//!           preliminary per unit and form; a phase: flows summed, stocks the last year)
//!        ──► every cell indicator in one fold over eff's cells (by integer cell id; a total
//!            alone counts in the unit's own area's column), each unit's sums then sent up
//!            the view's tree with their shares, for a unit and its children
//!  returns ──► completeness (expected, received, late) ──► BC-1, BC-2, the submissions page
//!  eff(F03) ──► task progress per lead ──► NV-1, the report's task sheet
//! ```
//!
//! Rates are ratios of sums, never averages of rates; a unit that did not report is missing, not
//! zero, and every value carries its coverage. The engine does no file IO: it takes the catalog and
//! a snapshot and gives plain values back.

mod completeness;
mod effective;
mod indicators;
mod snapshot;
mod tables;
mod tasks;
mod values;
mod view;

pub use completeness::Expected;
pub use indicators::{IndicatorValue, Status, SurveyFigure, Z95};
pub use snapshot::{Snapshot, returns_batch, values_batch, values_parquet};
pub use tasks::TaskProgress;
pub use values::{CellKey, Cells, of_form};
pub use view::View;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::{SessionConfig, SessionContext};
use pbgdpl_catalog::model::{ReturnRecord, StoredValue};
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
    /// A computation asked for a stored period the engine has not read ([`Engine::load_period`]):
    /// computing without it would show figures that leave its returns out.
    #[error("internal: period {0} is stored but was not read into the engine")]
    NotLoaded(String),
}

impl Error {
    pub fn fault(&self) -> Fault {
        match self {
            Error::UnknownUnit(_) => Fault::Input,
            Error::DataFusion(_) | Error::Arrow(_) | Error::Parquet(_) | Error::Internal(_) | Error::NotLoaded(_) => {
                Fault::Bug
            }
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Named Arrow tables registered in every session.
type Tables = Vec<(&'static str, RecordBatch)>;

/// The value kept in `cache` for `key`, built by `build` on first use. Built outside the lock, so
/// that a slow build blocks no other key; a poisoned lock only means the value is built again.
fn kept<K: std::hash::Hash + Eq, V>(
    cache: &Mutex<HashMap<K, Arc<V>>>,
    key: K,
    build: impl FnOnce() -> Result<V>,
) -> Result<Arc<V>> {
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(hit);
    }
    let built = Arc::new(build()?);
    if let Ok(mut c) = cache.lock() {
        c.insert(key, built.clone());
    }
    Ok(built)
}

/// What an engine keeps of one view of time.
struct ViewData {
    tables: Tables,
    shares: Arc<view::Shares>,
}

/// One snapshot of the store, ready to query, that a later snapshot is made from by applying what
/// changed ([`Engine::apply`]) rather than by reading the store again. Each computation runs in a
/// session of its own (sessions are cheap: tables are shared Arrow batches), so concurrent requests
/// never see each other's views.
///
/// The periods are read one by one: an engine made with [`Engine::unread`] knows which periods the
/// store holds and reads each on first use ([`Engine::load_period`]), so that starting costs the
/// same whatever the number of periods. A computation over a period not read is refused
/// ([`Error::NotLoaded`]), never computed without it. Cloning shares every table.
#[derive(Clone)]
pub struct Engine {
    catalog: Arc<Catalog>,
    /// Every stored version by period, its unit given by key (the unit that held the code in its
    /// period), in (unit, form, version) order: an accepted return copies its period's only.
    returns: BTreeMap<String, Arc<Vec<ReturnRecord>>>,
    /// The latest values, one batch per stored period: a request reads only the periods its
    /// figures come from, and an accepted return rebuilds only its period's batch.
    values: BTreeMap<String, RecordBatch>,
    returns_batches: BTreeMap<String, RecordBatch>,
    /// The highest return id of the snapshot (what [`Engine::apply`] continues from).
    last_id: i64,
    /// Versions with ids up to `last_id`, read or not (what the store must count for the engine
    /// to be current).
    counted: usize,
    /// Stored periods not read yet: their versions up to `last_id` are in the store only.
    unread: std::collections::BTreeSet<String>,
    /// The catalog as tables, built once and shared by the engines applied from this one.
    catalog_tables: Arc<Tables>,
    /// The integer id of each cell an indicator reads, likewise built once.
    term_ids: Arc<indicators::TermIds>,
    /// The tree and the forward mapping of each view asked for, as tables and as [`view::Shares`],
    /// built once each, shared likewise.
    view_tables: Arc<Mutex<HashMap<chrono::NaiveDate, Arc<ViewData>>>>,
    /// The returns each unit owes for each period asked for: catalog facts, built once each.
    owed: Arc<Mutex<HashMap<Period, Arc<completeness::Owed>>>>,
    /// Survey estimates (from `pbgdpl-surveys`, through Arrow), by indicator, unit and period.
    estimates: indicators::Estimates,
}

/// Gives each value and version to the unit that held its code at the end of its period (a code
/// names different units at different times).
fn settle_keys(catalog: &Catalog, snapshot: &mut Snapshot) {
    let mut keys: HashMap<(String, String), String> = HashMap::new();
    let mut key_of = |unit: &str, period: &str| -> String {
        keys.entry((unit.to_owned(), period.to_owned()))
            .or_insert_with(|| view::unit_key(catalog, unit, period))
            .clone()
    };
    for v in &mut snapshot.values {
        v.unit = key_of(&v.unit, &v.period);
    }
    for r in &mut snapshot.returns {
        r.unit = key_of(&r.unit, &r.period);
    }
}

/// Versions by period, each period's in (unit, form, version) order.
fn returns_by_period(
    mut by: BTreeMap<String, Arc<Vec<ReturnRecord>>>,
    returns: Vec<ReturnRecord>,
) -> BTreeMap<String, Arc<Vec<ReturnRecord>>> {
    let mut added: BTreeMap<String, Vec<ReturnRecord>> = BTreeMap::new();
    for r in returns {
        added.entry(r.period.clone()).or_default().push(r);
    }
    for (period, new) in added {
        let list = by.entry(period).or_default();
        let list = Arc::make_mut(list);
        list.extend(new);
        list.sort_by(|a, b| (&a.unit, &a.form, a.version).cmp(&(&b.unit, &b.form, b.version)));
    }
    by
}

/// The values as one batch per period.
fn by_period(values: &[StoredValue]) -> Result<BTreeMap<String, RecordBatch>> {
    let mut groups: BTreeMap<&str, Vec<&StoredValue>> = BTreeMap::new();
    for v in values {
        groups.entry(v.period.as_str()).or_default().push(v);
    }
    groups
        .into_iter()
        .map(|(p, vs)| Ok((p.to_owned(), snapshot::values_batch_of(vs.into_iter())?)))
        .collect()
}

impl Engine {
    /// An engine over a snapshot of the store.
    pub fn new(catalog: Arc<Catalog>, mut snapshot: Snapshot) -> Result<Engine> {
        settle_keys(&catalog, &mut snapshot);
        let last_id = snapshot.returns.iter().map(|r| r.id).max().unwrap_or(0);
        let counted = snapshot.returns.len();
        let returns = returns_by_period(BTreeMap::new(), snapshot.returns);
        let engine = Engine {
            values: by_period(&snapshot.values)?,
            returns_batches: returns
                .iter()
                .map(|(p, rs)| Ok((p.clone(), returns_batch(rs)?)))
                .collect::<Result<_>>()?,
            last_id,
            counted,
            unread: Default::default(),
            returns,
            catalog_tables: Arc::new(tables::catalog_tables(&catalog)?),
            term_ids: Arc::new(indicators::TermIds::of(&catalog)),
            catalog,
            view_tables: Arc::default(),
            owed: Arc::default(),
            estimates: indicators::Estimates::new(),
        };
        engine.session_of(View::Present, Some(&[]))?; // fail early on a schema mismatch
        Ok(engine)
    }

    /// The engine of the store after `changes`: the versions stored since this snapshot (ids above
    /// [`Engine::last_id`]) and the latest values of the returns they version. Only the periods of
    /// those returns are rebuilt; the rest — the other periods' batches, the catalog's and the
    /// views' tables — is shared with this engine. Survey estimates are kept: attach new ones when
    /// a survey's population figures may have changed.
    pub fn apply(&self, mut changes: Snapshot) -> Result<Engine> {
        let last_id = changes.returns.iter().map(|r| r.id).fold(self.last_id, i64::max);
        let counted = self.counted + changes.returns.len();
        // A period not read yet stays so: it is read later up to the new last id, changes and all.
        changes.returns.retain(|r| !self.unread.contains(&r.period));
        changes.values.retain(|v| !self.unread.contains(&v.period));
        settle_keys(&self.catalog, &mut changes);
        let returns = returns_by_period(self.returns.clone(), changes.returns.clone());
        let mut returns_batches = self.returns_batches.clone();
        // The returns whose latest values are replaced, by period: (unit key, form).
        let mut replaced: BTreeMap<&str, std::collections::HashSet<(&str, &str)>> = BTreeMap::new();
        for r in &changes.returns {
            replaced
                .entry(r.period.as_str())
                .or_default()
                .insert((r.unit.as_str(), r.form.as_str()));
        }
        let mut values = self.values.clone();
        let fresh = by_period(&changes.values)?;
        for (period, keys) in &replaced {
            let mut parts = Vec::new();
            if let Some(old) = self.values.get(*period) {
                parts.push(snapshot::without_returns(old, keys)?);
            }
            parts.extend(fresh.get(*period).cloned());
            let batch = datafusion::arrow::compute::concat_batches(&snapshot::values_schema(), &parts)?;
            values.insert((*period).to_owned(), batch);
            if let Some(rs) = returns.get(*period) {
                returns_batches.insert((*period).to_owned(), returns_batch(rs)?);
            }
        }
        Ok(Engine {
            returns_batches,
            last_id,
            counted,
            returns,
            values,
            ..self.clone()
        })
    }

    /// An engine over a store that holds `periods` (codes) and `versions` versions with ids up to
    /// `last_id`, none of them read yet: read each period with [`Engine::load_period`] before a
    /// computation needs it.
    pub fn unread(
        catalog: Arc<Catalog>,
        periods: impl IntoIterator<Item = String>,
        last_id: i64,
        versions: usize,
    ) -> Result<Engine> {
        let mut engine = Engine::new(catalog, Snapshot::default())?;
        engine.last_id = last_id;
        engine.counted = versions;
        engine.unread = periods.into_iter().collect();
        Ok(engine)
    }

    /// Those of `periods` (codes) that are stored but not read yet.
    pub fn unread_of<'a>(&self, periods: &'a [String]) -> Vec<&'a str> {
        periods
            .iter()
            .filter(|p| self.unread.contains(p.as_str()))
            .map(String::as_str)
            .collect()
    }

    /// Every stored period not read yet.
    pub fn unread_periods(&self) -> Vec<String> {
        self.unread.iter().cloned().collect()
    }

    /// Reads one period: its versions with ids up to [`Engine::last_id`] and their latest values,
    /// as the store's `period_upto` gives them (by unit code).
    pub fn load_period(&mut self, period: &str, returns: Vec<ReturnRecord>, values: Vec<StoredValue>) -> Result<()> {
        let mut part = Snapshot { values, returns };
        settle_keys(&self.catalog, &mut part);
        if let Some(r) = part.returns.iter().find(|r| r.period != period || r.id > self.last_id) {
            return Err(Error::Internal(format!(
                "period {period} read with version {} of {} (id {}, after {})",
                r.version, r.period, r.id, self.last_id
            )));
        }
        let returns = returns_by_period(BTreeMap::new(), part.returns)
            .remove(period)
            .unwrap_or_default();
        self.returns_batches.insert(period.to_owned(), returns_batch(&returns)?);
        self.returns.insert(period.to_owned(), returns);
        self.values
            .insert(period.to_owned(), snapshot::values_batch_of(part.values.iter())?);
        self.unread.remove(period);
        Ok(())
    }

    /// The engine with those of `periods` (codes) it has not read yet read through `read` (given a
    /// period and the engine's highest id: the store's `period_upto`), so that what it holds stays
    /// one snapshot of the store.
    pub fn read_periods<E: From<Error>>(
        mut self,
        periods: &[String],
        mut read: impl FnMut(&str, i64) -> Result<(Vec<ReturnRecord>, Vec<StoredValue>), E>,
    ) -> Result<Engine, E> {
        for p in self.unread_of(periods) {
            let (returns, values) = read(p, self.last_id)?;
            self.load_period(p, returns, values)?;
        }
        Ok(self)
    }

    /// Refuses a computation over periods not read.
    fn check_read<'a>(&self, periods: impl IntoIterator<Item = &'a String>) -> Result<()> {
        match periods.into_iter().find(|p| self.unread.contains(p.as_str())) {
            Some(p) => Err(Error::NotLoaded(p.clone())),
            None => Ok(()),
        }
    }

    /// The highest return id this engine has seen: ask the store for what came after it.
    pub fn last_id(&self) -> i64 {
        self.last_id
    }

    /// A fresh session with the snapshot's, the catalog's and the view's tables registered, every
    /// period's values in `vals`.
    pub(crate) fn session(&self, view: View) -> Result<SessionContext> {
        self.session_of(view, None)
    }

    /// A session whose `vals` holds only the values of `periods` (codes; `None`: every period).
    /// One partition: the tables are small and already in memory, so splitting a query across
    /// threads costs more than it saves.
    pub(crate) fn session_of(&self, view: View, periods: Option<&[String]>) -> Result<SessionContext> {
        let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(1));
        let vals: Vec<RecordBatch> = match periods {
            Some(ps) => {
                self.check_read(ps)?;
                ps.iter().filter_map(|p| self.values.get(p).cloned()).collect()
            }
            None => {
                self.check_read(&self.unread)?;
                self.values.values().cloned().collect()
            }
        };
        let table = datafusion::datasource::MemTable::try_new(snapshot::values_schema(), vec![vals])?;
        ctx.register_table("vals", Arc::new(table))?;
        let versions = datafusion::datasource::MemTable::try_new(
            snapshot::returns_schema(),
            vec![self.returns_batches.values().cloned().collect()],
        )?;
        ctx.register_table("returns", Arc::new(versions))?;
        for (name, batch) in self.catalog_tables.iter().chain(self.view_data(view)?.tables.iter()) {
            ctx.register_batch(*name, batch.clone())?;
        }
        Ok(ctx)
    }

    fn view_data(&self, view: View) -> Result<Arc<ViewData>> {
        let date = view.date();
        kept(&self.view_tables, date, || {
            Ok(ViewData {
                tables: tables::view_tables(&self.catalog, date)?,
                shares: Arc::new(view::shares_on(&self.catalog, date)),
            })
        })
    }

    /// The tree of `view` and where each unit's figures go in it.
    pub(crate) fn scope(&self, view: View) -> Result<view::Scope<'_>> {
        let _span = tracing::debug_span!("scope").entered();
        Ok(view::Scope::new(
            &self.catalog,
            view,
            self.view_data(view)?.shares.clone(),
        ))
    }

    /// The returns each unit owes for a period, worked out on first use.
    pub(crate) fn owed(&self, period: &Period) -> Result<Arc<completeness::Owed>> {
        kept(&self.owed, *period, || {
            Ok(completeness::Owed::of(&self.catalog, period))
        })
    }

    /// The engine with survey estimates: an Arrow batch with the columns of
    /// `pbgdpl_surveys::COLUMNS` (survey, period, indicator, unit key, respondents, counted,
    /// communes, estimate 0–1, se, effective, publishable, unweighted_communes, clusters). Where a
    /// catalog survey estimates an indicator, its estimate is the figure shown for the units and
    /// periods it covers.
    pub fn with_estimates(mut self, batch: &RecordBatch) -> Result<Engine> {
        self.estimates = indicators::estimates_of(batch)?;
        Ok(self)
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Every stored version of every return of the periods read.
    pub fn returns(&self) -> impl Iterator<Item = &ReturnRecord> {
        self.returns.values().flat_map(|rs| rs.iter())
    }

    /// Every stored version of the returns of one period (a code), in (unit, form, version) order.
    pub fn returns_of(&self, period: &str) -> Result<&[ReturnRecord]> {
        if self.unread.contains(period) {
            return Err(Error::NotLoaded(period.to_owned()));
        }
        Ok(self.returns.get(period).map_or(&[], |rs| rs.as_slice()))
    }

    /// How many versions the engine accounts for: every version with an id up to
    /// [`Engine::last_id`], read or not.
    pub fn versions(&self) -> usize {
        self.counted
    }

    /// Every indicator of the catalog for `unit` and each of its children, the unit first, in
    /// today's hierarchy: the figures of units that no longer exist count in their successors.
    pub async fn indicators(&self, period: &PeriodSpec, unit: &str) -> Result<Vec<IndicatorValue>> {
        indicators::compute(self, period, unit, View::Present.settle(&self.catalog, unit)).await
    }

    /// [`Engine::indicators`] in a chosen view of time (the hierarchy as it was on a date).
    pub async fn indicators_in(&self, period: &PeriodSpec, unit: &str, view: View) -> Result<Vec<IndicatorValue>> {
        indicators::compute(self, period, unit, view.settle(&self.catalog, unit)).await
    }

    /// Every return due for a period from the units whose figures go to `unit` (today's hierarchy),
    /// with what arrived, when, and whether it was late — the units of that period, by their names
    /// of then.
    pub fn completeness(&self, period: &Period, unit: &str) -> Result<Vec<Expected<'_>>> {
        completeness::expected_returns(self, unit, period, View::Present.settle(&self.catalog, unit))
    }

    /// [`Engine::completeness`] in a chosen view of time.
    pub fn completeness_in(&self, period: &Period, unit: &str, view: View) -> Result<Vec<Expected<'_>>> {
        completeness::expected_returns(self, unit, period, view.settle(&self.catalog, unit))
    }

    /// Every whole-number cell of the period, summed over the units whose figures go to `unit`
    /// (shares of divided units applied).
    pub async fn form_totals(&self, period: &PeriodSpec, unit: &str) -> Result<Cells> {
        values::form_totals(self, period, unit, View::Present.settle(&self.catalog, unit)).await
    }

    /// [`Engine::form_totals`] in a chosen view of time.
    pub async fn form_totals_in(&self, period: &PeriodSpec, unit: &str, view: View) -> Result<Cells> {
        values::form_totals(self, period, unit, view.settle(&self.catalog, unit)).await
    }

    /// Each unit's own whole-number cells of the period, for the units (of that period) whose
    /// figures go to `unit`.
    pub async fn unit_values(&self, period: &PeriodSpec, unit: &str) -> Result<BTreeMap<String, Cells>> {
        values::unit_values(self, period, unit, View::Present.settle(&self.catalog, unit)).await
    }

    /// [`Engine::unit_values`] in a chosen view of time.
    pub async fn unit_values_in(&self, period: &PeriodSpec, unit: &str, view: View) -> Result<BTreeMap<String, Cells>> {
        values::unit_values(self, period, unit, view.settle(&self.catalog, unit)).await
    }

    /// The progress of every task of the plans in force, lead by lead, for the leads whose figures
    /// go to `unit`.
    pub async fn tasks(&self, period: &PeriodSpec, unit: &str) -> Result<Vec<TaskProgress>> {
        tasks::tasks(self, period, unit, View::Present.settle(&self.catalog, unit))
    }

    /// [`Engine::tasks`] in a chosen view of time.
    pub async fn tasks_in(&self, period: &PeriodSpec, unit: &str, view: View) -> Result<Vec<TaskProgress>> {
        tasks::tasks(self, period, unit, view.settle(&self.catalog, unit))
    }

    /// Runs a SQL query over the snapshot (tables: vals, returns, units, tree, fwd, rowkinds), in
    /// today's hierarchy. For tests and analysts.
    pub async fn sql(&self, query: &str) -> Result<Vec<RecordBatch>> {
        Ok(self.session(View::Present)?.sql(query).await?.collect().await?)
    }

    /// Runs a SQL query over one period's figures: the tables of [`Engine::sql`] (`vals` holding
    /// only the period's stored periods) and the period's effective values `eff`, in today's
    /// hierarchy. For tests and analysts.
    pub async fn period_sql(&self, period: &PeriodSpec, query: &str) -> Result<Vec<RecordBatch>> {
        let ctx = indicators::period_session(self, period, View::Present).await?;
        Ok(ctx.sql(query).await?.collect().await?)
    }
}
