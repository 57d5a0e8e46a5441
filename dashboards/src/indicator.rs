//! Chỉ tiêu: one indicator for a unit — its figure and where it comes from, its trend against the
//! target of each phase, its units on a map and in a table people can sort, filter, group and
//! download — and Số liệu gốc, the returns and cells behind a unit's figure.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use pbgdpl_catalog::text::{decimal_vi, group_vi};
use pbgdpl_catalog::{Catalog, Indicator, Period, PeriodSpec, local_date};
use pbgdpl_engine::{IndicatorValue, Status};
use pbgdpl_reports::charts::TrendPoint;

use crate::grid::{ALL, Cell, Choice, Grid, GridQuery, Row};
use crate::pages::{Viewer, date_vi, frame, query, single, value_text};
use crate::views::{self, Link, render};
use crate::{AppError, AppState};

fn indicator_of(state: &AppState, code: &str) -> Result<Indicator, AppError> {
    Ok(state
        .catalog
        .indicator(code)
        .ok_or_else(|| AppError::BadRequest(format!("Chỉ tiêu \"{code}\" không có trong danh mục")))?
        .clone())
}

/// The indicator page, or its table as a download (`?format=csv|xlsx`).
pub(crate) async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Path(code): Path<String>,
    Query(g): Query<GridQuery>,
) -> Result<Response, AppError> {
    let ind = indicator_of(&state, &code)?;
    let sees_all = v.who.user.sees_all_units();
    if let Some(format) = g.download() {
        let values = state.indicators(&v.spec, &v.unit).await?;
        return units_grid(&state.catalog, sees_all, &ind, &v.spec, &v.unit, &values).download(&g, format);
    }
    let key = format!("indicator/{code}?{}&{}&{sees_all}&{}", v.spec, v.unit, g.key());
    let body = state
        .cached_page(key, body(&state, sees_all, &ind, &v.spec, &v.unit, &g))
        .await?;
    frame(&state, &v, &format!("Chỉ tiêu {}", ind.code), "Chỉ tiêu", &body).await
}

/// The trend of one indicator for a unit over every period with data, each period with its target.
pub(crate) async fn trend_points(state: &AppState, code: &str, unit: &str) -> Result<Vec<TrendPoint>, AppError> {
    let mut points = Vec::new();
    for p in state.periods_with_data().await? {
        let vs = state.indicators(&PeriodSpec::Single(p), unit).await?;
        let v = vs.iter().find(|v| v.indicator == code && v.unit == unit);
        points.push(TrendPoint {
            label: p.code(),
            value: v.and_then(|v| v.value),
            target: v.and_then(|v| v.target),
        });
    }
    Ok(points)
}

