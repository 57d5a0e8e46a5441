//! The web app: server-rendered dashboards in Vietnamese (askama templates, one layout, one
//! stylesheet) and the JSON API under `/api/v1`. Only this crate knows HTTP.
//!
//! ```text
//!  request ─► security headers, body limit (413 before any parsing), timeout
//!          ─► extractors: Viewer (session + period + unit, checked) | ApiUser (bearer token)
//!          ─► handler ─► AppState: store (Arc<dyn Store>), engine per store generation (built
//!                        off the async runtime), upload workers (bounded, out of process)
//!          ─► template or JSON
//! ```

mod api;
mod error;
mod grid;
mod indicator;
mod map;
mod pages;
mod session;
mod state;
mod submit;
mod throttle;
mod views;

pub use error::AppError;
pub use state::{AppState, Config, Loaded, estimated, load_engine, read_periods};

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};

/// Largest request body: a 20 MiB workbook plus the multipart envelope.
pub const MAX_BODY: usize = 20 * 1024 * 1024 + 64 * 1024;

/// The stylesheet of every page.
const STYLESHEET: &str = include_str!("../templates/pbgdpl.css");

/// The whole app.
pub fn app(state: AppState) -> Router {
    let timeout = state.config().request_timeout;
    Router::new()
        .route("/", get(pages::overview))
        .route("/chi-tieu/{code}", get(indicator::page))
        .route("/chi-tieu/{code}/nguon", get(indicator::sources))
        .route("/chi-tieu/{code}/ban-do", get(indicator::full_map))
        .route("/nop-bao-cao", get(pages::submissions))
        .route("/ky/{period}/{action}", post(pages::lock_period))
        .route("/don-vi/{code}", get(pages::unit))
        .route("/bao-cao", get(pages::report))
        .route("/dang-nhap", get(session::login_page).post(session::login))
        .route("/dang-nhap/lien-ket/{token}", get(session::login_link))
        .route("/dang-xuat", post(session::logout))
        .route("/nop", get(submit::form).post(submit::upload))
        .route("/nop/mau", get(submit::template))
        .route("/quan-tri/nhat-ky", get(pages::audit))
        .route("/static/pbgdpl.css", get(stylesheet))
        .route("/healthz", get(|| async { "ok" }))
        .nest("/api/v1", api::routes())
        // Bodies are read up to the limit and refused with 413 there, before any parsing. (Refusing on
        // the announced length alone would close the connection under a client still sending, which
        // then never sees the answer.)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), audit_refusals))
        .layer(axum::middleware::map_response(secure_headers))
        // gzip when the client accepts it (browsers do); small answers are left as they are.
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state)
}

/// Who a request turned out to be, filled in by the extractors that authenticate it, for the audit of
/// refusals.
#[derive(Clone, Default)]
pub(crate) struct WhoSlot(std::sync::Arc<std::sync::Mutex<Option<String>>>);

impl WhoSlot {
    /// Notes the user of the request these parts belong to.
    pub(crate) fn note(parts: &axum::http::request::Parts, name: &str) {
        if let Some(slot) = parts.extensions.get::<WhoSlot>()
            && let Ok(mut who) = slot.0.lock()
        {
            *who = Some(name.to_owned());
        }
    }
}

/// Every refused authentication (401), authorisation (403) and throttled login (429) goes to the
/// audit log with who (when known), from where, the method and the path.
async fn audit_refusals(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let slot = WhoSlot::default();
    req.extensions_mut().insert(slot.clone());
    let (method, path) = (req.method().to_string(), req.uri().path().to_owned());
    let from = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let res = next.run(req).await;
    let action = match res.status().as_u16() {
        401 => "auth.failed",
        403 => "access.denied",
        429 => "login.throttled",
        _ => return res,
    };
    let user = slot.0.lock().ok().and_then(|mut w| w.take());
    let by = pbgdpl_store::Actor {
        user,
        from,
        at: state.now(),
    };
    let event = pbgdpl_store::AuditEvent {
        action: action.into(),
        subject: Some(path),
        detail: Some(method),
    };
    // Best effort: a store that cannot write the line must not turn the refusal into a 500.
    let _ = state.blocking(move |st| Ok(st.store.audit(&by, &event)?)).await;
    res
}

async fn stylesheet() -> Response {
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// Headers every response carries: no sniffing, no framing by other sites, no referrer leaks, a
/// content policy that allows only this origin (no scripts, no plugins, no base-URL tricks), and —
/// unless the response says it may be cached (the stylesheet) — no caching of what may be one
/// person's figures.
async fn secure_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; \
             form-action 'self'; base-uri 'none'; object-src 'none'",
        ),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Serves the app on a bound listener until `shutdown` completes; requests in flight finish first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
