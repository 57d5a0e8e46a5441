//! Server-rendered pages in Vietnamese: Tổng quan, Chỉ tiêu, Tình hình nộp báo cáo, Báo cáo của đơn
//! vị, and the report download. Every page takes `?period=&unit=` so that its URL can be bookmarked
//! and shared; charts are inline SVG. Bodies that depend on the store only are rendered once per
//! store generation; the frame around them per request.

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use pbgdpl_catalog::text::decimal_vi;
use pbgdpl_catalog::{Period, PeriodSpec, Role, local_date};
use pbgdpl_engine::{IndicatorValue, Status};
use serde::Deserialize;

use crate::grid::{ALL, Cell, Choice, Grid, GridQuery, Row};
use crate::session::SessionUser;
use crate::views::{self, Layout, Link, render};
use crate::{AppError, AppState};

/// `?period=&unit=` as every page and the API take them.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PeriodUnit {
    pub period: Option<String>,
    pub unit: Option<String>,
}

/// The shared context of a page: who asks, for which period and unit, already checked against the
/// catalog and against what this person may see.
pub(crate) struct Viewer {
    pub who: SessionUser,
    pub spec: PeriodSpec,
    pub unit: String,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let who = SessionUser::from_request_parts(parts, state).await?;
        let Query(q) = Query::<PeriodUnit>::from_request_parts(parts, state)
            .await
            .map_err(|e| AppError::BadRequest(e.body_text()).into_response())?;
        // A unit's own page names the unit in its path.
        let unit = match parts.uri.path().strip_prefix("/don-vi/") {
            Some(code) => Some(code.to_owned()),
            None => q.unit,
        };
        let (spec, unit) = state
            .resolve(q.period, unit)
            .await
            .map_err(IntoResponse::into_response)?;
        who.user
            .check_view(&unit, &state.catalog.province.code)
            .map_err(|d| AppError::from(d).into_response())?;
        Ok(Viewer { who, spec, unit })
    }
}

/// The value as the reports write it (with a survey estimate's interval), "Chưa có số liệu" when none.
pub(crate) fn value_text(v: &IndicatorValue) -> String {
    match v.value {
        Some(_) => pbgdpl_reports::text::value_text(v),
        None => "Chưa có số liệu".into(),
    }
}

pub(crate) fn date_vi(iso: &str) -> String {
    match iso.split('-').collect::<Vec<_>>().as_slice() {
        [y, m, d] => format!("{d}/{m}/{y}"),
        _ => iso.to_owned(),
    }
}

pub(crate) fn query(spec: &impl std::fmt::Display, unit: &str) -> String {
    format!("?period={spec}&unit={}", crate::grid::encode(unit))
}

/// The most units the frame's unit select lists.
const UNIT_SELECT_MAX: usize = 300;

/// The page frame: navigation, period and unit selectors, the user, and the body.
pub(crate) async fn frame(
    state: &AppState,
    v: &Viewer,
    title: &str,
    active: &str,
    body: &str,
) -> Result<Response, AppError> {
    let current = v.spec.to_string();
    let mut listed: Vec<String> = state.periods_with_data().await?.iter().map(Period::code).collect();
    if !listed.contains(&current) {
        listed.push(current.clone());
    }
    let periods = listed
        .iter()
        .map(|code| views::Choice {
            label: Period::parse(code).map(|p| p.label()).unwrap_or_else(|| code.clone()),
            selected: *code == current,
            value: code.clone(),
        })
        .collect();
    let cat = &state.catalog;
    let mut units: Vec<views::Choice> = cat
        .units
        .subtree(&cat.province.code)
        .into_iter()
        .filter(|u| v.who.user.may_view(&u.code, &cat.province.code))
        .map(|u| views::Choice {
            value: u.code.clone(),
            label: format!("{} ({})", u.name, u.code),
            selected: u.code == v.unit,
        })
        .collect();
    // A select of 3,000 communes weighs more than the page: a code field then, and the tables and
    // the map link to every unit.
    if units.len() > UNIT_SELECT_MAX {
        units.clear();
    }
    let q = query(&current, &v.unit);
    let own = v.who.user.unit.clone().unwrap_or_else(|| v.unit.clone());
    let unit_page = if v.who.user.sees_all_units() {
        v.unit.as_str()
    } else {
        own.as_str()
    };
    let mut links = vec![
        (String::new(), "Tổng quan"),
        ("chi-tieu/CDS-1".to_owned(), "Chỉ tiêu"),
        ("nop-bao-cao".to_owned(), "Tình hình nộp báo cáo"),
        (format!("don-vi/{unit_page}"), "Báo cáo của đơn vị"),
    ];
    if v.who.user.check_send().is_ok() {
        links.push(("nop".to_owned(), "Nộp báo cáo"));
    }
    if v.who.user.check_admin().is_ok() {
        links.push(("quan-tri/nhat-ky".to_owned(), "Nhật ký"));
    }
    let nav = links
        .into_iter()
        .map(|(href, label)| Link {
            href: format!("/{href}{q}"),
            label: label.to_owned(),
            active: label == active,
        })
        .collect();
    let html = render(&Layout {
        title: title.to_owned(),
        province: cat.province.name.clone(),
        nav,
        periods,
        units,
        unit: v.unit.clone(),
        csrf: v.who.csrf.clone(),
        user: v.who.user.name.clone(),
        body,
    })?;
    Ok(Html(html).into_response())
}

