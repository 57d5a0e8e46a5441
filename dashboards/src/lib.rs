//! The web app: server-rendered dashboards in Vietnamese and the JSON API under `/api/v1`. Only this
//! crate knows HTTP.

mod api;
mod pages;
mod session;
mod submit;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pbgdpl_engine::{Engine, PeriodSpec};
use pbgdpl_ingest::read::isolate::{Worker, WorkerConfig};
use pbgdpl_ingest::{Catalog, Store};

/// Errors of the web app. A 4xx carries the user's Vietnamese message; a 5xx gets generic text and the
/// cause goes to the log.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("Cần đăng nhập (thiếu hoặc sai mã truy cập)")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("Tệp hoặc nội dung gửi lên quá lớn (tối đa 20 MiB)")]
    TooLarge,
    #[error("internal: {0}")]
    Internal(String),
}

impl From<pbgdpl_ingest::Error> for AppError {
    fn from(e: pbgdpl_ingest::Error) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl From<pbgdpl_engine::Error> for AppError {
    fn from(e: pbgdpl_engine::Error) -> Self {
        match e {
            pbgdpl_engine::Error::Input(m) => AppError::BadRequest(m),
            e => AppError::Internal(e.to_string()),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = match &self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    axum::Json(serde_json::json!({"error": "Lỗi hệ thống, vui lòng thử lại sau"})),
                )
                    .into_response();
            }
        };
        (status, axum::Json(serde_json::json!({"error": self.to_string()}))).into_response()
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub catalog: Arc<Catalog>,
    pub store_dir: PathBuf,
    /// How to start the workers that parse uploaded workbooks out of process.
    pub worker: Option<WorkerConfig>,
    workers: Arc<Mutex<Vec<Worker>>>,
    connections: Arc<Mutex<Vec<Store>>>,
    /// Indicator results by (store generation, period, unit): leaders' pages are read far more often
    /// than returns arrive.
    cache: Arc<Mutex<Cache>>,
}

#[derive(Default)]
struct Cache {
    generation: i64,
    engine: Option<Arc<Engine>>,
    results: HashMap<(String, String), Arc<Vec<pbgdpl_engine::IndicatorValue>>>,
    /// The same results serialised for the API: a province's answer is half a megabyte of JSON.
    json: HashMap<(String, String), axum::body::Bytes>,
    /// Rendered page bodies that depend on the store only (the overview's tiles, sparklines and
    /// reporting summary), by page and query.
    pages: HashMap<String, Arc<str>>,
}

impl AppState {
    pub fn new(catalog: Arc<Catalog>, store_dir: PathBuf, worker: Option<WorkerConfig>) -> Result<AppState, AppError> {
        Store::open(&store_dir)?; // create it, and fail now rather than on the first request
        Ok(AppState {
            catalog,
            store_dir,
            worker,
            workers: Arc::default(),
            connections: Arc::default(),
            cache: Arc::default(),
        })
    }

    /// Runs `f` with an idle upload worker (started if none is idle), and keeps the worker for later.
    pub(crate) fn with_worker<T>(&self, f: impl FnOnce(Option<&mut Worker>) -> T) -> T {
        let Some(config) = &self.worker else {
            return f(None);
        };
        let taken = self.workers.lock().ok().and_then(|mut w| w.pop());
        let mut worker = taken.unwrap_or_else(|| Worker::new(config.clone()));
        let out = f(Some(&mut worker));
        if let Ok(mut idle) = self.workers.lock() {
            idle.push(worker);
        }
        out
    }

    /// Stores an uploaded workbook's returns, off the async workers. Uploaded files are hostile: they
    /// are parsed by a bounded worker process, never in the server.
    pub(crate) async fn ingest_upload(
        &self,
        name: String,
        bytes: Vec<u8>,
        opts: pbgdpl_ingest::pipeline::Options,
    ) -> Result<pbgdpl_ingest::pipeline::ImportSummary, AppError> {
        let st = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = st.store()?;
            st.with_worker(|w| pbgdpl_ingest::pipeline::ingest_upload(&st.catalog, &mut store, &name, &bytes, &opts, w))
                .map_err(AppError::from)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
    }

