//! Server-rendered pages in Vietnamese: Tổng quan, Chỉ tiêu, Tình hình nộp báo cáo, Báo cáo của đơn
//! vị. Numbers are written the Vietnamese way (1.234,5); every page takes `?period=&unit=` so that its
//! URL can be bookmarked and shared; charts are inline SVG.

use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::response::Html;
use pbgdpl_engine::{IndicatorValue, PeriodSpec, Status};
use pbgdpl_ingest::catalog::Period;
use pbgdpl_ingest::text::{decimal_vi, group_vi};

use crate::session::SessionUser;
use crate::{AppError, AppState, PeriodUnit};

/// HTML-escapes text.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn is_rate(v: &IndicatorValue) -> bool {
    v.measure == "%" || v.measure == "‰"
}

fn value_text(v: &IndicatorValue) -> String {
    match v.value {
        Some(x) if is_rate(v) => format!("{} {}", decimal_vi(x, 2), esc(&v.measure)),
        Some(x) => decimal_vi(x, 0),
        None => "Chưa có số liệu".into(),
    }
}

/// The page frame: navigation, period and unit selectors, and the body.
fn page(
    state: &AppState,
    who: &SessionUser,
    title: &str,
    spec: &PeriodSpec,
    unit: &str,
    active: &str,
    body: &str,
) -> Result<Html<String>, AppError> {
    let periods = state.periods_with_data()?;
    let mut period_opts = String::new();
    let current = spec.to_string();
    let mut listed: Vec<String> = periods.iter().map(|p| p.code()).collect();
    if !listed.contains(&current) {
        listed.push(current.clone());
    }
    for code in &listed {
        let label = Period::parse(code).map(|p| p.label()).unwrap_or_else(|| code.clone());
        let sel = if *code == current { " selected" } else { "" };
        let _ = write!(
            period_opts,
            "<option value=\"{}\"{sel}>{}</option>",
            esc(code),
            esc(&label)
        );
    }
    let cat = &state.catalog;
    let mut unit_opts = String::new();
    for u in cat
        .units
        .subtree(&cat.province.code)
        .into_iter()
        .filter(|u| who.may_view(&u.code, &cat.province.code))
    {
        let sel = if u.code == unit { " selected" } else { "" };
        let _ = write!(
            unit_opts,
            "<option value=\"{}\"{sel}>{} ({})</option>",
            esc(&u.code),
            esc(&u.name),
            esc(&u.code)
        );
    }
    let q = format!("?period={}&amp;unit={}", esc(&current), esc(unit));
    let own = who.user.unit.clone().unwrap_or_else(|| unit.to_owned());
    let mut links = vec![
        (String::new(), "Tổng quan"),
        ("chi-tieu/CDS-1".to_owned(), "Chỉ tiêu"),
        ("nop-bao-cao".to_owned(), "Tình hình nộp báo cáo"),
        (
            format!("don-vi/{}", if who.sees_all_units() { unit } else { own.as_str() }),
            "Báo cáo của đơn vị",
        ),
    ];
    if who.user.role != "viewer" {
        links.push(("nop".to_owned(), "Nộp báo cáo"));
    }
    let nav = links
        .iter()
        .map(|(href, label)| {
            let class = if *label == active { " class=\"active\"" } else { "" };
            format!("<a href=\"/{href}{q}\"{class}>{label}</a>")
        })
        .collect::<Vec<_>>()
        .join("");
    Ok(Html(format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} — PBGDPL {province}</title><style>{CSS}</style></head><body>\
         <header><div class=\"brand\">PBGDPL · {province}</div><nav>{nav}</nav>\
         <form method=\"get\" class=\"pick\"><label>Kỳ báo cáo <select name=\"period\">{period_opts}</select></label>\
         <label>Đơn vị <select name=\"unit\">{unit_opts}</select></label><button>Xem</button></form>\
         <form method=\"post\" action=\"/dang-xuat\" class=\"who\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{user} <button>Đăng xuất</button></form></header>\
         <main><h1>{title}</h1>{body}</main></body></html>",
        title = esc(title),
        province = esc(&cat.province.name),
        csrf = esc(&who.csrf),
        user = esc(&who.user.name),
    )))
}

