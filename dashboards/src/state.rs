//! What every handler shares: the catalog, the store, the clock, the bounded pool of upload workers,
//! and the engine and computed results of the store's current generation. Computation runs on
//! blocking threads, never on the async workers, and no lock is held while it runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pbgdpl_catalog::model::ImportSummary;
use pbgdpl_catalog::{Catalog, Clock, Period, PeriodSpec};
use pbgdpl_engine::{Engine, IndicatorValue, Snapshot};
use pbgdpl_ingest::read::isolate::{Worker, WorkerConfig};
use pbgdpl_store::Store;

use crate::AppError;

/// How the app is run.
#[derive(Debug, Clone)]
pub struct Config {
    /// How to start the workers that parse uploaded workbooks out of process (`None`: parse in the
    /// server, for tests only).
    pub worker: Option<WorkerConfig>,
    pub clock: Clock,
    /// Cookies carry `Secure` (the app is served over HTTPS, e.g. behind a proxy).
    pub secure_cookies: bool,
    /// Uploads parsed at once; the next wait for a free worker.
    pub max_uploads: usize,
    /// How long an upload waits for a free worker before the answer is 503.
    pub upload_wait: Duration,
    /// A worker idle this long is stopped (and started again when needed).
    pub worker_idle: Duration,
    /// Longest time a request may take.
    pub request_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            worker: None,
            clock: Clock::system(),
            secure_cookies: false,
            max_uploads: std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8),
            upload_wait: Duration::from_secs(30),
            worker_idle: Duration::from_secs(120),
            request_timeout: Duration::from_secs(120),
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) store: Arc<dyn Store>,
    config: Arc<Config>,
    workers: Arc<Mutex<Vec<(Worker, Instant)>>>,
    uploads: Arc<tokio::sync::Semaphore>,
    cache: Arc<Mutex<Cache>>,
    /// One engine build at a time: requests that need the new generation wait here (asynchronously),
    /// requests served from the cache never do.
    building: Arc<tokio::sync::Mutex<()>>,
    pub(crate) throttle: Arc<crate::throttle::LoginThrottle>,
}

/// Results of one store generation.
#[derive(Default)]
struct Cache {
    generation: i64,
    engine: Option<Arc<Engine>>,
    /// Survey versions stored when the engine was built (new ones mean new estimates).
    surveys: i64,
    results: HashMap<(String, String), Arc<Vec<IndicatorValue>>>,
    /// The same results serialised for the API: a province's answer is half a megabyte of JSON.
    json: HashMap<(String, String), axum::body::Bytes>,
    /// Rendered page bodies that depend on the store only, by page and query.
    pages: HashMap<String, Arc<str>>,
}

/// An engine over the whole store, with the generation and survey count it was made at.
pub struct Loaded {
    pub engine: Engine,
    pub generation: i64,
    pub surveys: i64,
}

/// The engine over everything the store holds, none of it read yet (no survey estimates attached):
/// each period is read on first use ([`read_periods`]), so starting costs the same whatever the
/// number of periods, and only the periods a request needs are ever in memory.
pub fn load_engine(catalog: &Arc<Catalog>, store: &dyn Store) -> Result<Loaded, AppError> {
    // Nothing comes after the highest id: this reads only the counts, the highest id and the
    // generation, in one snapshot. A period stored after it is read up to that id (nothing of it),
    // and its versions arrive with the next `changes_after`.
    let counts = store.changes_after(i64::MAX)?;
    let engine = Engine::unread(catalog.clone(), store.periods()?, counts.last_id, counts.seen as usize)?;
    Ok(Loaded {
        engine,
        generation: counts.generation,
        surveys: counts.surveys,
    })
}

/// `engine` with those of `periods` (stored codes) it has not read yet read from the store, up to
/// the engine's own highest id: what it holds stays one snapshot of the store.
pub fn read_periods(engine: Engine, store: &dyn Store, periods: &[String]) -> Result<Engine, AppError> {
    engine.read_periods(periods, |p, upto| Ok::<_, AppError>(store.period_upto(p, upto)?))
}

/// The engine with the catalog's survey estimates attached (none without surveys), the surveys'
/// periods read first: an estimate weighs by its period's population figures. The estimation's
/// DataFusion queries run through `rt`.
pub fn estimated(
    catalog: &Catalog,
    store: &dyn Store,
    engine: Engine,
    rt: &tokio::runtime::Handle,
) -> Result<Engine, AppError> {
    if !pbgdpl_surveys::any(catalog) {
        return Ok(engine);
    }
    let surveys = store.surveys()?;
    let periods: Vec<String> = surveys
        .iter()
        .filter_map(|s| Period::parse(&s.period))
        .flat_map(|p| PeriodSpec::Single(p).stored_periods())
        .collect();
    let engine = read_periods(engine, store, &periods)?;
    let samples = rt.block_on(pbgdpl_surveys::samples(&engine, &surveys))?;
    Ok(pbgdpl_surveys::attach(engine, &samples)?)
}

