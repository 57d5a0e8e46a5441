//! The JSON API under `/api/v1` (`interfaces.md`): bearer tokens, roles, returns as JSON or workbooks,
//! who reported what, and the indicators.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pbgdpl_ingest::completeness;
use pbgdpl_ingest::pipeline::{self, ImportSummary, JsonReturn, Options};
use pbgdpl_ingest::store::User;
use serde::Deserialize;

use crate::{AppError, AppState, PeriodUnit};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/indicators", get(indicators))
        .route("/returns", post(submit_json).get(list_returns))
        .route("/returns/upload", post(upload))
        .route("/openapi.json", get(openapi))
}

/// The OpenAPI document, generated from the handlers and types below.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "pbgdpl API", description = "Báo cáo PBGDPL: gửi báo cáo, xem chỉ tiêu"),
    paths(submit_json, upload, list_returns, indicators),
    components(schemas(JsonReturn, ImportSummary, pbgdpl_engine::IndicatorValue)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub(crate) struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(<ApiDoc as utoipa::OpenApi>::openapi())
}

/// The user behind the request's bearer token.
pub(crate) fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<User, AppError> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(AppError::Unauthorized)?;
    state
        .store()?
        .user_by_token(token.trim())?
        .ok_or(AppError::Unauthorized)
}

/// May this user send returns for `unit`? Admins for any unit, reporters for their own.
fn may_submit(user: &User, unit: &str) -> Result<(), AppError> {
    match user.role.as_str() {
        "admin" => Ok(()),
        "reporter" if user.unit.as_deref() == Some(unit) => Ok(()),
        "reporter" => Err(AppError::Forbidden(format!(
            "Tài khoản chỉ được gửi báo cáo của đơn vị {}",
            user.unit.as_deref().unwrap_or("?")
        ))),
        _ => Err(AppError::Forbidden(
            "Tài khoản chỉ có quyền xem, không được gửi báo cáo".into(),
        )),
    }
}

#[derive(Deserialize)]
pub(crate) struct DryRun {
    #[serde(default)]
    dry_run: bool,
}

fn options(user: &User, dry_run: bool, source: &str) -> Options {
    Options {
        dry_run,
        submitted_by: Some(user.name.clone()),
        source: source.into(),
        // A reporter's returns must be its own unit's, whatever the file says.
        unit: user.unit.clone().filter(|_| user.role == "reporter"),
        ..Options::default()
    }
}

/// 200 when nothing was rejected, 400 with the same summary when anything was.
fn summary_response(summary: ImportSummary) -> Response {
    let status = if summary.any_rejected() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (status, Json(summary)).into_response()
}

/// Send one return as JSON (F03 values are text, dates `YYYY-MM-DD`).
#[utoipa::path(post, path = "/api/v1/returns", request_body = JsonReturn,
    params(("dry_run" = Option<bool>, Query, description = "validate only, store nothing")),
    responses(
        (status = 200, description = "no return rejected", body = ImportSummary),
        (status = 400, description = "rejected, with the import summary", body = ImportSummary),
        (status = 401, description = "no valid token"),
        (status = 403, description = "outside the token's unit or role"),
        (status = 413, description = "body over 20 MiB")))]
async fn submit_json(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<DryRun>,
    body: Result<Json<JsonReturn>, JsonRejection>,
) -> Result<Response, AppError> {
    let user = authenticate(&state, &headers)?;
    let Json(ret) = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge,
        _ => AppError::BadRequest(format!("Nội dung JSON không hợp lệ: {}", e.body_text())),
    })?;
    may_submit(&user, &ret.unit)?;
    let opts = options(&user, q.dry_run, "api");
    let st = state.clone();
    let summary = tokio::task::spawn_blocking(move || -> Result<ImportSummary, AppError> {
        let mut store = st.store()?;
        Ok(pipeline::ingest_drafts(
            &st.catalog,
            &mut store,
            vec![ret.into_draft()],
            &opts,
        )?)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))??;
    Ok(summary_response(summary))
}

/// Send one workbook (.xlsx, .xls, .ods) as multipart form data: `file`, optional `unit`, `period`.
#[utoipa::path(post, path = "/api/v1/returns/upload", request_body(content_type = "multipart/form-data", description = "file, unit, period"),
    params(("dry_run" = Option<bool>, Query, description = "validate only, store nothing")),
    responses(
        (status = 200, description = "no return rejected", body = ImportSummary),
        (status = 400, description = "rejected, with the import summary", body = ImportSummary),
        (status = 401, description = "no valid token"),
        (status = 403, description = "outside the token's unit or role"),
        (status = 413, description = "file over 20 MiB")))]