/// Tổng quan: one tile per indicator with value, target, Đạt/Chưa đạt, gap, pace and coverage.
pub(crate) async fn overview(State(state): State<AppState>, v: Viewer) -> Result<Response, AppError> {
    let key = format!("overview?{}&{}&{}", v.spec, v.unit, v.who.user.sees_all_units());
    let body = state
        .cached_page(
            key,
            overview_body(&state, v.who.user.sees_all_units(), &v.spec, &v.unit),
        )
        .await?;
    frame(&state, &v, "Tổng quan công tác PBGDPL", "Tổng quan", &body).await
}

async fn overview_body(state: &AppState, sees_all: bool, spec: &PeriodSpec, unit: &str) -> Result<String, AppError> {
    let unit_name = state
        .catalog
        .units
        .get(unit)
        .map(|u| u.name.clone())
        .unwrap_or_default();
    let values = state.indicators(spec, unit).await?;
    let periods = state.periods_with_data().await?;
    // A sparkline is too small for the mark's label: the line alone says where the units changed.
    let marks = pbgdpl_reports::charts::reorganisation_marks(&state.catalog, &periods);
    let mut tiles = Vec::new();
    for v in values.iter().filter(|v| v.unit == unit) {
        let points = crate::indicator::trend_points(state, &v.indicator, unit).await?;
        let (spark, spark_text) = if points.iter().filter(|p| p.value.is_some()).count() > 1 {
            (
                pbgdpl_reports::charts::sparkline_svg(&points, &marks, (240, 56))?,
                crate::indicator::trend_text(&points, &v.measure),
            )
        } else {
            (String::new(), String::new())
        };
        let (badge, class) = match v.status {
            Some(Status::Dat) => ("Đạt", "ok"),
            Some(Status::ChuaDat) => ("Chưa đạt", "bad"),
            None => ("", "none"),
        };
        tiles.push(views::Tile {
            class,
            code: v.indicator.clone(),
            name: v.name.clone(),
            raw: v.value.map(|x| x.to_string()).unwrap_or_default(),
            value: value_text(v),
            badge,
            target: v.target.map(|t| {
                format!(
                    "Mục tiêu ≥ {}% — {}",
                    decimal_vi(t, 0),
                    v.phase.as_deref().unwrap_or("")
                )
            }),
            gap: v.gap.map(|g| format!("Chênh lệch {} điểm %", decimal_vi(g, 2))),
            pace: v.pace.map(|p| format!("Cần tăng {} điểm %/năm", decimal_vi(p, 2))),
            coverage: v.coverage.map(|c| {
                format!(
                    "Đơn vị báo cáo: {}/{} ({}%)",
                    v.reporting,
                    v.due,
                    decimal_vi(c * 100.0, 0)
                )
            }),
            source: pbgdpl_reports::text::source_text(v),
            spark,
            spark_text,
            href: format!("/chi-tieu/{}{}", v.indicator, query(spec, unit)),
        });
    }
    let reporting = match spec {
        PeriodSpec::Single(p) => {
            let (_, engine) = state.engine_for(&spec.stored_periods()).await?;
            let due = engine.completeness(p, unit)?;
            let names = |pick: &dyn Fn(&pbgdpl_engine::Expected<'_>) -> bool| {
                let all: Vec<String> = due
                    .iter()
                    .filter(|e| pick(e))
                    .map(|e| format!("{} ({})", e.unit.name, e.form.id))
                    .collect();
                let mut text = all.iter().take(12).cloned().collect::<Vec<_>>().join("; ");
                if all.len() > 12 {
                    text.push_str(" …");
                }
                (all.len(), text)
            };
            let (missing, missing_names) = names(&|e| e.received.is_none());
            let (late, late_names) = names(&|e| e.late());
            Some(views::ReportingSummary {
                received: due.iter().filter(|e| e.received.is_some()).count(),
                total: due.len(),
                missing,
                late,
                missing_names,
                late_names,
                href: format!("/nop-bao-cao{}", query(&p.code(), unit)),
            })
        }
        PeriodSpec::Years { .. } => None,
    };
    let downloads = match spec {
        PeriodSpec::Single(p) if sees_all => Some(views::Downloads {
            label: p.label(),
            xlsx: format!("/bao-cao{}", query(&p.code(), unit)),
            docx: format!("/bao-cao{}&format=docx", query(&p.code(), unit)),
        }),
        _ => None,
    };
    render(&views::Overview {
        sub: format!("{unit_name} — kỳ {spec}"),
        tiles,
        reporting,
        downloads,
    })
}

