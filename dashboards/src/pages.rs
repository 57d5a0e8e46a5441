//! Server-rendered pages in Vietnamese: Tổng quan, Chỉ tiêu, Tình hình nộp báo cáo, Báo cáo của đơn
//! vị, and the report download. Every page takes `?period=&unit=` so that its URL can be bookmarked
//! and shared; charts are inline SVG. Bodies that depend on the store only are rendered once per
//! store generation; the frame around them per request.

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use pbgdpl_catalog::text::{decimal_vi, group_vi};
use pbgdpl_catalog::{Indicator, Period, PeriodSpec, Role, local_date};
use pbgdpl_engine::{IndicatorValue, Status};
use serde::Deserialize;

use crate::session::SessionUser;
use crate::views::{self, Choice, Layout, Link, render};
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
fn value_text(v: &IndicatorValue) -> String {
    match v.value {
        Some(_) => pbgdpl_reports::text::value_text(v),
        None => "Chưa có số liệu".into(),
    }
}

fn date_vi(iso: &str) -> String {
    match iso.split('-').collect::<Vec<_>>().as_slice() {
        [y, m, d] => format!("{d}/{m}/{y}"),
        _ => iso.to_owned(),
    }
}

fn query(spec: &impl std::fmt::Display, unit: &str) -> String {
    format!("?period={spec}&unit={unit}")
}

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
        .map(|code| Choice {
            label: Period::parse(code).map(|p| p.label()).unwrap_or_else(|| code.clone()),
            selected: *code == current,
            value: code.clone(),
        })
        .collect();
    let cat = &state.catalog;
    let units = cat
        .units
        .subtree(&cat.province.code)
        .into_iter()
        .filter(|u| v.who.user.may_view(&u.code, &cat.province.code))
        .map(|u| Choice {
            value: u.code.clone(),
            label: format!("{} ({})", u.name, u.code),
            selected: u.code == v.unit,
        })
        .collect();
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
    // A small trend per tile: the indicator over every period with data (results are cached).
    let mut trends: std::collections::HashMap<String, Vec<(String, Option<f64>)>> = Default::default();
    let periods = state.periods_with_data().await?;
    // A sparkline is too small for the mark's label: the line alone says where the units changed.
    let marks: Vec<_> = pbgdpl_reports::charts::reorganisation_marks(&state.catalog, &periods)
        .into_iter()
        .map(|m| pbgdpl_reports::charts::Mark {
            label: String::new(),
            ..m
        })
        .collect();
    for p in periods {
        for v in state
            .indicators(&PeriodSpec::Single(p), unit)
            .await?
            .iter()
            .filter(|v| v.unit == unit)
        {
            trends.entry(v.indicator.clone()).or_default().push((p.code(), v.value));
        }
    }
    let mut tiles = Vec::new();
    for v in values.iter().filter(|v| v.unit == unit) {
        let spark = match trends.get(&v.indicator) {
            Some(points) if points.iter().filter(|p| p.1.is_some()).count() > 1 => {
                pbgdpl_reports::charts::trend_svg("", points, v.target, &marks, (230, 90)).unwrap_or_default()
            }
            _ => String::new(),
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
            href: format!("/chi-tieu/{}{}", v.indicator, query(spec, unit)),
        });
    }
    let reporting = match spec {
        PeriodSpec::Single(p) => {
            let (_, engine) = state.engine().await?;
            let due = engine.completeness(p, unit);
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

/// Chỉ tiêu: the indicator's trend with its target, and its units ranked, each linked to its returns.
pub(crate) async fn indicator(
    State(state): State<AppState>,
    v: Viewer,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let ind = state
        .catalog
        .indicator(&code)
        .ok_or_else(|| AppError::BadRequest(format!("Chỉ tiêu \"{code}\" không có trong danh mục")))?
        .clone();
    let key = format!("indicator/{code}?{}&{}&{}", v.spec, v.unit, v.who.user.sees_all_units());
    let body = state
        .cached_page(
            key,
            indicator_body(&state, v.who.user.sees_all_units(), &ind, &v.spec, &v.unit),
        )
        .await?;
    frame(&state, &v, &format!("Chỉ tiêu {}", ind.code), "Chỉ tiêu", &body).await
}

async fn indicator_body(
    state: &AppState,
    sees_all: bool,
    ind: &Indicator,
    spec: &PeriodSpec,
    unit: &str,
) -> Result<String, AppError> {
    let code = ind.code.as_str();
    let mut trend = Vec::new();
    let mut target = None;
    let periods = state.periods_with_data().await?;
    let marks = pbgdpl_reports::charts::reorganisation_marks(&state.catalog, &periods);
    for p in periods {
        let vs = state.indicators(&PeriodSpec::Single(p), unit).await?;
        let v = vs.iter().find(|v| v.indicator == code && v.unit == unit);
        target = target.or(v.and_then(|v| v.target));
        trend.push((p.code(), v.and_then(|v| v.value)));
    }
    let values = state.indicators(spec, unit).await?;
    let this = values.iter().find(|v| v.indicator == code && v.unit == unit).cloned();
    let trend_svg =
        pbgdpl_reports::charts::trend_svg(&format!("{} qua các kỳ", ind.code), &trend, target, &marks, (640, 280))?;
    // Other units' figures are for the Department and leaders, not for another unit's reporter.
    let mut children: Vec<&IndicatorValue> = values
        .iter()
        .filter(|v| v.indicator == code && v.unit != unit && sees_all)
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
    )?;
    let rows = children
        .iter()
        .enumerate()
        .map(|(i, v)| views::RankRow {
            n: i + 1,
            unit: v.unit.clone(),
            href: format!("/don-vi/{}?period={spec}", v.unit),
            name: v.unit_name.clone(),
            value: if v.value.is_some() { value_text(v) } else { "—".into() },
            numerator: v.numerator.map(group_vi).unwrap_or_else(|| "—".into()),
            denominator: v.denominator.map(group_vi).unwrap_or_else(|| "—".into()),
            status: v.status.map(|s| s.label()).unwrap_or(""),
        })
        .collect();
    // Urban against rural: the indicators whose numerators are the area columns of the same row, shown
    // side by side on either's page (CDS-1 and CDS-2).
    let cat = &state.catalog;
    let same_row = |a: &Indicator| a.numerator.first().map(|t| (t.form.clone(), t.row.clone()));
    let is_area = |i: &Indicator| {
        i.numerator.first().is_some_and(|t| {
            cat.form(&t.form)
                .and_then(|f| f.column(t.column))
                .is_some_and(|c| c.area.is_some())
        })
    };
    let area_pair: Vec<&IndicatorValue> = if is_area(ind) {
        values
            .iter()
            .filter(|v| v.unit == unit)
            .filter(|v| {
                cat.indicator(&v.indicator)
                    .is_some_and(|i| is_area(i) && same_row(i) == same_row(ind))
            })
            .collect()
    } else {
        Vec::new()
    };
    let areas = if area_pair.len() > 1 {
        area_pair
            .iter()
            .map(|v| views::AreaCell {
                href: format!("/chi-tieu/{}{}", v.indicator, query(spec, unit)),
                code: v.indicator.clone(),
                value: value_text(v),
                status: v.status.map(|s| s.label()).unwrap_or(""),
            })
            .collect()
    } else {
        Vec::new()
    };
    let headline = this.as_ref().map(|v| views::Headline {
        code: v.indicator.clone(),
        raw: v.value.map(|x| x.to_string()).unwrap_or_default(),
        text: format!(
            "{} {}",
            value_text(v),
            v.status.map(|s| format!("— {}", s.label())).unwrap_or_default()
        ),
        source: pbgdpl_reports::text::source_text(v),
    });
    let options = cat
        .indicators
        .iter()
        .map(|i| Link {
            href: format!("/chi-tieu/{}{}", i.code, query(spec, unit)),
            label: i.code.clone(),
            active: i.code == code,
        })
        .collect();
    render(&views::IndicatorPage {
        name: ind.name.clone(),
        options,
        headline,
        areas,
        trend_svg,
        rank_svg,
        rows,
    })
}

fn single(spec: &PeriodSpec, what: &str) -> Result<Period, AppError> {
    match spec {
        PeriodSpec::Single(p) => Ok(*p),
        PeriodSpec::Years { .. } => Err(AppError::BadRequest(format!(
            "{what} theo từng kỳ (ví dụ 2026S1, 2026)"
        ))),
    }
}

/// Tình hình nộp báo cáo: expected, received, late and missing returns, by unit, with the deadline.
pub(crate) async fn submissions(State(state): State<AppState>, mut v: Viewer) -> Result<Response, AppError> {
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
    let (_, engine) = state.engine().await?;
    let due = engine.completeness(&period, &v.unit);
    let expected = due.len();
    let received = due.iter().filter(|e| e.received.is_some()).count();
    let rows = due
        .iter()
        .map(|e| views::SubmissionRow {
            class: match (e.received, e.late()) {
                (None, _) => "missing",
                (Some(_), true) => "late",
                (Some(_), false) => "ok",
            },
            code: e.unit.code.clone(),
            // By key: a code reused after the 2025 merger names another unit today.
            href: format!("/don-vi/{}?period={code}", e.unit.key),
            name: e.unit.name.clone(),
            form: e.form.id.clone(),
            deadline: e.deadline.map(|d| d.format("%d/%m/%Y").to_string()).unwrap_or_default(),
            received: e.received.map(|d| d.format("%d/%m/%Y").to_string()).unwrap_or_default(),
            version: e.version.map(|v| v.to_string()).unwrap_or_default(),
            status: e.status_label(),
        })
        .collect();
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
        rows,
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
    let (_, engine) = state.engine().await?;
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