async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<DryRun>,
    mut form: Multipart,
) -> Result<Response, AppError> {
    let user = authenticate(&state, &headers)?;
    if user.role == "viewer" {
        return Err(AppError::Forbidden(
            "Tài khoản chỉ có quyền xem, không được gửi báo cáo".into(),
        ));
    }
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut unit = None;
    let mut period = None;
    let mut dry_run = q.dry_run;
    let too_large = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge
        } else {
            AppError::BadRequest(format!("Dữ liệu gửi lên không hợp lệ: {}", e.body_text()))
        }
    };
    while let Some(field) = form.next_field().await.map_err(too_large)? {
        match field.name().unwrap_or_default() {
            "file" => {
                let name = field.file_name().unwrap_or("upload.xlsx").to_owned();
                file = Some((name, field.bytes().await.map_err(too_large)?.to_vec()));
            }
            "unit" => unit = Some(field.text().await.map_err(too_large)?.trim().to_owned()).filter(|s| !s.is_empty()),
            "period" => {
                period = Some(field.text().await.map_err(too_large)?.trim().to_owned()).filter(|s| !s.is_empty())
            }
            "dry_run" => dry_run = matches!(field.text().await.map_err(too_large)?.trim(), "true" | "1" | "on"),
            _ => {}
        }
    }
    let (name, bytes) = file.ok_or_else(|| AppError::BadRequest("Thiếu tệp báo cáo (trường \"file\")".into()))?;
    if let Some(u) = &unit {
        may_submit(&user, u)?;
    }
    let mut opts = options(&user, dry_run, "web");
    if unit.is_some() {
        opts.unit = unit;
    }
    opts.period = period;
    let summary = state.ingest_upload(name, bytes, opts).await?;
    Ok(summary_response(summary))
}

/// Who reported what, when, which version, late or not.
#[utoipa::path(get, path = "/api/v1/returns",
    params(("period" = Option<String>, Query, description = "2026S1, 2026P, 2026"), ("unit" = Option<String>, Query)),
    responses((status = 200, description = "stored versions"), (status = 401, description = "no valid token")))]
async fn list_returns(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PeriodUnit>,
) -> Result<Json<serde_json::Value>, AppError> {
    let user = authenticate(&state, &headers)?;
    let store = state.store()?;
    let cat = &state.catalog;
    let records = store.returns(q.period.as_deref())?;
    let mut out = Vec::new();
    for r in records {
        if user.role == "reporter" && user.unit.as_deref() != Some(r.unit.as_str()) {
            continue;
        }
        if q.unit.as_deref().is_some_and(|u| u != r.unit) {
            continue;
        }
        let deadline = pbgdpl_ingest::catalog::Period::parse(&r.period).and_then(|p| cat.deadline(&r.unit, &p));
        // Per version: a correction sent after the deadline is late even if the first version was not.
        let late = deadline
            .zip(completeness::received_on(&r.received_at))
            .map(|(d, on)| completeness::is_late(on, d));
        out.push(serde_json::json!({
            "unit": r.unit, "form": r.form, "period": r.period, "version": r.version,
            "received_at": r.received_at, "submitted_by": r.submitted_by, "source": r.source,
            "file": r.file_name, "deadline": deadline.map(|d| d.format("%Y-%m-%d").to_string()), "late": late,
        }));
    }
    Ok(Json(serde_json::Value::Array(out)))
}

/// Indicators for a unit (default: the province) and its children.
#[utoipa::path(get, path = "/api/v1/indicators",
    params(("period" = Option<String>, Query, description = "2026S1, 2026P, 2026 or a phase 2025-2027"), ("unit" = Option<String>, Query)),
    responses(
        (status = 200, description = "indicator values", body = Vec<pbgdpl_engine::IndicatorValue>),
        (status = 400, description = "unknown period or unit"),
        (status = 401, description = "no valid token"),
        (status = 403, description = "another unit's figures")))]
async fn indicators(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PeriodUnit>,
) -> Result<Response, AppError> {
    let user = authenticate(&state, &headers)?;
    let (spec, unit) = state.resolve(q)?;
    // A reporter reads the province-level indicators and its own unit's, nobody else's.
    if user.role == "reporter" && unit != state.catalog.province.code && user.unit.as_deref() != Some(unit.as_str()) {
        return Err(AppError::Forbidden(format!(
            "Không có quyền xem số liệu của đơn vị {unit}"
        )));
    }
    if state.catalog.units.get(&unit).is_none() {
        return Err(AppError::BadRequest(format!(
            "Đơn vị \"{unit}\" không có trong danh sách"
        )));
    }
    let json = state.indicators_json(&spec, &unit).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/json")], json).into_response())
}