pub(crate) fn single(spec: &PeriodSpec, what: &str) -> Result<Period, AppError> {
    match spec {
        PeriodSpec::Single(p) => Ok(*p),
        PeriodSpec::Years { .. } => Err(AppError::BadRequest(format!(
            "{what} theo từng kỳ (ví dụ 2026S1, 2026)"
        ))),
    }
}

/// Tình hình nộp báo cáo: expected, received, late and missing returns, by unit, with the deadline.
pub(crate) async fn submissions(
    State(state): State<AppState>,
    mut v: Viewer,
    Query(g): Query<GridQuery>,
) -> Result<Response, AppError> {
    // A reporter sees its own unit's returns only.
    if !v.who.user.sees_all_units()
        && let Some(own) = v.who.user.unit.clone()
    {
        v.unit = own;
    }
    let period = single(&v.spec, "Tình hình nộp báo cáo xem")?;
    let code = period.code();
    let lock = state
        .blocking({
            let code = code.clone();
            move |st| Ok(st.store.period_locks()?.into_iter().find(|l| l.period == code))
        })
        .await?;
    let lock_button = (v.who.user.role == Role::Admin).then(|| {
        let (action, label) = if lock.is_none() {
            ("khoa", "Khóa kỳ báo cáo (đã gửi báo cáo)")
        } else {
            ("mo-khoa", "Mở khóa kỳ báo cáo")
        };
        views::LockButton {
            action: format!("/ky/{code}/{action}"),
            label,
            csrf: v.who.csrf.clone(),
            unit: v.unit.clone(),
        }
    });
    let (_, engine) = state.engine_for(&PeriodSpec::Single(period).stored_periods()).await?;
    let due = engine.completeness(&period, &v.unit)?;
    let expected = due.len();
    let received = due.iter().filter(|e| e.received.is_some()).count();
    let former = state.catalog.units.former_districts();
    let rows = due
        .iter()
        .map(|e| {
            let (class, tag) = match (e.received, e.late()) {
                (None, _) => ("missing", "chua-gui"),
                (Some(_), true) => ("late", "gui-muon"),
                (Some(_), false) => ("ok", "dung-han"),
            };
            let mut tags = vec![tag];
            if e.received.is_some() {
                tags.push("da-gui");
            }
            let day = |d: Option<chrono::NaiveDate>| {
                Cell::date(
                    d.map(|d| d.format("%d/%m/%Y").to_string()).unwrap_or_default(),
                    d.map(|d| d.to_string()),
                )
            };
            Row {
                cells: vec![
                    Cell::text(e.unit.code.clone()),
                    // By key: a code reused after the 2025 merger names another unit today.
                    Cell::link(e.unit.name.clone(), format!("/don-vi/{}?period={code}", e.unit.key)),
                    Cell::text(e.unit.kind.label()),
                    Cell::text(e.form.id.clone()),
                    day(e.deadline),
                    day(e.received),
                    Cell::int(e.version),
                    Cell::text(e.status_label()),
                ],
                tags,
                groups: vec![
                    ("loai", e.unit.kind.label().to_owned()),
                    ("bieu", e.form.id.clone()),
                    (
                        "huyen-cu",
                        former
                            .get(&e.unit.key)
                            .cloned()
                            .unwrap_or_else(|| "Không thuộc huyện cũ".into()),
                    ),
                ],
                class,
                unit: Some(e.unit.key.clone()),
            }
        })
        .collect();
    let grid = Grid {
        title: format!("Báo cáo phải gửi kỳ {} — {}", period.label(), v.unit),
        columns: crate::grid::columns(&[
            "Mã",
            "Đơn vị",
            "Loại",
            "Biểu",
            "Hạn gửi",
            "Ngày nhận",
            "Phiên bản",
            "Tình trạng",
        ]),
        rows,
        filters: vec![
            Choice {
                id: ALL,
                label: "Tất cả",
            },
            Choice {
                id: "chua-gui",
                label: "Chưa gửi",
            },
            Choice {
                id: "gui-muon",
                label: "Gửi muộn",
            },
            Choice {
                id: "dung-han",
                label: "Gửi đúng hạn",
            },
            Choice {
                id: "da-gui",
                label: "Đã gửi",
            },
        ],
        default_filter: ALL,
        groups: vec![
            Choice {
                id: "loai",
                label: "Loại đơn vị",
            },
            Choice {
                id: "bieu",
                label: "Biểu",
            },
            Choice {
                id: "huyen-cu",
                label: "Huyện cũ (trước 01/07/2025)",
            },
        ],
        file: format!("nop-bao-cao_{}_{code}", v.unit),
    };
    if let Some(format) = g.download() {
        return grid.download(&g, format);
    }
    let base = vec![("period".to_owned(), code.clone()), ("unit".to_owned(), v.unit.clone())];
    let table = grid.html(&g, "/nop-bao-cao", &base)?;
    let body = render(&views::Submissions {
        // Once the report is sent the Department locks the period; say so, since uploads for it are
        // refused.
        locked: lock.map(|l| views::LockBanner {
            period: l.period,
            on: date_vi(&local_date(&l.locked_at)),
            by: l.locked_by,
        }),
        lock: lock_button,
        expected,
        received,
        received_pct: if expected == 0 {
            "—".into()
        } else {
            format!("{}%", decimal_vi(100.0 * received as f64 / expected as f64, 1))
        },
        late: due.iter().filter(|e| e.late()).count(),
        missing: expected - received,
        table,
    })?;
    frame(
        &state,
        &v,
        &format!("Tình hình nộp báo cáo — {}", period.label()),
        "Tình hình nộp báo cáo",
        &body,
    )
    .await
}

