//! The JSON API under `/api/v1` (`interfaces.md`): bearer tokens, roles, returns as JSON or workbooks,
//! who reported what, and the indicators. The token is checked before any body is read.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, Multipart, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pbgdpl_catalog::model::{ImportSummary, JsonReturn};
use pbgdpl_catalog::{Period, User, is_late, local_day};
use pbgdpl_ingest::pipeline::Options;
use serde::Deserialize;

use crate::pages::PeriodUnit;
use crate::session::client;
use crate::{AppError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/indicators", get(indicators))
        .route("/returns", post(submit_json).get(list_returns))
        .route("/returns/upload", post(upload))
        .route("/surveys/upload", post(upload_survey))
        .route("/openapi.json", get(openapi))
}

/// The OpenAPI document, generated from the handlers and types below.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "pbgdpl API", description = "Báo cáo PBGDPL: gửi báo cáo, xem chỉ tiêu"),
    paths(submit_json, upload, upload_survey, list_returns, indicators),
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

/// The user behind the request's bearer token, with the client address. As an extractor of the
/// request's head it runs before any body is read: an unauthenticated upload costs nothing.
pub(crate) struct ApiUser {
    pub user: User,
    pub from: Option<String>,
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_owned())
            .ok_or(AppError::Unauthorized)?;
        let now = state.now();
        let user = state
            .blocking(move |st| Ok(st.store.user_by_token(&token, now)?))
            .await?
            .ok_or(AppError::Unauthorized)?;
        crate::WhoSlot::note(parts, &user.name);
        Ok(ApiUser {
            user,
            from: client(parts),
        })
    }
}

#[derive(Deserialize)]
pub(crate) struct DryRun {
    #[serde(default)]
    dry_run: bool,
}

fn options(state: &AppState, who: &ApiUser, dry_run: bool, source: &str) -> Options {
    Options {
        dry_run,
        submitted_by: Some(who.user.name.clone()),
        source: source.into(),
        client: who.from.clone(),
        // A reporter's returns must be its own unit's, whatever the file says.
        unit: who.user.bound_unit().map(str::to_owned),
        ..Options::received(state.now())
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
        (status = 413, description = "body over 20 MiB"),
        (status = 503, description = "the store is busy: retry after the Retry-After seconds")))]
async fn submit_json(
    State(state): State<AppState>,
    who: ApiUser,
    Query(q): Query<DryRun>,
    body: Result<Json<JsonReturn>, JsonRejection>,
) -> Result<Response, AppError> {
    let Json(ret) = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge,
        _ => AppError::BadRequest(format!("Nội dung JSON không hợp lệ: {}", e.body_text())),
    })?;
    who.user.check_submit(&ret.unit, &state.catalog.units)?;
    let opts = options(&state, &who, q.dry_run, "api");
    let summary = state.ingest_drafts(vec![ret.into_draft()], opts).await?;
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
        (status = 413, description = "file over 20 MiB"),
        (status = 503, description = "the store or every upload worker is busy: retry after the Retry-After seconds")))]
async fn upload(
    State(state): State<AppState>,
    who: ApiUser,
    Query(q): Query<DryRun>,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, AppError> {
    who.user.check_send()?;
    let Upload { file, mut fields } = Upload::read(form, "upload.xlsx").await?;
    let unit = fields.remove("unit");
    let period = fields.remove("period");
    let dry_run = q.dry_run || fields.get("dry_run").is_some_and(|v| is_true(v));
    let (name, bytes) = file.ok_or_else(|| AppError::BadRequest("Thiếu tệp báo cáo (trường \"file\")".into()))?;
    if let Some(u) = &unit {
        who.user.check_submit(u, &state.catalog.units)?;
    }
    let mut opts = options(&state, &who, dry_run, "web");
    if unit.is_some() {
        opts.unit = unit;
    }
    opts.period = period;
    let summary = state.ingest_upload(name, bytes, opts).await?;
    Ok(summary_response(summary))
}

/// A multipart upload: the `file` field (its name, else `default_name`, and bytes) and the other
/// fields' text, trimmed, empty ones left out.
struct Upload {
    file: Option<(String, Vec<u8>)>,
    fields: std::collections::HashMap<String, String>,
}

impl Upload {
    async fn read(
        form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
        default_name: &str,
    ) -> Result<Upload, AppError> {
        use crate::submit::multipart_error as bad;
        let mut form =
            form.map_err(|e| AppError::BadRequest(format!("Dữ liệu gửi lên không hợp lệ: {}", e.body_text())))?;
        let mut out = Upload {
            file: None,
            fields: Default::default(),
        };
        while let Some(field) = form.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "file" {
                let file_name = field.file_name().unwrap_or(default_name).to_owned();
                out.file = Some((file_name, field.bytes().await.map_err(bad)?.to_vec()));
            } else {
                let text = field.text().await.map_err(bad)?.trim().to_owned();
                if !text.is_empty() {
                    out.fields.insert(name, text);
                }
            }
        }
        Ok(out)
    }
}

