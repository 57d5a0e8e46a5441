//! The map of a unit's children for one indicator: each unit with coordinates a point at its
//! latitude and longitude, coloured by the engine's status against the target (Đạt, Chưa đạt, no
//! target, no data — the last hollow and crossed so that it reads without colour), a legend with the
//! counts, a tooltip and a link per point. Hand-laid SVG from a template: it prints, needs no tile
//! server and no script.

use askama::Template;
use pbgdpl_catalog::Catalog;
use pbgdpl_engine::{IndicatorValue, Status};

use crate::AppError;
use crate::views::render;

/// Width of the drawing in SVG units; it scales to the screen.
const WIDTH: f64 = 640.0;
/// The tallest a map may be drawn (a long, thin province is narrower instead).
const MAX_HEIGHT: f64 = 560.0;
const PAD: f64 = 14.0;
/// The most points drawn one by one on a page; above it (a 3,000-commune province) the page shows
/// one circle per square of [`BIN`] SVG units summarising the points in it, and the full map is a page of its own.
pub(crate) const DETAIL_MAX: usize = 400;
const BIN: f64 = 16.0;

/// A point's status: the class that colours it and the legend's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PointStatus {
    Dat,
    ChuaDat,
    NoTarget,
    /// No one to count: a rural commune for an urban indicator (its denominator is 0).
    NotApplicable,
    NoData,
}

impl PointStatus {
    pub(crate) fn of(v: &IndicatorValue) -> PointStatus {
        match (v.value, v.status) {
            (None, _) if v.denominator == Some(0) => PointStatus::NotApplicable,
            (None, _) => PointStatus::NoData,
            (Some(_), Some(Status::Dat)) => PointStatus::Dat,
            (Some(_), Some(Status::ChuaDat)) => PointStatus::ChuaDat,
            (Some(_), None) => PointStatus::NoTarget,
        }
    }

    /// The CSS class and `data-status` of a point: the engine's status id where it has one.
    pub(crate) fn id(self) -> &'static str {
        match self {
            PointStatus::Dat => Status::Dat.id(),
            PointStatus::ChuaDat => Status::ChuaDat.id(),
            PointStatus::NoTarget => "khong_muc_tieu",
            PointStatus::NotApplicable => "khong_ap_dung",
            PointStatus::NoData => "chua_co",
        }
    }

    fn label(self) -> &'static str {
        match self {
            PointStatus::Dat => "Đạt",
            PointStatus::ChuaDat => "Chưa đạt",
            PointStatus::NoTarget => "Có số liệu, chưa có mục tiêu",
            PointStatus::NotApplicable => "Không áp dụng (mẫu số 0)",
            PointStatus::NoData => "Chưa có số liệu",
        }
    }

    const ALL: [PointStatus; 5] = [
        PointStatus::Dat,
        PointStatus::ChuaDat,
        PointStatus::NoTarget,
        PointStatus::NotApplicable,
        PointStatus::NoData,
    ];
}

struct Point {
    x: String,
    y: String,
    unit: String,
    status: &'static str,
    cross: bool,
    label: String,
    href: String,
    /// A summary square's radius; empty for a unit's point (the map's `r`).
    size: String,
}

struct Legend {
    id: &'static str,
    label: &'static str,
    count: usize,
    cross: bool,
}

#[derive(Template)]
#[template(path = "map.html")]
struct MapView {
    title: String,
    desc: String,
    width: String,
    height: String,
    r: String,
    points: Vec<Point>,
    legend: Vec<Legend>,
    unplaced: usize,
    /// The full map's link, when this one summarises.
    full: Option<String>,
}