/// The trend as text: what the chart shows, for screen readers and for copying.
pub(crate) fn trend_text(points: &[TrendPoint], measure: &str) -> String {
    points
        .iter()
        .map(|p| {
            let v = p.value.map_or("chưa có số liệu".to_owned(), |v| {
                format!("{} {measure}", decimal_vi(v, 1))
            });
            match p.target {
                Some(t) => format!("{}: {v} (mục tiêu {} {measure})", p.label, decimal_vi(t, 0)),
                None => format!("{}: {v}", p.label),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The drill-down link of a unit's figure.
fn source_href(code: &str, spec: &PeriodSpec, unit: &str) -> String {
    format!("/chi-tieu/{code}/nguon{}", query(spec, unit))
}

/// The table of the unit's children for the indicator: rank, kind, value, numerator, denominator,
/// target and status; filters by data and status, groups by kind and former district.
fn units_grid(
    catalog: &Catalog,
    sees_all: bool,
    ind: &Indicator,
    spec: &PeriodSpec,
    unit: &str,
    values: &[IndicatorValue],
) -> Grid {
    let code = ind.code.as_str();
    // Other units' figures are for the Department and leaders, not for another unit's reporter.
    let mut children: Vec<&IndicatorValue> = values
        .iter()
        .filter(|v| v.indicator == code && v.unit != unit && sees_all)
        .collect();
    children.sort_by(|a, b| b.value.unwrap_or(f64::MIN).total_cmp(&a.value.unwrap_or(f64::MIN)));
    let former = catalog.units.former_districts();
    let rows = children
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let u = catalog.units.get(&v.unit);
            let kind = u.map(|u| u.kind.label()).unwrap_or("");
            let mut tags = vec![];
            if v.value.is_some() {
                tags.push("co-so-lieu");
            } else {
                tags.push("chua-co");
            }
            match v.status {
                Some(Status::Dat) => tags.push("dat"),
                Some(Status::ChuaDat) => tags.push("chua-dat"),
                None => {}
            }
            if u.is_some_and(|u| u.kind.is_territorial()) {
                tags.push("dia-ban");
            }
            let key = u.map(|u| u.key.clone()).unwrap_or_else(|| v.unit.clone());
            Row {
                cells: vec![
                    Cell::int(v.value.map(|_| i as i64 + 1)),
                    Cell::link(v.unit_name.clone(), format!("/chi-tieu/{code}{}", query(spec, &v.unit))),
                    Cell::text(kind),
                    Cell::number(v.value, value_text(v), 2).with_href(source_href(code, spec, &v.unit)),
                    Cell::int(v.numerator),
                    Cell::int(v.denominator),
                    Cell::number(v.target, v.target.map(|t| decimal_vi(t, 0)).unwrap_or_default(), 0),
                    Cell::text(v.status.map(|s| s.label()).unwrap_or("")),
                ],
                tags,
                groups: vec![
                    ("loai", kind.to_owned()),
                    (
                        "huyen-cu",
                        former
                            .get(&key)
                            .cloned()
                            .unwrap_or_else(|| "Không thuộc huyện cũ".into()),
                    ),
                ],
                class: match v.status {
                    Some(Status::Dat) => "ok",
                    Some(Status::ChuaDat) => "bad",
                    None => "",
                },
                unit: Some(v.unit.clone()),
            }
        })
        .collect();
    Grid {
        title: format!("{} theo đơn vị — kỳ {spec}", ind.code),
        columns: crate::grid::columns(&[
            "#",
            "Đơn vị",
            "Loại",
            "Giá trị",
            "Tử số",
            "Mẫu số",
            "Mục tiêu",
            "Đánh giá",
        ]),
        rows,
        filters: vec![
            Choice {
                id: "co-so-lieu",
                label: "Đơn vị có số liệu",
            },
            Choice {
                id: "chua-dat",
                label: "Chưa đạt mục tiêu",
            },
            Choice {
                id: "dat",
                label: "Đạt mục tiêu",
            },
            Choice {
                id: "chua-co",
                label: "Chưa có số liệu",
            },
            Choice {
                id: "dia-ban",
                label: "Xã, phường, đặc khu",
            },
            Choice {
                id: ALL,
                label: "Tất cả đơn vị",
            },
        ],
        default_filter: "co-so-lieu",
        groups: vec![
            Choice {
                id: "loai",
                label: "Loại đơn vị",
            },
            Choice {
                id: "huyen-cu",
                label: "Huyện cũ (trước 01/07/2025)",
            },
        ],
        file: format!("{}_{}_{spec}", ind.code, unit),
    }
}

async fn body(
    state: &AppState,
    sees_all: bool,
    ind: &Indicator,
    spec: &PeriodSpec,
    unit: &str,
    g: &GridQuery,
) -> Result<String, AppError> {
    let code = ind.code.as_str();
    let cat = &state.catalog;
    let periods = state.periods_with_data().await?;
    let marks = pbgdpl_reports::charts::reorganisation_marks(cat, &periods);
    let trend = trend_points(state, code, unit).await?;
    let values = state.indicators(spec, unit).await?;
    let this = values.iter().find(|v| v.indicator == code && v.unit == unit).cloned();
    let measure = this
        .as_ref()
        .map(|v| v.measure.clone())
        .unwrap_or_else(|| ind.unit.clone());
    let phase = this.as_ref().and_then(|v| v.phase.clone());
    let target_label = match phase {
        Some(p) => format!("Mục tiêu ({p})"),
        None => "Mục tiêu theo giai đoạn".to_owned(),
    };
    let trend_svg = pbgdpl_reports::charts::trend_svg(
        &format!("{} qua các kỳ", ind.code),
        &trend,
        &target_label,
        &marks,
        (640, 300),
    )?;
    let children: Vec<&IndicatorValue> = values
        .iter()
        .filter(|v| v.indicator == code && v.unit != unit && sees_all)
        .collect();
    let mut ranked: Vec<(String, f64)> = children
        .iter()
        .filter_map(|v| v.value.map(|x| (v.unit_name.clone(), x)))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let shown = ranked.len().min(30);
    let rank_svg = if ranked.is_empty() {
        String::new()
    } else {
        pbgdpl_reports::charts::ranking_svg(
            &format!("{} theo đơn vị ({shown}/{} đơn vị cao nhất)", ind.code, ranked.len()),
            &ranked[..shown],
            this.as_ref().and_then(|t| t.target),
            640,
        )?
    };
    let map = map_of(cat, ind, spec, unit, &children, false)?;
    // Urban against rural: the indicators whose numerators are the area columns of the same row, shown
    // side by side on either's page (CDS-1 and CDS-2).
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
        detail: match (v.numerator, v.denominator) {
            (Some(n), Some(d)) => format!("Tử số {} / mẫu số {}", group_vi(n), group_vi(d)),
            _ => String::new(),
        },
        // A reporter may open its own unit's cells, not the province's.
        href: (sees_all || unit != cat.province.code).then(|| source_href(code, spec, unit)),
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
    let table = if sees_all && !children.is_empty() {
        let base = vec![
            ("period".to_owned(), spec.to_string()),
            ("unit".to_owned(), unit.to_owned()),
        ];
        units_grid(cat, sees_all, ind, spec, unit, &values).html(g, &format!("/chi-tieu/{code}"), &base)?
    } else {
        String::new()
    };
    render(&views::IndicatorPage {
        name: ind.name.clone(),
        options,
        headline,
        areas,
        trend_svg,
        trend_text: trend_text(&trend, &measure),
        map,
        rank_svg,
        table,
    })
}

/// The map of the children's figures, each point linked to the unit's own figure for the indicator;
/// summarised, linking to the full map, when `full` is set and the children are many.
fn map_of(
    cat: &Catalog,
    ind: &Indicator,
    spec: &PeriodSpec,
    unit: &str,
    children: &[&IndicatorValue],
    full: bool,
) -> Result<String, AppError> {
    let code = ind.code.clone();
    let full_map = format!("/chi-tieu/{code}/ban-do{}", query(spec, unit));
    Ok(crate::map::map_html(
        cat,
        &format!("Bản đồ {} — kỳ {spec}", ind.code),
        children,
        |v| {
            let status = v.status.map(|s| format!(" — {}", s.label())).unwrap_or_default();
            format!("{}{status}", value_text(v))
        },
        |v| format!("/chi-tieu/{code}{}", query(spec, &v.unit)),
        (!full).then_some(full_map.as_str()),
    )?
    .unwrap_or_default())
}

/// Bản đồ: the full map of an indicator — every unit a point, however many.
pub(crate) async fn full_map(
    State(state): State<AppState>,
    v: Viewer,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let ind = indicator_of(&state, &code)?;
    let sees_all = v.who.user.sees_all_units();
    let values = state.indicators(&v.spec, &v.unit).await?;
    let children: Vec<&IndicatorValue> = values
        .iter()
        .filter(|x| x.indicator == code && x.unit != v.unit && sees_all)
        .collect();
    let map = map_of(&state.catalog, &ind, &v.spec, &v.unit, &children, true)?;
    let body = format!(
        "<p class=\"sub\"><a href=\"/chi-tieu/{code}{}\">Về chỉ tiêu</a></p>{map}",
        query(&v.spec, &v.unit)
    );
    frame(&state, &v, &format!("Bản đồ {}", ind.code), "Chỉ tiêu", &body).await
}

/// Số liệu gốc: the returns and cells behind a unit's figure — each unit whose figures go to it, the
/// return (form, version, who, when) and the cells of the numerator's and denominator's terms.
pub(crate) async fn sources(
    State(state): State<AppState>,
    v: Viewer,
    Path(code): Path<String>,
    Query(g): Query<GridQuery>,
) -> Result<Response, AppError> {
    let ind = indicator_of(&state, &code)?;
    let period = single(&v.spec, "Số liệu gốc xem")?;
    // A reporter sees its own unit's cells, never another's.
    if !v.who.user.sees_all_units() && v.who.user.unit.as_deref() != Some(v.unit.as_str()) {
        return Err(AppError::from(pbgdpl_catalog::Denied(
            "Tài khoản chỉ được xem số liệu gốc của đơn vị mình".into(),
        )));
    }
    let grid = sources_grid(&state, &ind, &period, &v.unit).await?;
    if let Some(format) = g.download() {
        return grid.download(&g, format);
    }
    let values = state.indicators(&v.spec, &v.unit).await?;
    let this = values.iter().find(|x| x.indicator == code && x.unit == v.unit);
    let unit_name = state
        .catalog
        .units
        .get(&v.unit)
        .map(|u| u.name.clone())
        .unwrap_or_default();
    let base = vec![
        ("period".to_owned(), v.spec.to_string()),
        ("unit".to_owned(), v.unit.clone()),
    ];
    let terms = |ts: &[pbgdpl_catalog::Term]| ts.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(" + ");
    let body = render(&views::SourcesPage {
        sub: format!("{unit_name} — kỳ {}", period.label()),
        back: format!("/chi-tieu/{code}{}", query(&v.spec, &v.unit)),
        value: this.map(value_text).unwrap_or_else(|| "Chưa có số liệu".into()),
        numerator: this
            .and_then(|x| x.numerator)
            .map(group_vi)
            .unwrap_or_else(|| "—".into()),
        denominator: this
            .and_then(|x| x.denominator)
            .map(group_vi)
            .unwrap_or_else(|| "—".into()),
        numerator_terms: terms(&ind.numerator),
        denominator_terms: terms(&ind.denominator),
        survey: this
            .and_then(pbgdpl_reports::text::source_text)
            .filter(|_| this.is_some_and(|x| x.survey.is_some())),
        table: grid.html(&g, &format!("/chi-tieu/{code}/nguon"), &base)?,
    })?;
    frame(
        &state,
        &v,
        &format!("Số liệu gốc của {} — {}", ind.code, unit_name),
        "Chỉ tiêu",
        &body,
    )
    .await
}

async fn sources_grid(state: &AppState, ind: &Indicator, period: &Period, unit: &str) -> Result<Grid, AppError> {
    let periods = PeriodSpec::Single(*period).stored_periods();
    let (_, engine) = state.engine_for(&periods).await?;
    let (spec, target) = (PeriodSpec::Single(*period), unit.to_owned());
    let cells = state
        .compute(
            engine.clone(),
            move |e| async move { e.unit_values(&spec, &target).await },
        )
        .await?;
    let terms: Vec<(&'static str, &pbgdpl_catalog::Term)> = ind
        .numerator
        .iter()
        .map(|t| ("Tử số", t))
        .chain(ind.denominator.iter().map(|t| ("Mẫu số", t)))
        .collect();
    let mut forms: Vec<&str> = terms.iter().map(|(_, t)| t.form.as_str()).collect();
    forms.sort();
    forms.dedup();
    // The latest version of each (unit, form, period): what the stored values are.
    let mut latest: HashMap<(&str, &str, &str), &pbgdpl_catalog::model::ReturnRecord> = HashMap::new();
    for p in &periods {
        for r in engine.returns_of(p)? {
            let k = (r.unit.as_str(), r.form.as_str(), r.period.as_str());
            if latest.get(&k).is_none_or(|x| x.version < r.version) {
                latest.insert(k, r);
            }
        }
    }
    let cat = &state.catalog;
    let mut rows = Vec::new();
    for (key, unit_cells) in &cells {
        let u = cat.units.get(key);
        for form in &forms {
            let Some(r) = periods
                .iter()
                .find_map(|p| latest.get(&(key.as_str(), *form, p.as_str())).copied())
            else {
                continue;
            };
            let mut row_cells = vec![
                Cell::link(
                    u.map(|u| u.name.clone()).unwrap_or_else(|| key.clone()),
                    format!("/don-vi/{key}?period={}", period.code()),
                ),
                Cell::text(u.map(|u| u.code.clone()).unwrap_or_else(|| key.clone())),
                Cell::text(r.form.clone()),
                Cell::text(r.period.clone()),
                Cell::int(Some(r.version)),
                Cell::date(date_vi(&local_date(&r.received_at)), Some(r.received_at.clone())),
                Cell::text(r.submitted_by.clone().unwrap_or_default()),
            ];
            let mut any = false;
            for (_, t) in &terms {
                let v = (t.form == *form)
                    .then(|| unit_cells.get(&(t.form.clone(), t.row.clone(), t.column)).copied())
                    .flatten();
                any |= v.is_some();
                row_cells.push(Cell::int(v));
            }
            if !any {
                continue;
            }
            rows.push(Row {
                cells: row_cells,
                tags: vec![],
                groups: vec![],
                class: "",
                unit: Some(key.clone()),
            });
        }
    }
    let mut columns = crate::grid::columns(&["Đơn vị", "Mã", "Biểu", "Kỳ", "Phiên bản", "Ngày nhận", "Người gửi"]);
    columns.extend(terms.iter().map(|(side, t)| format!("{side} {t}")));
    Ok(Grid {
        title: format!("Số liệu gốc của {} — kỳ {}", ind.code, period.code()),
        columns,
        rows,
        filters: vec![],
        default_filter: ALL,
        groups: vec![],
        file: format!("{}_{}_{}_so-lieu-goc", ind.code, unit, period.code()),
    })
}