fn is_true(v: &str) -> bool {
    matches!(v, "true" | "1" | "on")
}

/// Send one citizen survey export (KoboToolbox, ODK, Google Forms; .xlsx or .csv) as multipart form
/// data: `file`, `period`, optional `survey` (default: the catalog's only one). Stored whole as a new
/// version, or refused with every bad row; the province's survey, so only users who may send for the
/// province.
#[utoipa::path(post, path = "/api/v1/surveys/upload", request_body(content_type = "multipart/form-data", description = "file, period, survey"),
    params(("dry_run" = Option<bool>, Query, description = "validate only, store nothing")),
    responses(
        (status = 200, description = "stored (or unchanged)"),
        (status = 400, description = "refused, with every error"),
        (status = 401, description = "no valid token"),
        (status = 403, description = "not allowed to send for the province"),
        (status = 413, description = "file over 20 MiB"),
        (status = 503, description = "busy: retry after the Retry-After seconds")))]
async fn upload_survey(
    State(state): State<AppState>,
    who: ApiUser,
    Query(q): Query<DryRun>,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, AppError> {
    who.user.check_send()?;
    who.user
        .check_submit(&state.catalog.province.code, &state.catalog.units)?;
    let Upload { file, mut fields } = Upload::read(form, "survey.csv").await?;
    let (survey, period) = (fields.remove("survey"), fields.remove("period"));
    let dry_run = q.dry_run || fields.get("dry_run").is_some_and(|v| is_true(v));
    let (name, bytes) = file.ok_or_else(|| AppError::BadRequest("Thiếu tệp khảo sát (trường \"file\")".into()))?;
    let period = period.ok_or_else(|| AppError::BadRequest("Thiếu kỳ báo cáo (trường \"period\")".into()))?;
    let survey = match (survey, state.catalog.surveys.as_slice()) {
        (Some(s), _) => s,
        (None, [one]) => one.code.clone(),
        (None, _) => return Err(AppError::BadRequest("Chọn khảo sát (trường \"survey\")".into())),
    };
    let opts = options(&state, &who, dry_run, "api");
    let report = state.ingest_survey(survey, period, name, bytes, opts).await?;
    let status = if report.rejected() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, Json(report)).into_response())
}

/// Who reported what, when, which version, late or not.
#[utoipa::path(get, path = "/api/v1/returns",
    params(("period" = Option<String>, Query, description = "2026S1, 2026P, 2026"), ("unit" = Option<String>, Query)),
    responses((status = 200, description = "stored versions"), (status = 401, description = "no valid token")))]
async fn list_returns(
    State(state): State<AppState>,
    who: ApiUser,
    Query(q): Query<PeriodUnit>,
) -> Result<Json<serde_json::Value>, AppError> {
    let records = {
        let period = q.period.clone();
        state
            .blocking(move |st| Ok(st.store.returns(period.as_deref())?))
            .await?
    };
    let cat = &state.catalog;
    let mut out = Vec::new();
    for r in records {
        // A reporter lists its own unit's returns only.
        if who.user.bound_unit().is_some_and(|own| own != r.unit) {
            continue;
        }
        if q.unit.as_deref().is_some_and(|u| u != r.unit) {
            continue;
        }
        let deadline = Period::parse(&r.period).and_then(|p| cat.deadline(&r.unit, &p));
        // Per version: a correction sent after the deadline is late even if the first version was not.
        let late = deadline.zip(local_day(&r.received_at)).map(|(d, on)| is_late(on, d));
        out.push(serde_json::json!({
            "unit": r.unit, "form": r.form, "period": r.period, "version": r.version,
            "received_at": r.received_at, "submitted_by": r.submitted_by, "source": r.source,
            "file": r.file_name, "deadline": deadline.map(|d| d.format("%Y-%m-%d").to_string()), "late": late,
        }));
    }
    Ok(Json(serde_json::Value::Array(out)))
}