/// An engine for a new generation, and which cached results it leaves stale.
struct NextEngine {
    engine: Arc<Engine>,
    generation: i64,
    surveys: i64,
    stale: Stale,
}

enum Stale {
    All,
    /// Results that read any of these stored periods.
    Periods(std::collections::HashSet<String>),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl AppState {
    pub fn new(catalog: Arc<Catalog>, store: Arc<dyn Store>, config: Config) -> Result<AppState, AppError> {
        store.generation()?; // fail now rather than on the first request
        Ok(AppState {
            catalog,
            store,
            uploads: Arc::new(tokio::sync::Semaphore::new(config.max_uploads.max(1))),
            config: Arc::new(config),
            workers: Arc::default(),
            cache: Arc::default(),
            building: Arc::default(),
            throttle: Arc::default(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.config.clock.now()
    }

    /// Runs blocking work (the store, Argon2, an upload) on a blocking thread.
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&AppState) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let st = self.clone();
        tokio::task::spawn_blocking(move || f(&st)).await?
    }

    /// Reads the returns of one uploaded workbook in an upload worker and stores them.
    pub(crate) async fn ingest_upload(
        &self,
        name: String,
        bytes: Vec<u8>,
        opts: pbgdpl_ingest::pipeline::Options,
    ) -> Result<ImportSummary, AppError> {
        self.with_worker(move |st, worker| {
            Ok(pbgdpl_ingest::pipeline::ingest_upload(
                &st.catalog,
                &*st.store,
                &name,
                &bytes,
                &opts,
                worker,
            )?)
        })
        .await
    }

    /// Reads and stores one survey export in an upload worker, like a workbook of returns.
    pub(crate) async fn ingest_survey(
        &self,
        survey: String,
        period: String,
        name: String,
        bytes: Vec<u8>,
        opts: pbgdpl_ingest::pipeline::Options,
    ) -> Result<pbgdpl_ingest::survey::SurveyReport, AppError> {
        self.with_worker(move |st, worker| {
            let file = pbgdpl_ingest::survey::SurveyFile {
                survey: &survey,
                period: &period,
                name: &name,
                bytes: &bytes,
            };
            Ok(pbgdpl_ingest::survey::ingest_survey(
                &st.catalog,
                &*st.store,
                file,
                &opts,
                worker,
            )?)
        })
        .await
    }

    /// Runs `f` on a blocking thread with an upload permit (waiting a bounded time for one, else
    /// 503) and an idle worker process, given back afterwards.
    async fn with_worker<T: Send + 'static>(
        &self,
        f: impl FnOnce(&AppState, Option<&mut Worker>) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let permit = tokio::time::timeout(self.config.upload_wait, self.uploads.clone().acquire_owned())
            .await
            .map_err(|_| AppError::Unavailable("every upload worker is busy".into()))?
            .map_err(|e| AppError::Internal(e.to_string()))?;
        self.blocking(move |st| {
            let _permit = permit;
            let mut worker = st.take_worker();
            let out = f(st, worker.as_mut());
            if let Some(w) = worker {
                lock(&st.workers).push((w, Instant::now()));
            }
            out
        })
        .await
    }

    /// An idle worker (started if none is idle); workers idle too long are stopped on the way.
    fn take_worker(&self) -> Option<Worker> {
        let config = self.config.worker.clone()?;
        let mut idle = lock(&self.workers);
        let max_idle = self.config.worker_idle;
        idle.retain(|(_, since)| since.elapsed() < max_idle);
        Some(idle.pop().map(|(w, _)| w).unwrap_or_else(|| Worker::new(config)))
    }

    /// Validates and stores JSON returns, off the async workers.
    pub(crate) async fn ingest_drafts(
        &self,
        drafts: Vec<pbgdpl_catalog::ReturnDraft>,
        opts: pbgdpl_ingest::pipeline::Options,
    ) -> Result<ImportSummary, AppError> {
        self.blocking(move |st| {
            Ok(pbgdpl_ingest::pipeline::ingest_drafts(
                &st.catalog,
                &*st.store,
                drafts,
                &opts,
            )?)
        })
        .await
    }

    /// The store's generation now (it changes whenever a return is stored).
    pub(crate) async fn generation(&self) -> Result<i64, AppError> {
        self.blocking(|st| Ok(st.store.generation()?)).await
    }

    /// The engine over the store as it is now, with the generation it was built at, for work that
    /// reads no period's figures (the generation alone, the catalog).
    pub(crate) async fn engine(&self) -> Result<(i64, Arc<Engine>), AppError> {
        self.engine_for(&[]).await
    }

    /// The engine over the store as it is now, with the generation it was built at, having read
    /// `periods` (stored codes: what the request computes from). Built once per generation on a
    /// blocking thread, without holding the cache while it builds: from the previous engine and
    /// what the store stored since where it can (the figures of other periods stay cached), from
    /// the whole store where it cannot. A period is read on first use and kept.
    pub(crate) async fn engine_for(&self, periods: &[String]) -> Result<(i64, Arc<Engine>), AppError> {
        let generation = self.generation().await?;
        if let Some(hit) = self
            .cached_engine(generation)
            .filter(|e| e.unread_of(periods).is_empty())
        {
            return Ok((generation, hit));
        }
        let _building = self.building.lock().await;
        // Another request may have built it while this one waited.
        let generation = self.generation().await?;
        let (generation, engine) = match self.cached_engine(generation) {
            Some(hit) => (generation, hit),
            None => self.next_generation().await?,
        };
        if engine.unread_of(periods).is_empty() {
            return Ok((generation, engine));
        }
        let periods = periods.to_vec();
        let read = Arc::new(
            self.blocking(move |st| read_periods(Engine::clone(&engine), &*st.store, &periods))
                .await?,
        );
        // Reading a period changes no figure already computed: the results stay.
        let mut cache = lock(&self.cache);
        if cache.generation == generation {
            cache.engine = Some(read.clone());
        }
        Ok((generation, read))
    }

    /// Builds the engine of the store's newest generation and keeps it, with the results it leaves
    /// fresh. Called with `building` held.
    async fn next_generation(&self) -> Result<(i64, Arc<Engine>), AppError> {
        let base = {
            let cache = lock(&self.cache);
            cache.engine.clone().map(|e| (e, cache.surveys))
        };
        let next = self.blocking(move |st| st.next_engine(base)).await?;
        let mut cache = lock(&self.cache);
        if next.generation >= cache.generation {
            let old = std::mem::take(&mut *cache);
            let fresh = |key: &(String, String)| match &next.stale {
                Stale::All => false,
                Stale::Periods(changed) => PeriodSpec::parse(&key.0)
                    .is_some_and(|spec| spec.stored_periods().iter().all(|p| !changed.contains(p))),
            };
            *cache = Cache {
                generation: next.generation,
                engine: Some(next.engine.clone()),
                surveys: next.surveys,
                results: old.results.into_iter().filter(|(k, _)| fresh(k)).collect(),
                json: old.json.into_iter().filter(|(k, _)| fresh(k)).collect(),
                // A page mixes periods (the trends): rendered again, from the results kept.
                pages: HashMap::new(),
            };
        }
        Ok((next.generation, next.engine))
    }

    /// The engine after what the store stored since `base` was built, or over the whole store when
    /// `base` is none, a survey arrived, a lower version id was committed late (see
    /// [`pbgdpl_store::Changes::seen`]) or so much arrived that reading everything is as quick.
    fn next_engine(&self, base: Option<(Arc<Engine>, i64)>) -> Result<NextEngine, AppError> {
        /// Above this many new versions the engine is built from the whole store.
        const MAX_APPLIED: usize = 5_000;
        if let Some((old, surveys)) = base {
            let changes = self.store.changes_after(old.last_id())?;
            if changes.seen == old.versions() as i64
                && changes.surveys == surveys
                && changes.returns.len() <= MAX_APPLIED
            {
                let periods = changes.returns.iter().map(|r| r.period.clone()).collect();
                let (generation, surveys) = (changes.generation, changes.surveys);
                let engine = old.apply(Snapshot {
                    returns: changes.returns,
                    values: changes.values,
                })?;
                return Ok(NextEngine {
                    // Estimated again: a survey of a changed period weighs by its new population
                    // figures (and only by its own period's, so results of other periods hold).
                    engine: Arc::new(self.estimated(engine)?),
                    generation,
                    surveys,
                    stale: Stale::Periods(periods),
                });
            }
        }
        let Loaded {
            engine,
            generation,
            surveys,
        } = load_engine(&self.catalog, &*self.store)?;
        Ok(NextEngine {
            engine: Arc::new(self.estimated(engine)?),
            generation,
            surveys,
            stale: Stale::All,
        })
    }

    /// The engine with the catalog's survey estimates attached: their DataFusion queries run on
    /// this blocking thread through the server's runtime.
    fn estimated(&self, engine: Engine) -> Result<Engine, AppError> {
        estimated(&self.catalog, &*self.store, engine, &tokio::runtime::Handle::current())
    }

    fn cached_engine(&self, generation: i64) -> Option<Arc<Engine>> {
        let cache = lock(&self.cache);
        (cache.generation == generation).then(|| cache.engine.clone()).flatten()
    }

    /// Runs an engine computation on a blocking thread (DataFusion's work is CPU-bound: on the async
    /// workers it would stall every other request).
    pub(crate) async fn compute<T, Fut>(
        &self,
        engine: Arc<Engine>,
        f: impl FnOnce(Arc<Engine>) -> Fut + Send + 'static,
    ) -> Result<T, AppError>
    where
        T: Send + 'static,
        Fut: Future<Output = pbgdpl_engine::Result<T>>,
    {
        let handle = tokio::runtime::Handle::current();
        Ok(tokio::task::spawn_blocking(move || handle.block_on(f(engine))).await??)
    }

    /// Indicators for a unit and its children, computed once per store generation.
    pub(crate) async fn indicators(&self, spec: &PeriodSpec, unit: &str) -> Result<Arc<Vec<IndicatorValue>>, AppError> {
        let key = (spec.to_string(), unit.to_owned());
        let (generation, engine) = self.engine_for(&spec.stored_periods()).await?;
        if let Some(hit) = self.with_cache(generation, |c| c.results.get(&key).cloned()) {
            return Ok(hit);
        }
        let (spec, unit) = (*spec, unit.to_owned());
        let values = Arc::new(
            self.compute(engine, move |e| async move { e.indicators(&spec, &unit).await })
                .await?,
        );
        self.keep(generation, |c| {
            c.results.insert(key, values.clone());
        });
        Ok(values)
    }

    /// The indicators as JSON bytes, serialised once per store generation.
    pub(crate) async fn indicators_json(&self, spec: &PeriodSpec, unit: &str) -> Result<axum::body::Bytes, AppError> {
        let key = (spec.to_string(), unit.to_owned());
        let (generation, _) = self.engine().await?;
        if let Some(hit) = self.with_cache(generation, |c| c.json.get(&key).cloned()) {
            return Ok(hit);
        }
        let values = self.indicators(spec, unit).await?;
        let bytes = axum::body::Bytes::from(
            serde_json::to_vec(values.as_ref()).map_err(|e| AppError::Internal(e.to_string()))?,
        );
        self.keep(generation, |c| {
            c.json.insert(key, bytes.clone());
        });
        Ok(bytes)
    }

    /// A page body that depends on the store only, rendered once per store generation; the page
    /// around it (the user's name, the CSRF token) is rendered per request. `build` is not polled
    /// when the body is cached.
    pub(crate) async fn cached_page(
        &self,
        key: String,
        build: impl Future<Output = Result<String, AppError>>,
    ) -> Result<Arc<str>, AppError> {
        let (generation, _) = self.engine().await?;
        if let Some(hit) = self.with_cache(generation, |c| c.pages.get(&key).cloned()) {
            return Ok(hit);
        }
        let body: Arc<str> = build.await?.into();
        self.keep(generation, |c| {
            c.pages.insert(key, body.clone());
        });
        Ok(body)
    }

    fn with_cache<T>(&self, generation: i64, f: impl FnOnce(&Cache) -> Option<T>) -> Option<T> {
        let cache = lock(&self.cache);
        (cache.generation == generation).then(|| f(&cache)).flatten()
    }

    /// Keeps something computed at `generation`, unless the store has moved on since.
    fn keep(&self, generation: i64, f: impl FnOnce(&mut Cache)) {
        let mut cache = lock(&self.cache);
        if cache.generation == generation {
            f(&mut cache);
        }
    }

    /// Periods that have at least one stored return, oldest first.
    pub(crate) async fn periods_with_data(&self) -> Result<Vec<Period>, AppError> {
        let mut ps: Vec<Period> = self
            .blocking(|st| Ok(st.store.periods()?))
            .await?
            .iter()
            .filter_map(|p| Period::parse(p))
            .collect();
        ps.sort_by_key(|p| (p.year, p.kind));
        Ok(ps)
    }

    /// The most recent period that has any stored return, else the current half-year.
    pub(crate) async fn default_period(&self) -> Result<String, AppError> {
        Ok(self
            .periods_with_data()
            .await?
            .last()
            .map(|p| p.code())
            .unwrap_or_else(|| format!("{}S1", chrono::Datelike::year(&self.config.clock.today()))))
    }

    /// The period (default: the latest with returns) and unit (default: the province) of a request,
    /// checked against the catalog.
    pub(crate) async fn resolve(
        &self,
        period: Option<String>,
        unit: Option<String>,
    ) -> Result<(PeriodSpec, String), AppError> {
        let period = match period.filter(|p| !p.trim().is_empty()) {
            Some(p) => p,
            None => self.default_period().await?,
        };
        let spec = self.catalog.period_spec(&period).map_err(AppError::BadRequest)?;
        let unit = unit
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| self.catalog.province.code.clone());
        if self.catalog.units.get(&unit).is_none() {
            return Err(AppError::BadRequest(format!(
                "Đơn vị \"{unit}\" không có trong danh sách"
            )));
        }
        Ok((spec, unit))
    }
}