/// A reporter sees the province level and its own unit only.
fn check_view(who: &SessionUser, state: &AppState, unit: &str) -> Result<(), AppError> {
    if who.may_view(unit, &state.catalog.province.code) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "Tài khoản không được xem số liệu của đơn vị {unit}"
        )))
    }
}

/// Tổng quan: one tile per indicator with value, target, Đạt/Chưa đạt, gap, pace and coverage.
pub(crate) async fn overview(
    State(state): State<AppState>,
    who: SessionUser,
    Query(q): Query<PeriodUnit>,
) -> Result<Html<String>, AppError> {
    let (spec, unit) = state.resolve(q)?;
    check_view(&who, &state, &unit)?;
    let key = format!("overview?{spec}&{unit}&{}", who.sees_all_units());
    let body = cached_body(&state, key, overview_body(&state, &who, &spec, &unit)).await?;
    page(
        &state,
        &who,
        "Tổng quan công tác PBGDPL",
        &spec,
        &unit,
        "Tổng quan",
        &body,
    )
}

/// A page body that depends on the store only, rendered once per store generation (charts and
/// summaries are the costly parts); the page around it, with the user's name and CSRF token, is
/// rendered per request. `build` is not polled when the body is cached.
async fn cached_body(
    state: &AppState,
    key: String,
    build: impl std::future::Future<Output = Result<String, AppError>>,
) -> Result<std::sync::Arc<str>, AppError> {
    let generation = state.generation()?;
    if let Some(body) = state.cached_page(generation, &key) {
        return Ok(body);
    }
    let body: std::sync::Arc<str> = build.await?.into();
    state.keep_page(generation, key, body.clone());
    Ok(body)
}

