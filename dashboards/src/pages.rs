//! Server-rendered pages. Text is Vietnamese, numbers are written the Vietnamese way (1.234,5).

use axum::extract::{Query, State};
use axum::response::Html;
use pbgdpl_engine::Status;
use pbgdpl_ingest::text::decimal_vi;

use crate::{AppError, AppState, PeriodUnit};

/// HTML-escapes text.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Tổng quan: one tile per indicator with value, target, Đạt/Chưa đạt, gap and coverage.
pub(crate) async fn overview(
    State(state): State<AppState>,
    Query(q): Query<PeriodUnit>,
) -> Result<Html<String>, AppError> {
    let (spec, unit) = state.resolve(q)?;
    let period = spec.to_string();
    let unit_name = state
        .catalog
        .units
        .get(&unit)
        .map(|u| u.name.clone())
        .unwrap_or_default();
    let values = state.indicators(&spec, &unit).await?;
    let mut tiles = String::new();
    for v in values.iter().filter(|v| v.unit == unit) {
        let places = if v.measure == "%" || v.measure == "‰" { 2 } else { 0 };
        let value = v
            .value
            .map(|x| format!("{} {}", decimal_vi(x, places), esc(&v.measure)))
            .unwrap_or_else(|| "Chưa có số liệu".into());
        let (badge, class) = match v.status {
            Some(Status::Dat) => ("Đạt", "ok"),
            Some(Status::ChuaDat) => ("Chưa đạt", "bad"),
            None => ("", "none"),
        };
        let target = v
            .target
            .map(|t| {
                format!(
                    "Mục tiêu ≥ {}% ({})",
                    decimal_vi(t, 0),
                    esc(v.phase.as_deref().unwrap_or(""))
                )
            })
            .unwrap_or_default();
        let gap = v
            .gap
            .map(|g| format!("Chênh lệch {} điểm %", decimal_vi(g, 2)))
            .unwrap_or_default();
        let coverage = v
            .coverage
            .map(|c| {
                format!(
                    "Bao phủ {}/{} đơn vị ({}%)",
                    v.reporting,
                    v.due,
                    decimal_vi(c * 100.0, 0)
                )
            })
            .unwrap_or_default();
        tiles.push_str(&format!(
            "<article class=\"tile {class}\" data-indicator=\"{code}\"><h3>{code}</h3><p class=\"name\">{name}</p>\
             <p class=\"value\" data-value=\"{raw}\">{value}</p><p class=\"badge\">{badge}</p><p>{target}</p><p>{gap}</p><p>{coverage}</p></article>",
            code = esc(&v.indicator),
            name = esc(&v.name),
            raw = v.value.map(|x| x.to_string()).unwrap_or_default(),
        ));
    }
    Ok(Html(format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Tổng quan PBGDPL — {unit_name}</title><style>{CSS}</style></head><body>\
         <header><h1>Tổng quan công tác PBGDPL</h1><p>{unit_name} — kỳ báo cáo {period}</p>\
         <form method=\"get\"><label>Kỳ <input name=\"period\" value=\"{period}\"></label> <label>Đơn vị <input name=\"unit\" value=\"{unit}\"></label> <button>Xem</button></form></header>\
         <main class=\"tiles\">{tiles}</main></body></html>",
        unit_name = esc(&unit_name),
        period = esc(&period),
        unit = esc(&unit),
    )))
}

const CSS: &str = "body{font-family:'Times New Roman',serif;margin:0;background:#f5f7fa;color:#1b1f24}\
header{background:#8b0000;color:#fff;padding:1rem 1.5rem}header h1{margin:0 0 .3rem}\
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:1rem;padding:1rem}\
.tile{background:#fff;border-radius:8px;padding:1rem;border-top:6px solid #999}.tile.ok{border-color:#1a7f37}.tile.bad{border-color:#cf222e}\
.tile h3{margin:0}.tile .value{font-size:1.8rem;font-weight:bold;margin:.4rem 0}.tile .name{font-size:.9rem;color:#444}\
.badge{font-weight:bold}@media print{header form{display:none}}";
