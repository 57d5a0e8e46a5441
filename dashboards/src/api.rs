//! The JSON API: bearer-token authentication and the indicators endpoint.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use pbgdpl_engine::{IndicatorValue, PeriodSpec};
use serde::Deserialize;

use crate::{AppError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/indicators", get(indicators))
}

/// The user behind the request's bearer token.
pub(crate) fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<pbgdpl_ingest::store::User, AppError> {
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

#[derive(Deserialize)]
pub(crate) struct IndicatorQuery {
    period: Option<String>,
    unit: Option<String>,
}

async fn indicators(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<IndicatorQuery>,
) -> Result<Json<Vec<IndicatorValue>>, AppError> {
    let user = authenticate(&state, &headers)?;
    let period = match q.period {
        Some(p) => p,
        None => state.default_period()?,
    };
    let spec = PeriodSpec::parse(&period)
        .ok_or_else(|| AppError::BadRequest(format!("Kỳ báo cáo \"{period}\" không hợp lệ")))?;
    let unit = q
        .unit
        .unwrap_or_else(|| state.catalog.province.code.clone());
    // A reporter reads the province-level indicators and its own unit's, nobody else's.
    if user.role == "reporter"
        && unit != state.catalog.province.code
        && user.unit.as_deref() != Some(unit.as_str())
    {
        return Err(AppError::Forbidden(format!(
            "Không có quyền xem số liệu của đơn vị {unit}"
        )));
    }
    if state.catalog.units.get(&unit).is_none() {
        return Err(AppError::BadRequest(format!(
            "Đơn vị \"{unit}\" không có trong danh sách"
        )));
    }
    let engine = state.engine()?;
    Ok(Json(engine.indicators(&spec, &unit).await?))
}