async fn overview_body(state: &AppState, who: &SessionUser, spec: &PeriodSpec, unit: &str) -> Result<String, AppError> {
    let unit_name = state
        .catalog
        .units
        .get(unit)
        .map(|u| u.name.clone())
        .unwrap_or_default();
    let values = state.indicators(spec, unit).await?;
    // A small trend per tile: the indicator over every period with data (results are cached).
    let mut trends: std::collections::HashMap<String, Vec<(String, Option<f64>)>> = Default::default();
    for p in state.periods_with_data()? {
        for v in state
            .indicators(&PeriodSpec::Single(p), unit)
            .await?
            .iter()
            .filter(|v| v.unit == unit)
        {
            trends.entry(v.indicator.clone()).or_default().push((p.code(), v.value));
        }
    }
    let mut tiles = String::new();
    for v in values.iter().filter(|v| v.unit == unit) {
        let spark = match trends.get(&v.indicator) {
            Some(points) if points.iter().filter(|p| p.1.is_some()).count() > 1 => {
                pbgdpl_reports::charts::trend_svg("", points, v.target, (230, 90)).unwrap_or_default()
            }
            _ => String::new(),
        };
        let (badge, class) = match v.status {
            Some(Status::Dat) => ("Đạt", "ok"),
            Some(Status::ChuaDat) => ("Chưa đạt", "bad"),
            None => ("", "none"),
        };
        let target = v
            .target
            .map(|t| {
                format!(
                    "<p>Mục tiêu ≥ {}% — {}</p>",
                    decimal_vi(t, 0),
                    esc(v.phase.as_deref().unwrap_or(""))
                )
            })
            .unwrap_or_default();
        let gap = v
            .gap
            .map(|g| format!("<p>Chênh lệch {} điểm %</p>", decimal_vi(g, 2)))
            .unwrap_or_default();
        let pace = v
            .pace
            .map(|p| format!("<p>Cần tăng {} điểm %/năm</p>", decimal_vi(p, 2)))
            .unwrap_or_default();
        let coverage = v
            .coverage
            .map(|c| {
                format!(
                    "<p>Đơn vị báo cáo: {}/{} ({}%)</p>",
                    v.reporting,
                    v.due,
                    decimal_vi(c * 100.0, 0)
                )
            })
            .unwrap_or_default();
        let _ = write!(
            tiles,
            "<a class=\"tile {class}\" data-indicator=\"{code}\" href=\"/chi-tieu/{code}?period={period}&amp;unit={unit}\">\
             <h3>{code}</h3><p class=\"name\">{name}</p><p class=\"value\" data-value=\"{raw}\">{value}</p>\
             <p class=\"badge\">{badge}</p>{target}{gap}{pace}{coverage}<div class=\"spark\">{spark}</div></a>",
            code = esc(&v.indicator),
            name = esc(&v.name),
            raw = v.value.map(|x| x.to_string()).unwrap_or_default(),
            value = value_text(v),
            period = esc(&spec.to_string()),
            unit = esc(unit),
        );
    }
    let reporting = match &spec {
        PeriodSpec::Single(p) => {
            let returns = state.store()?.returns(Some(&p.code()))?;
            let due = pbgdpl_ingest::completeness::expected_returns(&state.catalog, unit, p, &returns);
            let list = |pick: &dyn Fn(&pbgdpl_ingest::completeness::Expected<'_>) -> bool| {
                let mut names: Vec<String> = due
                    .iter()
                    .filter(|e| pick(e))
                    .map(|e| format!("{} ({})", e.unit.name, e.form.id))
                    .collect();
                let n = names.len();
                names.truncate(12);
                (n, names.iter().map(|x| esc(x)).collect::<Vec<_>>().join("; "))
            };
            let (missing, missing_names) = list(&|e| e.received.is_none());
            let (late, late_names) = list(&|e| e.late());
            format!(
                "<section class=\"reporting\"><h2>Tình hình nộp báo cáo</h2><p>{received}/{total} báo cáo đã nhận; \
                 <b data-count=\"missing\">{missing}</b> chưa gửi, <b data-count=\"late\">{late}</b> gửi muộn \
                 (<a href=\"/nop-bao-cao?period={p}&amp;unit={u}\">chi tiết</a>).</p>\
                 <p>Chưa gửi: {missing_names}{more_m}</p><p>Gửi muộn: {late_names}{more_l}</p></section>",
                received = due.iter().filter(|e| e.received.is_some()).count(),
                total = due.len(),
                p = esc(&p.code()),
                u = esc(unit),
                more_m = if missing > 12 { " …" } else { "" },
                more_l = if late > 12 { " …" } else { "" },
            )
        }
        PeriodSpec::Years { .. } => String::new(),
    };
    let downloads = match (&spec, who.sees_all_units()) {
        (PeriodSpec::Single(p), true) => format!(
            "<p class=\"downloads\">Tải báo cáo kỳ {label}: <a href=\"/bao-cao?period={p}&amp;unit={u}\">Excel (biểu tổng hợp)</a> · \
             <a href=\"/bao-cao?period={p}&amp;unit={u}&amp;format=docx\">Word (báo cáo)</a></p>",
            label = esc(&p.label()),
            p = esc(&p.code()),
            u = esc(unit),
        ),
        _ => String::new(),
    };
    Ok(format!(
        "<p class=\"sub\">{} — kỳ {}</p><section class=\"tiles\">{tiles}</section>{reporting}{downloads}",
        esc(&unit_name),
        esc(&spec.to_string())
    ))
}