#[derive(Deserialize)]
pub(crate) struct LockForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    unit: String,
}

/// Locks (`khoa`) or unlocks (`mo-khoa`) a period: administrators only, with the session's CSRF token.
pub(crate) async fn lock_period(
    State(state): State<AppState>,
    who: SessionUser,
    Path((period, action)): Path<(String, String)>,
    form: Result<axum::Form<LockForm>, axum::extract::rejection::FormRejection>,
) -> Result<axum::response::Redirect, AppError> {
    let f = form.map(|f| f.0).unwrap_or(LockForm {
        csrf: String::new(),
        unit: String::new(),
    });
    who.check_csrf(&f.csrf)?;
    who.user.check_admin()?;
    let period =
        Period::parse(&period).ok_or_else(|| AppError::BadRequest(format!("Kỳ báo cáo `{period}` không hợp lệ")))?;
    let lock = match action.as_str() {
        "khoa" => true,
        "mo-khoa" => false,
        _ => return Err(AppError::BadRequest(format!("Không có thao tác `{action}`"))),
    };
    let (by, code) = (who.actor(&state), period.code());
    state
        .blocking(move |st| {
            if lock {
                st.store.lock_period(&code, &by)?;
            } else {
                st.store.unlock_period(&code, &by)?;
            }
            Ok(())
        })
        .await?;
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

/// Báo cáo của đơn vị: every version of the unit's returns, who sent them and when, and refusals.
pub(crate) async fn unit(State(state): State<AppState>, v: Viewer) -> Result<Response, AppError> {
    let code = v.unit.clone();
    let u = state
        .catalog
        .units
        .get(&code)
        .ok_or_else(|| AppError::BadRequest(format!("Đơn vị \"{code}\" không có trong danh sách")))?
        .clone();
    let (records, rejections) = state
        .blocking({
            let code = code.clone();
            move |st| Ok((st.store.returns(None)?, st.store.rejections(&code)?))
        })
        .await?;
    let versions = records
        .iter()
        .filter(|r| r.unit == code)
        .rev()
        .map(|r| views::VersionRow {
            period: r.period.clone(),
            form: r.form.clone(),
            version: r.version,
            at: date_vi(&local_date(&r.received_at)),
            by: r.submitted_by.clone().unwrap_or_default(),
            source: r.source.clone(),
            file: r
                .file_name
                .as_deref()
                .map(|f| f.rsplit('/').next().unwrap_or(f).to_owned())
                .unwrap_or_default(),
        })
        .collect();
    let refused = rejections
        .into_iter()
        .map(|rej| views::RefusedRow {
            at: date_vi(&local_date(&rej.received_at)),
            file: rej.file_name.unwrap_or_default(),
            issues: rej
                .issues
                .iter()
                .map(|i| format!("[{}] {} {}", i.rule.id(), i.cell.as_deref().unwrap_or(""), i.message))
                .collect(),
        })
        .collect();
    let body = render(&views::UnitPage {
        kind: u.kind.label().to_owned(),
        code: code.clone(),
        versions,
        refused,
    })?;
    frame(
        &state,
        &v,
        &format!("Báo cáo của {}", u.name),
        "Báo cáo của đơn vị",
        &body,
    )
    .await
}

#[derive(Deserialize)]
pub(crate) struct ReportFormat {
    /// `xlsx` (default) or `docx`.
    format: Option<String>,
}

/// The Ministry report of a period as a download: the workbook or the narrative document.
pub(crate) async fn report(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ReportFormat>,
) -> Result<Response, AppError> {
    v.who.user.check_reports()?;
    let period = single(&v.spec, "Báo cáo lập")?;
    let (_, engine) = state
        .engine_for(&pbgdpl_reports::bundle::Report::periods(period))
        .await?;
    let (unit, today) = (v.unit.clone(), state.config().clock.today());
    let docx = q.format.as_deref() == Some("docx");
    let bytes = state
        .compute(engine, move |e| async move {
            let report = pbgdpl_reports::bundle::Report::compute(&e, period, &unit)
                .await
                .map_err(|e| pbgdpl_engine::Error::Internal(e.to_string()))?;
            let out = if docx {
                pbgdpl_reports::narrative::to_docx(&pbgdpl_reports::narrative::narrative(&report, today))
            } else {
                pbgdpl_reports::workbook::report_workbook(&report)
            };
            out.map_err(|e| pbgdpl_engine::Error::Internal(e.to_string()))
        })
        .await?;
    let stem = pbgdpl_reports::bundle::file_stem(&v.unit, &period);
    let (ext, mime) = if docx {
        (
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )
    } else {
        (
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
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

#[derive(Deserialize)]
pub(crate) struct AuditQuery {
    /// `YYYY-MM-DD`: lines from that day (in Vietnam) on.
    since: Option<String>,
}

/// Nhật ký: the audit log for administrators — every write and every refused access, newest first.
pub(crate) async fn audit(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    v.who.user.check_admin()?;
    let since_day = match q.since.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| AppError::BadRequest(format!("Ngày \"{s}\" không hợp lệ (YYYY-MM-DD)")))?,
        ),
        None => None,
    };
    // A day in Vietnam starts at 17:00 UTC the day before.
    let since = since_day.map(|d| pbgdpl_catalog::Clock::on(d).now() - chrono::Duration::hours(12));
    let mut log = state.blocking(move |st| Ok(st.store.audit_log(since, 500)?)).await?;
    log.reverse();
    let rows: Vec<views::AuditRow> = log
        .into_iter()
        .map(|l| views::AuditRow {
            at: chrono::DateTime::parse_from_rfc3339(&l.at)
                .map(|t| {
                    (t.with_timezone(&chrono::Utc) + chrono::Duration::hours(7))
                        .format("%d/%m/%Y %H:%M:%S")
                        .to_string()
                })
                .unwrap_or(l.at),
            user: l.user.unwrap_or_else(|| "—".into()),
            from: l.from.unwrap_or_default(),
            action: l.action,
            subject: l.subject.unwrap_or_default(),
            detail: l.detail.unwrap_or_default(),
        })
        .collect();
    let body = render(&views::AuditPage {
        count: rows.len(),
        since: since_day.map(|d| d.format("%d/%m/%Y").to_string()),
        since_value: since_day.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
        rows,
    })?;
    frame(&state, &v, "Nhật ký hệ thống", "Nhật ký", &body).await
}