    /// The indicators as JSON bytes, serialised once per store generation.
    pub(crate) async fn indicators_json(&self, spec: &PeriodSpec, unit: &str) -> Result<axum::body::Bytes, AppError> {
        let generation = self.store()?.generation()?;
        let key = (spec.to_string(), unit.to_owned());
        if let Ok(cache) = self.cache.lock()
            && cache.generation == generation
            && let Some(hit) = cache.json.get(&key)
        {
            return Ok(hit.clone());
        }
        let values = self.indicators(spec, unit).await?;
        let bytes = axum::body::Bytes::from(
            serde_json::to_vec(values.as_ref()).map_err(|e| AppError::Internal(e.to_string()))?,
        );
        if let Ok(mut cache) = self.cache.lock()
            && cache.generation == generation
        {
            cache.json.insert(key, bytes.clone());
        }
        Ok(bytes)
    }

    /// Indicators for a unit and its children, computed once per store generation.
    pub(crate) async fn indicators(
        &self,
        spec: &PeriodSpec,
        unit: &str,
    ) -> Result<Arc<Vec<pbgdpl_engine::IndicatorValue>>, AppError> {
        let key = (spec.to_string(), unit.to_owned());
        let (generation, engine) = self.cached_engine()?;
        if let Ok(cache) = self.cache.lock()
            && cache.generation == generation
            && let Some(hit) = cache.results.get(&key)
        {
            return Ok(hit.clone());
        }
        let values = Arc::new(engine.indicators(spec, unit).await?);
        if let Ok(mut cache) = self.cache.lock()
            && cache.generation == generation
        {
            cache.results.insert(key, values.clone());
        }
        Ok(values)
    }

    /// A connection to the store from the pool (opened on first need, returned when dropped): opening
    /// SQLite per request would add a schema check and a write to every page view.
    pub(crate) fn store(&self) -> Result<PooledStore, AppError> {
        let conn = self.connections.lock().ok().and_then(|mut p| p.pop());
        let conn = match conn {
            Some(c) => c,
            None => Store::open(&self.store_dir)?,
        };
        Ok(PooledStore {
            conn: Some(conn),
            pool: self.connections.clone(),
        })
    }

    /// The store's generation now (it changes whenever a return is stored).
    pub(crate) fn generation(&self) -> Result<i64, AppError> {
        Ok(self.store()?.generation()?)
    }

    /// A page body rendered earlier at this store generation.
    pub(crate) fn cached_page(&self, generation: i64, key: &str) -> Option<Arc<str>> {
        let cache = self.cache.lock().ok()?;
        (cache.generation == generation)
            .then(|| cache.pages.get(key).cloned())
            .flatten()
    }

    /// Keeps a page body rendered at `generation`, unless the store has moved on since.
    pub(crate) fn keep_page(&self, generation: i64, key: String, body: Arc<str>) {
        if let Ok(mut cache) = self.cache.lock()
            && cache.generation == generation
        {
            cache.pages.insert(key, body);
        }
    }

    /// The engine over the store as it is now, with the store generation it was built at: built once
    /// per generation and shared by the pages, the API and the report downloads.
    pub(crate) fn cached_engine(&self) -> Result<(i64, Arc<Engine>), AppError> {
        let generation = self.store()?.generation()?;
        let mut cache = self
            .cache
            .lock()
            .map_err(|_| AppError::Internal("cache poisoned".into()))?;
        match &cache.engine {
            Some(engine) if cache.generation == generation => Ok((generation, engine.clone())),
            _ => {
                let engine = Arc::new(self.engine()?);
                *cache = Cache {
                    generation,
                    engine: Some(engine.clone()),
                    ..Cache::default()
                };
                Ok((generation, engine))
            }
        }
    }

    /// A new engine over the store as it is now.
    fn engine(&self) -> Result<Engine, AppError> {
        let store = self.store()?;
        let values = pbgdpl_ingest::arrow_tables::values_batch(&store.all_latest_values()?)?;
        let returns = pbgdpl_ingest::arrow_tables::returns_batch(&store.returns(None)?)?;
        Ok(Engine::new(self.catalog.clone(), values, returns)?)
    }