/// Chỉ tiêu: the indicator's trend with its target, and its units ranked, each linked to its returns.
pub(crate) async fn indicator(
    State(state): State<AppState>,
    who: SessionUser,
    Path(code): Path<String>,
    Query(q): Query<PeriodUnit>,
) -> Result<Html<String>, AppError> {
    let (spec, unit) = state.resolve(q)?;
    check_view(&who, &state, &unit)?;
    let ind = state
        .catalog
        .indicator(&code)
        .ok_or_else(|| AppError::BadRequest(format!("Chỉ tiêu \"{code}\" không có trong danh mục")))?
        .clone();
    let key = format!("indicator/{code}?{spec}&{unit}&{}", who.sees_all_units());
    let body = cached_body(&state, key, indicator_body(&state, &who, &ind, &spec, &unit)).await?;
    page(
        &state,
        &who,
        &format!("Chỉ tiêu {}", ind.code),
        &spec,
        &unit,
        "Chỉ tiêu",
        &body,
    )
}

async fn indicator_body(
    state: &AppState,
    who: &SessionUser,
    ind: &pbgdpl_ingest::catalog::Indicator,
    spec: &PeriodSpec,
    unit: &str,
) -> Result<String, AppError> {
    let code = ind.code.as_str();
    let mut trend = Vec::new();
    let mut target = None;
    for p in state.periods_with_data()? {
        let vs = state.indicators(&PeriodSpec::Single(p), unit).await?;
        let v = vs.iter().find(|v| v.indicator == code && v.unit == unit);
        target = target.or(v.and_then(|v| v.target));
        trend.push((p.code(), v.and_then(|v| v.value)));
    }
    let values = state.indicators(spec, unit).await?;
    let this = values.iter().find(|v| v.indicator == code && v.unit == unit).cloned();
    let trend_svg = pbgdpl_reports::charts::trend_svg(&format!("{} qua các kỳ", ind.code), &trend, target, (640, 280))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    // Other units' figures are for the Department and leaders, not for another unit's reporter.
    let mut children: Vec<&IndicatorValue> = values
        .iter()
        .filter(|v| v.indicator == code && v.unit != unit && who.sees_all_units())
        .collect();
    children.sort_by(|a, b| b.value.unwrap_or(f64::MIN).total_cmp(&a.value.unwrap_or(f64::MIN)));
    let ranked: Vec<(String, f64)> = children
        .iter()
        .filter_map(|v| v.value.map(|x| (v.unit_name.clone(), x)))
        .take(30)
        .collect();
    let rank_svg = pbgdpl_reports::charts::ranking_svg(
        &format!("{} theo đơn vị (30 đơn vị đầu)", ind.code),
        &ranked,
        this.as_ref().and_then(|t| t.target),
        640,
    )
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let mut rows = String::new();
    for (i, v) in children.iter().enumerate() {
        let _ = write!(
            rows,
            "<tr data-unit=\"{u}\"><td>{n}</td><td><a href=\"/don-vi/{u}?period={p}\">{name}</a></td><td class=\"num\">{val}</td>\
             <td class=\"num\">{num}</td><td class=\"num\">{den}</td><td>{st}</td></tr>",
            n = i + 1,
            u = esc(&v.unit),
            p = esc(&spec.to_string()),
            name = esc(&v.unit_name),
            val = if v.value.is_some() { value_text(v) } else { "—".into() },
            num = v.numerator.map(group_vi).unwrap_or_else(|| "—".into()),
            den = v.denominator.map(group_vi).unwrap_or_else(|| "—".into()),
            st = v.status.map(|s| s.label()).unwrap_or(""),
        );
    }
    // Urban against rural: the indicators whose numerators are the area columns of the same row, shown
    // side by side on either's page (CDS-1 and CDS-2).
    let area_pair: Vec<&IndicatorValue> = {
        let cat = &state.catalog;
        let same_row =
            |a: &pbgdpl_ingest::catalog::Indicator| a.numerator.first().map(|t| (t.form.clone(), t.row.clone()));
        let mine = same_row(ind);
        let is_area = |i: &pbgdpl_ingest::catalog::Indicator| {
            i.numerator.first().is_some_and(|t| {
                cat.form(&t.form)
                    .and_then(|f| f.column(t.column))
                    .is_some_and(|c| c.area.is_some())
            })
        };
        if is_area(ind) {
            values
                .iter()
                .filter(|v| v.unit == unit)
                .filter(|v| {
                    cat.indicator(&v.indicator)
                        .is_some_and(|i| is_area(i) && same_row(i) == mine)
                })
                .collect()
        } else {
            Vec::new()
        }
    };
    let areas = if area_pair.len() > 1 {
        let cells = area_pair
            .iter()
            .map(|v| format!("<td><a href=\"/chi-tieu/{c}?period={p}&amp;unit={u}\">{c}</a></td><td class=\"num\">{val}</td><td>{st}</td>", c = esc(&v.indicator), p = esc(&spec.to_string()), u = esc(unit), val = value_text(v), st = v.status.map(|s| s.label()).unwrap_or("")))
            .collect::<Vec<_>>()
            .join("</tr><tr>");
        format!("<table class=\"areas\"><caption>Thành thị và nông thôn</caption><tr>{cells}</tr></table>")
    } else {
        String::new()
    };
    let headline = this
        .as_ref()
        .map(|v| {
            format!(
                "<p class=\"headline\" data-indicator=\"{}\" data-value=\"{}\">{} {}</p>",
                esc(&v.indicator),
                v.value.map(|x| x.to_string()).unwrap_or_default(),
                value_text(v),
                v.status.map(|s| format!("— {}", s.label())).unwrap_or_default()
            )
        })
        .unwrap_or_default();
    let options = state
        .catalog
        .indicators
        .iter()
        .map(|i| {
            format!(
                "<a href=\"/chi-tieu/{c}?period={p}&amp;unit={u}\">{c}</a>",
                c = esc(&i.code),
                p = esc(&spec.to_string()),
                u = esc(unit)
            )
        })
        .collect::<Vec<_>>()
        .join(" · ");
    Ok(format!(
        "<p class=\"sub\">{name}</p><p class=\"pickind\">{options}</p>{headline}{areas}<figure>{trend_svg}</figure><figure>{rank_svg}</figure>\
         <table><thead><tr><th>#</th><th>Đơn vị</th><th>Giá trị</th><th>Tử số</th><th>Mẫu số</th><th>Đánh giá</th></tr></thead><tbody>{rows}</tbody></table>",
        name = esc(&ind.name),
    ))
}