/// The map of `values`' units, or `None` when none has coordinates. `label` gives a point's figure
/// as text, `href` its link. With more than [`DETAIL_MAX`] units and `summary` set, circles summarise
/// the points near them, each linked to `summary` (the full map).
pub(crate) fn map_html(
    catalog: &Catalog,
    title: &str,
    values: &[&IndicatorValue],
    label: impl Fn(&IndicatorValue) -> String,
    href: impl Fn(&IndicatorValue) -> String,
    summary: Option<&str>,
) -> Result<Option<String>, AppError> {
    let placed: Vec<(&IndicatorValue, f64, f64)> = values
        .iter()
        .filter_map(|v| {
            let u = catalog.units.get(&v.unit)?;
            Some((*v, u.lat?, u.lon?))
        })
        .collect();
    if placed.is_empty() {
        return Ok(None);
    }
    let (mut lat0, mut lat1, mut lon0, mut lon1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (_, lat, lon) in &placed {
        lat0 = lat0.min(*lat);
        lat1 = lat1.max(*lat);
        lon0 = lon0.min(*lon);
        lon1 = lon1.max(*lon);
    }
    // Equirectangular with the mid-latitude's cosine: true enough shapes at a province's size.
    let k = ((lat0 + lat1) / 2.0).to_radians().cos();
    let (dx, dy) = (((lon1 - lon0) * k).max(1e-6), (lat1 - lat0).max(1e-6));
    let scale = ((WIDTH - 2.0 * PAD) / dx).min((MAX_HEIGHT - 2.0 * PAD) / dy);
    let height = dy * scale + 2.0 * PAD;
    let x0 = (WIDTH - dx * scale) / 2.0;
    let mut points: Vec<Point> = placed
        .iter()
        .map(|(v, lat, lon)| {
            let s = PointStatus::of(v);
            Point {
                x: format!("{:.1}", x0 + (lon - lon0) * k * scale),
                y: format!("{:.1}", PAD + (lat1 - lat) * scale),
                unit: v.unit.clone(),
                status: s.id(),
                cross: s == PointStatus::NoData,
                label: format!("{}: {}", v.unit_name, label(v)),
                href: href(v),
                size: String::new(),
            }
        })
        .collect();
    // Units without figures drawn first: a coloured point is never hidden under a grey one.
    points.sort_by_key(|p| !matches!(p.status, "chua_co" | "khong_ap_dung"));
    let mut r = if placed.len() > DETAIL_MAX { 2.5 } else { 6.0 };
    let mut note = None;
    if let Some(full) = summary.filter(|_| placed.len() > DETAIL_MAX) {
        points = bins(&points, full);
        r = 0.0;
        note = Some(full.to_owned());
    }
    let count = |s: PointStatus| placed.iter().filter(|(v, _, _)| PointStatus::of(v) == s).count();
    let legend: Vec<Legend> = PointStatus::ALL
        .into_iter()
        .map(|s| Legend {
            id: s.id(),
            label: s.label(),
            count: count(s),
            cross: s == PointStatus::NoData,
        })
        .filter(|l| l.count > 0)
        .collect();
    let desc = format!(
        "{} đơn vị trên bản đồ: {}.",
        placed.len(),
        legend
            .iter()
            .map(|l| format!("{} {}", l.count, l.label.to_lowercase()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(Some(render(&MapView {
        title: title.to_owned(),
        desc,
        width: format!("{WIDTH:.0}"),
        height: format!("{height:.0}"),
        r: format!("{r}"),
        points,
        legend,
        unplaced: values.len() - placed.len(),
        full: note,
    })?))
}

/// Summary circles, one per square of [`BIN`] units: each at the mean of its points, sized by their number, coloured by
/// their most frequent status, its tooltip the counts of every status.
fn bins(points: &[Point], full: &str) -> Vec<Point> {
    let mut cells: std::collections::BTreeMap<(i64, i64), Vec<&Point>> = Default::default();
    for p in points {
        let (x, y) = (p.x.parse::<f64>().unwrap_or(0.0), p.y.parse::<f64>().unwrap_or(0.0));
        cells
            .entry(((x / BIN).floor() as i64, (y / BIN).floor() as i64))
            .or_default()
            .push(p);
    }
    cells
        .into_values()
        .map(|ps| {
            let n = ps.len() as f64;
            let (x, y) = ps.iter().fold((0.0, 0.0), |(x, y), p| {
                (
                    x + p.x.parse::<f64>().unwrap_or(0.0) / n,
                    y + p.y.parse::<f64>().unwrap_or(0.0) / n,
                )
            });
            let counts: Vec<(PointStatus, usize)> = PointStatus::ALL
                .into_iter()
                .map(|s| (s, ps.iter().filter(|p| p.status == s.id()).count()))
                .filter(|(_, c)| *c > 0)
                .collect();
            let top = counts
                .iter()
                .max_by_key(|(_, c)| *c)
                .map_or(PointStatus::NoData, |(s, _)| *s);
            Point {
                x: format!("{x:.1}"),
                y: format!("{y:.1}"),
                unit: String::new(),
                status: top.id(),
                cross: false,
                label: format!(
                    "{} đơn vị: {}",
                    ps.len(),
                    counts
                        .iter()
                        .map(|(s, c)| format!("{c} {}", s.label().to_lowercase()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                href: full.to_owned(),
                size: format!("{:.1}", 1.5 + 1.3 * n.sqrt()),
            }
        })
        .collect()
}