/// `GET /api/v1/indicators`'s parameters beyond period and unit: for large answers (a 3,000-unit
/// province's is megabytes) a page, one indicator, or the fields needed.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Slice {
    period: Option<String>,
    unit: Option<String>,
    /// Only this indicator (`CDS-1`).
    indicator: Option<String>,
    /// Comma-separated fields of each value (`unit,indicator,value,status`).
    fields: Option<String>,
    /// At most this many values (after `offset`).
    limit: Option<usize>,
    offset: Option<usize>,
}

impl Slice {
    fn is_whole(&self) -> bool {
        self.indicator.is_none() && self.fields.is_none() && self.limit.is_none() && self.offset.is_none()
    }
}

/// The values a slice selects, as JSON, with the total before paging.
fn sliced(values: &[&pbgdpl_engine::IndicatorValue], q: &Slice) -> Result<(usize, Vec<serde_json::Value>), AppError> {
    let picked: Vec<&&pbgdpl_engine::IndicatorValue> = values
        .iter()
        .filter(|v| q.indicator.as_deref().is_none_or(|i| v.indicator == i))
        .collect();
    let total = picked.len();
    let fields: Option<Vec<&str>> = q
        .fields
        .as_deref()
        .map(|f| f.split(',').map(str::trim).filter(|f| !f.is_empty()).collect());
    let mut out = Vec::new();
    for v in picked
        .into_iter()
        .skip(q.offset.unwrap_or(0))
        .take(q.limit.unwrap_or(usize::MAX))
    {
        let mut json = serde_json::to_value(v).map_err(|e| AppError::Internal(e.to_string()))?;
        if let (Some(fields), serde_json::Value::Object(map)) = (&fields, &mut json) {
            if let Some(bad) = fields
                .iter()
                .find(|f| !map.contains_key(**f) && !OPTIONAL_FIELDS.contains(f))
            {
                return Err(AppError::BadRequest(format!(
                    "Trường \"{bad}\" không có trong kết quả chỉ tiêu"
                )));
            }
            map.retain(|k, _| fields.contains(&k.as_str()));
        }
        out.push(json);
    }
    Ok((total, out))
}

/// Fields present only for some values (a survey's), which may be asked for on any.
const OPTIONAL_FIELDS: [&str; 2] = ["source", "survey"];

/// Indicators for a unit (default: the province) and its children; a reporter gets its own unit and
/// the province level only, never a sibling's figures. With `indicator`, `fields`, `limit` and
/// `offset` a slice of them, the total in `x-total-count`.
#[utoipa::path(get, path = "/api/v1/indicators",
    params(("period" = Option<String>, Query, description = "2026S1, 2026P, 2026 or a phase 2025-2027"), ("unit" = Option<String>, Query),
        ("indicator" = Option<String>, Query, description = "only this indicator"),
        ("fields" = Option<String>, Query, description = "comma-separated fields of each value, e.g. unit,indicator,value,status"),
        ("limit" = Option<usize>, Query, description = "at most this many values"),
        ("offset" = Option<usize>, Query, description = "skip this many values first")),
    responses(
        (status = 200, description = "indicator values (x-total-count: the number before limit and offset)", body = Vec<pbgdpl_engine::IndicatorValue>),
        (status = 400, description = "unknown period, unit or field, or a period outside the catalog's programmes"),
        (status = 401, description = "no valid token"),
        (status = 403, description = "another unit's figures")))]
async fn indicators(State(state): State<AppState>, who: ApiUser, Query(q): Query<Slice>) -> Result<Response, AppError> {
    let (spec, unit) = state.resolve(q.period.clone(), q.unit.clone()).await?;
    who.user.check_view(&unit, &state.catalog.province.code)?;
    if who.user.sees_all_units() && q.is_whole() {
        let json = state.indicators_json(&spec, &unit).await?;
        return Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response());
    }
    // A reporter: the unit asked for (its own, or the province) without the children beside it,
    // unless the child is its own unit.
    let values = state.indicators(&spec, &unit).await?;
    let own = who.user.unit.as_deref();
    let mine: Vec<_> = values
        .iter()
        .filter(|v| who.user.sees_all_units() || v.unit == unit || Some(v.unit.as_str()) == own)
        .collect();
    let (total, out) = sliced(&mine, &q)?;
    Ok(([("x-total-count", total.to_string())], Json(out)).into_response())
}