/// Tình hình nộp báo cáo: expected, received, late and missing returns, by unit, with the deadline.
pub(crate) async fn submissions(
    State(state): State<AppState>,
    who: SessionUser,
    Query(q): Query<PeriodUnit>,
) -> Result<Html<String>, AppError> {
    let (spec, unit) = state.resolve(q)?;
    // A reporter sees its own unit's returns only.
    let unit = if who.sees_all_units() {
        unit
    } else {
        who.user.unit.clone().unwrap_or(unit)
    };
    let PeriodSpec::Single(period) = spec else {
        return Err(AppError::BadRequest(
            "Tình hình nộp báo cáo xem theo từng kỳ (ví dụ 2026S1)".into(),
        ));
    };
    let (returns, lock) = {
        let store = state.store()?;
        let lock = store.period_locks()?.into_iter().find(|l| l.period == period.code());
        (store.returns(Some(&period.code()))?, lock)
    };
    // Once the report is sent the Department locks the period (`pbgdpl period lock`); say so, since
    // uploads for it are refused.
    let locked = lock
        .map(|l| {
            format!(
                "<p class=\"locked\" data-locked=\"{p}\">Kỳ {p} đã khóa ngày {on}{by}: báo cáo gửi cho kỳ này sẽ bị từ chối; \
                 cần Sở Tư pháp mở khóa để sửa.</p>",
                p = esc(&period.code()),
                on = chrono_vi(&pbgdpl_ingest::arrow_tables::local_date(&l.locked_at)),
                by = l.locked_by.map(|b| format!(" ({})", esc(&b))).unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    // The Department's administrators close and reopen the period here (as `pbgdpl period lock`).
    let lock_form = if who.user.role == "admin" {
        let (action, label) = if locked.is_empty() {
            ("khoa", "Khóa kỳ báo cáo (đã gửi báo cáo)")
        } else {
            ("mo-khoa", "Mở khóa kỳ báo cáo")
        };
        format!(
            "<form method=\"post\" action=\"/ky/{p}/{action}\" class=\"lock\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input type=\"hidden\" name=\"unit\" value=\"{u}\"><button>{label}</button></form>",
            p = esc(&period.code()),
            csrf = esc(&who.csrf),
            u = esc(&unit),
        )
    } else {
        String::new()
    };
    let due = pbgdpl_ingest::completeness::expected_returns(&state.catalog, &unit, &period, &returns);
    let expected = due.len();
    let received = due.iter().filter(|e| e.received.is_some()).count();
    let late = due.iter().filter(|e| e.late()).count();
    let mut rows = String::new();
    for e in &due {
        let class = match (e.received, e.late()) {
            (None, _) => "missing",
            (Some(_), true) => "late",
            (Some(_), false) => "ok",
        };
        let _ = write!(
            rows,
            "<tr class=\"{class}\"><td>{code}</td><td><a href=\"/don-vi/{code}?period={p}\">{name}</a></td><td>{form}</td><td>{dl}</td><td>{rec}</td><td class=\"num\">{ver}</td><td>{status}</td></tr>",
            code = esc(&e.unit.code),
            p = esc(&period.code()),
            name = esc(&e.unit.name),
            form = esc(&e.form.id),
            dl = e.deadline.map(|d| d.format("%d/%m/%Y").to_string()).unwrap_or_default(),
            rec = e.received.map(|d| d.format("%d/%m/%Y").to_string()).unwrap_or_default(),
            ver = e.version.map(|v| v.to_string()).unwrap_or_default(),
            status = e.status_label(),
        );
    }
    let pct = |n: usize| {
        if expected == 0 {
            "—".to_string()
        } else {
            format!("{}%", decimal_vi(100.0 * n as f64 / expected as f64, 1))
        }
    };
    let body = format!(
        "{locked}{lock_form}<section class=\"counts\"><div><b data-count=\"expected\">{expected}</b> phải gửi</div><div><b data-count=\"received\">{received}</b> đã gửi ({})</div>\
         <div><b data-count=\"late\">{late}</b> gửi muộn</div><div><b data-count=\"missing\">{}</b> chưa gửi</div></section>\
         <table><thead><tr><th>Mã</th><th>Đơn vị</th><th>Biểu</th><th>Hạn gửi</th><th>Ngày nhận</th><th>Phiên bản</th><th>Tình trạng</th></tr></thead><tbody>{rows}</tbody></table>",
        pct(received),
        expected - received,
    );
    page(
        &state,
        &who,
        &format!("Tình hình nộp báo cáo — {}", period.label()),
        &spec,
        &unit,
        "Tình hình nộp báo cáo",
        &body,
    )
}

#[derive(serde::Deserialize)]
pub(crate) struct LockForm {
    csrf: String,
    #[serde(default)]
    unit: String,
}

/// Locks (`khoa`) or unlocks (`mo-khoa`) a period: administrators only, with the session's CSRF token.
pub(crate) async fn lock_period(
    State(state): State<AppState>,
    who: SessionUser,
    Path((period, action)): Path<(String, String)>,
    axum::Form(f): axum::Form<LockForm>,
) -> Result<axum::response::Redirect, AppError> {
    who.check_csrf(&f.csrf)?;
    if who.user.role != "admin" {
        return Err(AppError::Forbidden(
            "Chỉ quản trị viên của Sở Tư pháp được khóa, mở khóa kỳ báo cáo".into(),
        ));
    }
    let period = pbgdpl_ingest::catalog::Period::parse(&period)
        .ok_or_else(|| AppError::BadRequest(format!("Kỳ báo cáo `{period}` không hợp lệ")))?;
    let mut store = state.store()?;
    match action.as_str() {
        "khoa" => {
            store.lock_period(&period.code(), Some(&who.user.name))?;
        }
        "mo-khoa" => {
            store.unlock_period(&period.code())?;
        }
        _ => return Err(AppError::BadRequest(format!("Không có thao tác `{action}`"))),
    }
    let unit = if state.catalog.units.get(&f.unit).is_some() {
        format!("&unit={}", f.unit)
    } else {
        String::new()
    };
    Ok(axum::response::Redirect::to(&format!(
        "/nop-bao-cao?period={}{unit}",
        period.code()
    )))
}

fn chrono_vi(iso: &str) -> String {
    match iso.split('-').collect::<Vec<_>>().as_slice() {
        [y, m, d] => format!("{d}/{m}/{y}"),
        _ => iso.to_owned(),
    }
}

/// Báo cáo của đơn vị: every version of the unit's returns, who sent them and when, and refusals.
pub(crate) async fn unit(
    State(state): State<AppState>,
    who: SessionUser,
    Path(code): Path<String>,
    Query(q): Query<PeriodUnit>,
) -> Result<Html<String>, AppError> {
    check_view(&who, &state, &code)?;
    let (spec, _) = state.resolve(PeriodUnit {
        period: q.period,
        unit: Some(code.clone()),
    })?;
    let u = state
        .catalog
        .units
        .get(&code)
        .ok_or_else(|| AppError::BadRequest(format!("Đơn vị \"{code}\" không có trong danh sách")))?;
    let store = state.store()?;
    let mut rows = String::new();
    for r in store.returns(None)?.iter().filter(|r| r.unit == code).rev() {
        let _ = write!(
            rows,
            "<tr><td>{p}</td><td>{f}</td><td class=\"num\">{v}</td><td>{at}</td><td>{by}</td><td>{src}</td><td>{file}</td></tr>",
            p = esc(&r.period),
            f = esc(&r.form),
            v = r.version,
            at = chrono_vi(&pbgdpl_ingest::arrow_tables::local_date(&r.received_at)),
            by = esc(r.submitted_by.as_deref().unwrap_or("")),
            src = esc(&r.source),
            file = esc(r
                .file_name
                .as_deref()
                .map(|f| f.rsplit('/').next().unwrap_or(f))
                .unwrap_or("")),
        );
    }
    let mut refused = String::new();
    for rej in store.rejections(&code)? {
        let (at, file, issues) = (rej.received_at, rej.file_name, rej.issues);
        let _ = write!(
            refused,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            chrono_vi(&pbgdpl_ingest::arrow_tables::local_date(&at)),
            esc(file.as_deref().unwrap_or("")),
            issues
                .iter()
                .map(|i| format!(
                    "[{}] {} {}",
                    i.rule.id(),
                    esc(i.cell.as_deref().unwrap_or("")),
                    esc(&i.message)
                ))
                .collect::<Vec<_>>()
                .join("<br>")
        );
    }
    let body = format!(
        "<p class=\"sub\">{kind} — mã {code}</p><h2>Các phiên bản báo cáo đã nhận</h2>\
         <table><thead><tr><th>Kỳ</th><th>Biểu</th><th>Phiên bản</th><th>Ngày nhận</th><th>Người gửi</th><th>Nguồn</th><th>Tệp</th></tr></thead><tbody>{rows}</tbody></table>\
         <h2>Báo cáo bị từ chối</h2><table><thead><tr><th>Ngày</th><th>Tệp</th><th>Lỗi</th></tr></thead><tbody>{refused}</tbody></table>",
        kind = esc(u.kind.label()),
        code = esc(&code),
    );
    page(
        &state,
        &who,
        &format!("Báo cáo của {}", u.name),
        &spec,
        &code,
        "Báo cáo của đơn vị",
        &body,
    )
}

const CSS: &str = "body{font-family:'Times New Roman',serif;margin:0;background:#f5f7fa;color:#1b1f24}\
header{background:#8b0000;color:#fff;padding:.6rem 1.2rem;display:flex;flex-wrap:wrap;gap:.6rem 1.4rem;align-items:center}\
.brand{font-weight:bold;font-size:1.2rem}nav a{color:#fff;margin-right:1rem;text-decoration:none}nav a.active{border-bottom:2px solid #ffd700}\
.pick select{max-width:14rem}main{padding:1rem 1.2rem}h1{margin:.2rem 0}.sub{color:#555;margin-top:0}\
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:1rem}\
.tile{display:block;color:inherit;text-decoration:none;background:#fff;border-radius:8px;padding:.8rem 1rem;border-top:6px solid #999}\
.tile.ok{border-color:#1a7f37}.tile.bad{border-color:#cf222e}.tile h3{margin:0}.tile p{margin:.25rem 0}\
.tile .value{font-size:1.7rem;font-weight:bold}.tile .name{font-size:.9rem;color:#444}.badge{font-weight:bold}\
table{border-collapse:collapse;background:#fff;width:100%;margin:.8rem 0}th,td{border:1px solid #ccd;padding:.3rem .5rem;text-align:left}\
td.num{text-align:right}tr.missing{background:#fde2e1}tr.late{background:#fff4d6}figure{margin:.5rem 0;background:#fff;display:inline-block}\
.counts{display:flex;gap:1rem;flex-wrap:wrap}.counts div{background:#fff;padding:.6rem 1rem;border-radius:6px}.counts b{font-size:1.5rem}\
.headline{font-size:1.6rem;font-weight:bold}.spark svg{width:100%;height:auto}.reporting{background:#fff;padding:.4rem 1rem;border-radius:8px;margin-top:1rem}.who{margin-left:auto}.who button,.pick button{cursor:pointer}\
.upload{background:#fff;padding:1rem;border-radius:8px;max-width:40rem}.upload label{display:block;margin:.5rem 0}\
.accepted{color:#1a7f37;font-weight:bold}.rejected{color:#cf222e;font-weight:bold}\
.locked{background:#fff4d6;border-left:6px solid #b08800;padding:.5rem 1rem}.lock{margin:.5rem 0}\
@media print{header form,nav{display:none}header{background:#fff;color:#000}}";

#[derive(serde::Deserialize)]
pub(crate) struct ReportQuery {
    period: Option<String>,
    unit: Option<String>,
    /// `xlsx` (default) or `docx`.
    format: Option<String>,
}

/// The Ministry report of a period as a download: the workbook or the narrative document.
pub(crate) async fn report(
    State(state): State<AppState>,
    who: SessionUser,
    Query(q): Query<ReportQuery>,
) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    if !who.sees_all_units() {
        return Err(AppError::Forbidden(
            "Báo cáo tổng hợp dành cho Sở Tư pháp và lãnh đạo".into(),
        ));
    }
    let (spec, unit) = state.resolve(PeriodUnit {
        period: q.period,
        unit: q.unit,
    })?;
    let PeriodSpec::Single(period) = spec else {
        return Err(AppError::BadRequest(
            "Báo cáo lập theo từng kỳ (ví dụ 2026S1, 2026)".into(),
        ));
    };
    let (_, engine) = state.cached_engine()?;
    let facts = pbgdpl_reports::bundle::StoreFacts::read(&*state.store()?, &period)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let today = chrono::Local::now().date_naive();
    let (xlsx, docx) = pbgdpl_reports::bundle::report_files(&engine, &facts, &period, &unit, today)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let stem = pbgdpl_reports::bundle::file_stem(&unit, &period);
    let (bytes, ext, mime) = match q.format.as_deref() {
        Some("docx") => (
            docx,
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        _ => (
            xlsx,
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, mime.to_owned()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{stem}.{ext}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
