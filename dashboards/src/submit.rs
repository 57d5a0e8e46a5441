//! Nộp báo cáo: a reporter (or the Department) uploads a workbook, or downloads the template, and sees
//! at once whether each return was accepted, with the cells to fix.

use axum::extract::{Multipart, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use pbgdpl_catalog::model::ReturnStatus;
use pbgdpl_catalog::{Period, PeriodSpec};
use pbgdpl_ingest::pipeline;
use serde::Deserialize;

use crate::pages::Viewer;
use crate::session::SessionUser;
use crate::views::{self, Link, render};
use crate::{AppError, AppState};

/// Maps a multipart error: a body over the limit is 413, anything else malformed 400.
pub(crate) fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge
    } else {
        AppError::BadRequest(format!("Dữ liệu gửi lên không hợp lệ: {}", e.body_text()))
    }
}

/// The upload form, with template links for the reporter's unit.
pub(crate) async fn form(State(state): State<AppState>, v: Viewer) -> Result<Response, AppError> {
    v.who.user.check_send()?;
    let unit = v.who.user.unit.clone().unwrap_or_else(|| v.unit.clone());
    let mut templates = Vec::new();
    if let PeriodSpec::Single(p) = v.spec
        && let Some(u) = state
            .catalog
            .units
            .at(&unit, p.end(&state.catalog.periods))
            .or_else(|| state.catalog.units.get(&unit))
    {
        for f in state.catalog.forms_due(u, &p) {
            templates.push(Link {
                href: format!("/nop/mau?period={}&unit={}&form={}", p.code(), u.code, f.id),
                label: format!("Tải mẫu biểu {} ({}, {})", f.code, u.name, p.label()),
                active: false,
            });
        }
    }
    let body = render(&views::UploadForm {
        csrf: v.who.csrf.clone(),
        period: v.spec.to_string(),
        templates,
    })?;
    crate::pages::frame(&state, &v, "Nộp báo cáo", "Nộp báo cáo", &body).await
}

/// Receives the upload (parsed by a bounded worker) and shows the validation result.
pub(crate) async fn upload(
    State(state): State<AppState>,
    v: Viewer,
    mut form: Multipart,
) -> Result<Response, AppError> {
    v.who.user.check_send()?;
    let (mut csrf, mut file, mut period, mut dry_run) = (String::new(), None, None, false);
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        match field.name().unwrap_or_default() {
            "csrf" => csrf = field.text().await.map_err(multipart_error)?,
            "period" => {
                period = Some(field.text().await.map_err(multipart_error)?.trim().to_owned()).filter(|p| !p.is_empty())
            }
            "dry_run" => dry_run = field.text().await.map_err(multipart_error)? == "true",
            "file" => {
                let name = field.file_name().unwrap_or("upload.xlsx").to_owned();
                file = Some((name, field.bytes().await.map_err(multipart_error)?.to_vec()));
            }
            _ => {}
        }
    }
    v.who.check_csrf(&csrf)?;
    let (name, bytes) = file.ok_or_else(|| AppError::BadRequest("Chưa chọn tệp báo cáo".into()))?;
    let opts = pipeline::Options {
        dry_run,
        period,
        submitted_by: Some(v.who.user.name.clone()),
        source: "web".into(),
        client: v.who.from.clone(),
        unit: v.who.user.bound_unit().map(str::to_owned),
        ..pipeline::Options::received(state.now())
    };
    let summary = state.ingest_upload(name, bytes, opts).await?;
    let rows = summary
        .returns
        .iter()
        .map(|r| {
            let (class, status_id, status) = match r.status {
                ReturnStatus::Accepted if dry_run => ("accepted", "accepted", "Hợp lệ (chưa nộp)".to_owned()),
                ReturnStatus::Accepted => (
                    "accepted",
                    "accepted",
                    format!("Đã nhận — phiên bản {}", r.version.unwrap_or(1)),
                ),
                ReturnStatus::Unchanged => (
                    "accepted",
                    "unchanged",
                    "Không thay đổi so với lần gửi trước".to_owned(),
                ),
                ReturnStatus::Rejected => ("rejected", "rejected", "Bị từ chối".to_owned()),
            };
            views::ResultRow {
                sheet: r.sheet.clone().unwrap_or_default(),
                form: r.form.clone().unwrap_or_default(),
                period: r.period.clone().unwrap_or_default(),
                class,
                status_id,
                status,
                problems: r
                    .errors
                    .iter()
                    .chain(&r.warnings)
                    .map(|e| format!("[{}] {} {}", e.rule.id(), e.cell.as_deref().unwrap_or(""), e.message))
                    .collect(),
            }
        })
        .collect();
    let body = render(&views::UploadResult { rows })?;
    crate::pages::frame(&state, &v, "Nộp báo cáo", "Nộp báo cáo", &body).await
}

#[derive(Deserialize)]
pub(crate) struct TemplateQuery {
    period: String,
    unit: String,
    form: String,
}

/// A blank template for the user's own unit (any unit for the Department).
pub(crate) async fn template(
    State(state): State<AppState>,
    who: SessionUser,
    Query(q): Query<TemplateQuery>,
) -> Result<Response, AppError> {
    who.user.check_submit(&q.unit, &state.catalog.units)?;
    let cat = &state.catalog;
    let period =
        Period::parse(&q.period).ok_or_else(|| AppError::BadRequest(format!("Kỳ \"{}\" không hợp lệ", q.period)))?;
    // The unit that held the code in that period (a code can name another unit since 2025).
    let unit = cat
        .units
        .at(&q.unit, period.end(&cat.periods))
        .or_else(|| cat.units.get(&q.unit))
        .ok_or_else(|| AppError::BadRequest(format!("Đơn vị \"{}\" không có", q.unit)))?;
    let form = cat
        .form(&q.form)
        .ok_or_else(|| AppError::BadRequest(format!("Biểu \"{}\" không có", q.form)))?;
    let bytes = pbgdpl_reports::template::return_workbook(cat, unit, &period, &[(form, None)])?;
    let name = format!("{}_{}_{}.xlsx", form.id, unit.code, period.code());
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response())
}