    /// Periods that have at least one stored return, oldest first.
    pub(crate) fn periods_with_data(&self) -> Result<Vec<pbgdpl_ingest::catalog::Period>, AppError> {
        let mut ps: Vec<_> = self
            .store()?
            .periods()?
            .iter()
            .filter_map(|p| pbgdpl_ingest::catalog::Period::parse(p))
            .collect();
        ps.sort_by_key(|p| (p.year, p.kind));
        Ok(ps)
    }

    /// The most recent period that has any stored return, else the current half-year.
    pub(crate) fn default_period(&self) -> Result<String, AppError> {
        Ok(self
            .periods_with_data()?
            .last()
            .map(|p| p.code())
            .unwrap_or_else(|| format!("{}S1", chrono::Datelike::year(&chrono::Local::now()))))
    }
}

/// A store connection borrowed from the pool.
pub(crate) struct PooledStore {
    conn: Option<Store>,
    pool: Arc<Mutex<Vec<Store>>>,
}

impl std::ops::Deref for PooledStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.conn
            .as_ref()
            .expect("a pooled connection is present until dropped")
    }
}

impl std::ops::DerefMut for PooledStore {
    fn deref_mut(&mut self) -> &mut Store {
        self.conn
            .as_mut()
            .expect("a pooled connection is present until dropped")
    }
}

impl Drop for PooledStore {
    fn drop(&mut self) {
        if let (Some(conn), Ok(mut pool)) = (self.conn.take(), self.pool.lock())
            && pool.len() < 16
        {
            pool.push(conn);
        }
    }
}

/// `?period=&unit=` as every page and the API take them.
#[derive(Debug, Default, serde::Deserialize)]
pub struct PeriodUnit {
    pub period: Option<String>,
    pub unit: Option<String>,
}

impl AppState {
    /// The period (default: the latest with returns) and unit (default: the province) of a request,
    /// checked against the catalog.
    pub(crate) fn resolve(&self, q: PeriodUnit) -> Result<(PeriodSpec, String), AppError> {
        let period = match q.period {
            Some(p) => p,
            None => self.default_period()?,
        };
        let spec = PeriodSpec::parse(&period).ok_or_else(|| {
            AppError::BadRequest(format!(
                "Kỳ báo cáo \"{period}\" không hợp lệ (ví dụ 2026S1, 2026P, 2026)"
            ))
        })?;
        let unit = q.unit.unwrap_or_else(|| self.catalog.province.code.clone());
        if self.catalog.units.get(&unit).is_none() {
            return Err(AppError::BadRequest(format!(
                "Đơn vị \"{unit}\" không có trong danh sách"
            )));
        }
        Ok((spec, unit))
    }
}

/// Largest request body: a 20 MiB workbook plus the multipart envelope.
pub const MAX_BODY: usize = 20 * 1024 * 1024 + 64 * 1024;

/// The whole app.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::overview))
        .route("/chi-tieu/{code}", get(pages::indicator))
        .route("/nop-bao-cao", get(pages::submissions))
        .route("/ky/{period}/{action}", axum::routing::post(pages::lock_period))
        .route("/don-vi/{code}", get(pages::unit))
        .route("/dang-nhap", get(session::login_page).post(session::login))
        .route("/dang-nhap/lien-ket/{token}", get(session::login_link))
        .route("/dang-xuat", axum::routing::post(session::logout))
        .route("/nop", get(submit::form).post(submit::upload))
        .route("/nop/mau", get(submit::template))
        .route("/bao-cao", get(pages::report))
        .route("/healthz", get(|| async { "ok" }))
        .nest("/api/v1", api::routes())
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::map_response(secure_headers))
        .with_state(state)
}

/// Headers every response carries: no sniffing, no framing by other sites, no referrer leaks, and a
/// content policy that allows only this origin (pages use inline styles and SVG, no scripts).
async fn secure_headers(mut res: Response) -> Response {
    use axum::http::HeaderValue;
    let h = res.headers_mut();
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"),
    );
    res
}

/// Serves the app on a bound listener until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await
}
