//! Nộp báo cáo: a reporter (or the Department) uploads a workbook, or downloads the template, and sees
//! at once whether each return was accepted, with the cells to fix.

use std::fmt::Write as _;

use axum::extract::{Multipart, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use pbgdpl_engine::PeriodSpec;
use pbgdpl_ingest::pipeline::{self, Status};
use serde::Deserialize;

use crate::pages::esc;
use crate::session::SessionUser;
use crate::{AppError, AppState, PeriodUnit};

fn may_send(who: &SessionUser) -> Result<(), AppError> {
    if who.user.role == "viewer" {
        return Err(AppError::Forbidden(
            "Tài khoản chỉ có quyền xem, không được gửi báo cáo".into(),
        ));
    }
    Ok(())
}

fn frame(who: &SessionUser, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Nộp báo cáo — PBGDPL</title><style>body{{font-family:'Times New Roman',serif;background:#f5f7fa;margin:0}}\
         header{{background:#8b0000;color:#fff;padding:.6rem 1.2rem}}header a{{color:#fff}}main{{padding:1rem 1.2rem}}\
         form,table{{background:#fff;padding:1rem;border-radius:8px}}label{{display:block;margin:.5rem 0}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccd;padding:.3rem .5rem}}.accepted{{color:#1a7f37;font-weight:bold}}.rejected{{color:#cf222e;font-weight:bold}}</style></head>\
         <body><header><a href=\"/\">← Tổng quan</a> · {user}</header><main><h1>Nộp báo cáo</h1>{body}</main></body></html>",
        user = esc(&who.user.name),
    ))
}

/// The upload form, with template links for the reporter's unit.
pub(crate) async fn form(
    State(state): State<AppState>,
    who: SessionUser,
    Query(q): Query<PeriodUnit>,
) -> Result<Html<String>, AppError> {
    may_send(&who)?;
    let period = match q.period {
        Some(p) => p,
        None => state.default_period()?,
    };
    let unit = who.user.unit.clone().or(q.unit).unwrap_or_default();
    let mut templates = String::new();
    if let (Some(u), Some(PeriodSpec::Single(p))) = (state.catalog.units.get(&unit), PeriodSpec::parse(&period)) {
        for f in state.catalog.forms_due(u, &p) {
            let _ = write!(
                templates,
                "<li><a href=\"/nop/mau?period={p}&amp;unit={u}&amp;form={f}\">Tải mẫu biểu {code} ({name}, {label})</a></li>",
                p = esc(&p.code()),
                u = esc(&u.code),
                f = esc(&f.id),
                code = esc(&f.code),
                name = esc(&u.name),
                label = esc(&p.label()),
            );
        }
    }
    let body = format!(
        "<form method=\"post\" action=\"/nop\" enctype=\"multipart/form-data\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label>Tệp báo cáo (.xlsx, .xls, .ods) <input type=\"file\" name=\"file\" required></label>\
         <label>Kỳ báo cáo <input name=\"period\" value=\"{period}\"></label>\
         <label><input type=\"checkbox\" name=\"dry_run\" value=\"true\"> Chỉ kiểm tra, chưa nộp</label>\
         <button>Gửi</button></form><ul>{templates}</ul>",
        csrf = esc(&who.csrf),
        period = esc(&period),
    );
    Ok(frame(&who, &body))
}

/// Receives the upload (parsed by a bounded worker) and shows the validation result.
pub(crate) async fn upload(
    State(state): State<AppState>,
    who: SessionUser,
    mut form: Multipart,
) -> Result<Html<String>, AppError> {
    may_send(&who)?;
    let (mut csrf, mut file, mut period, mut dry_run) = (String::new(), None, None, false);
    let bad = |e: axum::extract::multipart::MultipartError| {
        AppError::BadRequest(format!("Dữ liệu gửi lên không hợp lệ: {}", e.body_text()))
    };
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "csrf" => csrf = field.text().await.map_err(bad)?,
            "period" => period = Some(field.text().await.map_err(bad)?.trim().to_owned()).filter(|p| !p.is_empty()),
            "dry_run" => dry_run = field.text().await.map_err(bad)? == "true",
            "file" => {
                let name = field.file_name().unwrap_or("upload.xlsx").to_owned();
                file = Some((name, field.bytes().await.map_err(bad)?.to_vec()));
            }
            _ => {}
        }
    }
    who.check_csrf(&csrf)?;
    let (name, bytes) = file.ok_or_else(|| AppError::BadRequest("Chưa chọn tệp báo cáo".into()))?;
    let opts = pipeline::Options {
        dry_run,
        period,
        submitted_by: Some(who.user.name.clone()),
        source: "web".into(),
        unit: who.user.unit.clone().filter(|_| who.user.role == "reporter"),
        ..pipeline::Options::default()
    };
    let summary = state.ingest_upload(name, bytes, opts).await?;
    let mut rows = String::new();
    for r in &summary.returns {
        let (class, status) = match r.status {
            Status::Accepted if dry_run => ("accepted", "Hợp lệ (chưa nộp)".to_owned()),
            Status::Accepted => ("accepted", format!("Đã nhận — phiên bản {}", r.version.unwrap_or(1))),
            Status::Unchanged => ("accepted", "Không thay đổi so với lần gửi trước".to_owned()),
            Status::Rejected => ("rejected", "Bị từ chối".to_owned()),
        };
        let problems = r
            .errors
            .iter()
            .chain(&r.warnings)
            .map(|e| {
                format!(
                    "[{}] {} {}",
                    esc(e.rule.id()),
                    esc(e.cell.as_deref().unwrap_or("")),
                    esc(&e.message)
                )
            })
            .collect::<Vec<_>>()
            .join("<br>");
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\" data-status=\"{}\">{status}</td><td>{problems}</td></tr>",
            esc(r.sheet.as_deref().unwrap_or("")),
            esc(r.form.as_deref().unwrap_or("")),
            esc(r.period.as_deref().unwrap_or("")),
            serde_json::to_value(r.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        );
    }
    let body = format!(
        "<table><thead><tr><th>Trang</th><th>Biểu</th><th>Kỳ</th><th>Kết quả</th><th>Lỗi, cảnh báo</th></tr></thead><tbody>{rows}</tbody></table>\
         <p><a href=\"/nop\">Gửi tệp khác</a></p>"
    );
    Ok(frame(&who, &body))
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
    may_send(&who)?;
    if who.user.role == "reporter" && who.user.unit.as_deref() != Some(q.unit.as_str()) {
        return Err(AppError::Forbidden("Chỉ tải được mẫu biểu của đơn vị mình".into()));
    }
    let cat = &state.catalog;
    let unit = cat
        .units
        .get(&q.unit)
        .ok_or_else(|| AppError::BadRequest(format!("Đơn vị \"{}\" không có", q.unit)))?;
    let form = cat
        .form(&q.form)
        .ok_or_else(|| AppError::BadRequest(format!("Biểu \"{}\" không có", q.form)))?;
    let period = pbgdpl_ingest::catalog::Period::parse(&q.period)
        .ok_or_else(|| AppError::BadRequest(format!("Kỳ \"{}\" không hợp lệ", q.period)))?;
    let bytes = pbgdpl_reports::template::return_workbook(cat, unit, &period, &[(form, None)])
        .map_err(|e| AppError::Internal(e.to_string()))?;
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
