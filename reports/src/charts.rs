//! Charts (plotters): a trend across periods with the target line, a ranking of units, and the
//! indicators against their targets. The web pages get SVG, which keeps text as text (the browser's
//! fonts draw the Vietnamese labels); the .docx report gets PNG drawn at twice the screen density with
//! an embedded font, so the document needs no font on the machine that renders it. The same drawing
//! code serves both backends.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{Error, Result};

const GREEN: RGBColor = RGBColor(0x1a, 0x7f, 0x37);
const RED: RGBColor = RGBColor(0xcf, 0x22, 0x2e);
const BLUE: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);
const GREY: RGBColor = RGBColor(0x9a, 0xa0, 0xa6);
const DARK_GREY: RGBColor = RGBColor(0x4a, 0x4f, 0x55);

/// DejaVu Sans (Bitstream Vera licence, `fonts/LICENSE-DejaVu.txt`): it carries every Vietnamese
/// letter, and text metrics come from it for both backends.
static FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

fn err(e: impl std::fmt::Display) -> Error {
    Error::Render(format!("chart: {e}"))
}

/// Registers the embedded font once per process; plotters looks fonts up by family name.
fn fonts() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(err("the embedded font cannot be read"))
    }
}

fn svg(size: (u32, u32), draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<()>) -> Result<String> {
    fonts()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        draw(&root)?;
        root.present().map_err(err)?;
    }
    Ok(out)
}

/// A PNG image and its size in pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Png {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Pixels per metre of the PNGs: 192 dpi, twice the screen's 96, so that print stays sharp.
const PNG_DENSITY: u32 = 7559;

fn png(size: (u32, u32), draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<()>) -> Result<Png> {
    fonts()?;
    let (width, height) = size;
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        draw(&root)?;
        root.present().map_err(err)?;
    }
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_pixel_dims(Some(png::PixelDimensions {
            xppu: PNG_DENSITY,
            yppu: PNG_DENSITY,
            unit: png::Unit::Meter,
        }));
        let mut writer = encoder.write_header().map_err(err)?;
        writer.write_image_data(&rgb).map_err(err)?;
    }
    Ok(Png { bytes, width, height })
}

/// One point of a trend: the period's code (`2026S1` is a half-year, `2026P`/`2026` a year), the
/// value (none: a gap in the line) and the target in force for that period (targets change by phase).
#[derive(Debug, Clone, PartialEq)]
pub struct TrendPoint {
    pub label: String,
    pub value: Option<f64>,
    pub target: Option<f64>,
}

impl TrendPoint {
    /// A half-year's figure: drawn hollow, since it counts six months and reads lower than a year's.
    fn semiannual(&self) -> bool {
        self.label.ends_with("S1")
    }
}

/// A line of an indicator's value across periods — years filled, half-years hollow —, its target as a
/// dashed line that steps where a phase changes, the reorganisations as marks, and a legend under the
/// plot (never over the line). `target_label` names the target (e.g. its phase).
pub fn trend_svg(
    title: &str,
    points: &[TrendPoint],
    target_label: &str,
    marks: &[Mark],
    size: (u32, u32),
) -> Result<String> {
    svg(size, |root| trend(root, title, points, target_label, marks))
}

/// A sparkline for a tile: the line and its points (half-years hollow), the target dashed, the last
/// point emphasised; no axes, labels or legend — the tile's text says the value and its target.
pub fn sparkline_svg(points: &[TrendPoint], marks: &[Mark], size: (u32, u32)) -> Result<String> {
    svg(size, |root| sparkline(root, points, marks))
}

/// A vertical mark between two points of a trend: an event that changes what the line measures
/// (the 2025 reorganisation of units).
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// Index of the first point after the event: the mark is drawn just before it.
    pub before: usize,
    pub label: String,
}

/// The marks of the catalog's reorganisations on a trend over `periods` (in order): one before the
/// first period that ends after each reorganisation, where the one before it ended earlier.
pub fn reorganisation_marks(catalog: &pbgdpl_catalog::Catalog, periods: &[pbgdpl_catalog::Period]) -> Vec<Mark> {
    let ends: Vec<_> = periods.iter().map(|p| p.end(&catalog.periods)).collect();
    catalog
        .units
        .reorganisations()
        .into_iter()
        .filter_map(|day| {
            let before = (1..ends.len()).find(|&i| ends[i - 1] < day && ends[i] >= day)?;
            Some(Mark {
                before,
                label: format!("Sắp xếp ĐVHC {}", day.format("%d/%m/%Y")),
            })
        })
        .collect()
}

/// The runs of consecutive points with a value: a period without data breaks the line.
fn runs(points: &[TrendPoint]) -> Vec<Vec<(f64, f64)>> {
    let mut run: Vec<(f64, f64)> = Vec::new();
    let mut runs = Vec::new();
    for (i, p) in points.iter().enumerate() {
        match p.value {
            Some(v) => run.push((i as f64, v)),
            None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
            None => {}
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// The target as steps: one horizontal segment per run of periods with the same target.
fn target_steps(points: &[TrendPoint]) -> Vec<(f64, f64, f64)> {
    let mut steps: Vec<(f64, f64, f64)> = Vec::new();
    for (i, p) in points.iter().enumerate() {
        let Some(t) = p.target else { continue };
        match steps.last_mut() {
            Some(last) if last.2 == t && last.1 >= i as f64 - 0.5 - 1e-9 => last.1 = i as f64 + 0.5,
            _ => steps.push((i as f64 - 0.5, i as f64 + 0.5, t)),
        }
    }
    steps
}

fn top_of(points: &[TrendPoint]) -> f64 {
    let max = points
        .iter()
        .filter_map(|p| p.value)
        .chain(points.iter().filter_map(|p| p.target))
        .fold(0.0f64, f64::max);
    if max <= 0.0 { 100.0 } else { (max * 1.12).max(1.0) }
}

/// Years as filled dots, half-years as hollow ones.
fn dots<DB: DrawingBackend, CT: plotters::coord::CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'_, DB, CT>,
    points: &[TrendPoint],
    size: u32,
) -> Result<()> {
    chart
        .draw_series(points.iter().enumerate().filter_map(|(i, p)| {
            let v = p.value?;
            let style = if p.semiannual() {
                ShapeStyle::from(&BLUE).stroke_width(2)
            } else {
                BLUE.filled()
            };
            let fill = if p.semiannual() { WHITE.filled() } else { BLUE.filled() };
            Some(EmptyElement::at((i as f64, v)) + Circle::new((0, 0), size, fill) + Circle::new((0, 0), size, style))
        }))
        .map_err(err)?;
    Ok(())
}

fn trend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    points: &[TrendPoint],
    target_label: &str,
    marks: &[Mark],
) -> Result<()> {
    root.fill(&WHITE).map_err(err)?;
    let top = top_of(points);
    let n = points.len().max(1);
    let (w, h) = root.dim_in_pixel();
    // The legend gets a strip of its own under the plot.
    let (plot, legend) = root.split_vertically(h.saturating_sub(24));
    let mut chart = ChartBuilder::on(&plot)
        .caption(title, (FAMILY, 16))
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(44)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0.0f64..top)
        .map_err(err)?;
    let labels: Vec<String> = points.iter().map(|p| p.label.clone()).collect();
    // Every label when they fit, else every other one.
    let every = if n as u32 * 52 > w { 2 } else { 1 };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize).is_multiple_of(every) {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| crate::decimal(*y, 0))
        .draw()
        .map_err(err)?;
    for (from, to, t) in target_steps(points) {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(from, t), (to, t)],
                6,
                4,
                RED.stroke_width(2),
            ))
            .map_err(err)?;
    }
    for m in marks.iter().filter(|m| m.before > 0 && m.before < n) {
        let x = m.before as f64 - 0.5;
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x, 0.0), (x, top)],
                4,
                3,
                BLACK.mix(0.6).stroke_width(1),
            ))
            .map_err(err)?;
        if m.label.is_empty() {
            continue;
        }
        chart
            .draw_series(std::iter::once(Text::new(
                m.label.clone(),
                (x, top * 0.98),
                (FAMILY, 11).into_font().color(&BLACK.mix(0.8)),
            )))
            .map_err(err)?;
    }
    for r in runs(points) {
        chart
            .draw_series(LineSeries::new(r, BLUE.stroke_width(3)))
            .map_err(err)?;
    }
    dots(&mut chart, points, 4)?;
    // The legend: what the filled and hollow dots and the dashed line mean.
    let font = (FAMILY, 12).into_font().color(&DARK_GREY);
    let y = 12;
    let mut x = 52;
    legend
        .draw(&(EmptyElement::at((x, y)) + Circle::new((0, 0), 4, BLUE.filled())))
        .map_err(err)?;
    legend
        .draw(&Text::new("cả năm", (x + 8, y - 7), font.clone()))
        .map_err(err)?;
    x += 70;
    legend
        .draw(
            &(EmptyElement::at((x, y))
                + Circle::new((0, 0), 4, WHITE.filled())
                + Circle::new((0, 0), 4, ShapeStyle::from(&BLUE).stroke_width(2))),
        )
        .map_err(err)?;
    legend
        .draw(&Text::new("6 tháng", (x + 8, y - 7), font.clone()))
        .map_err(err)?;
    x += 78;
    if points.iter().any(|p| p.target.is_some()) {
        legend
            .draw(&PathElement::new(vec![(x - 6, y), (x + 12, y)], RED.stroke_width(2)))
            .map_err(err)?;
        legend
            .draw(&Text::new(target_label.to_owned(), (x + 18, y - 7), font))
            .map_err(err)?;
    }
    Ok(())
}

/// A sparkline's vertical range: the values and targets with a margin, at least 10 points tall — not
/// from zero, or a line of 80–85 % is flat against the top of a small box.
fn spark_range(points: &[TrendPoint]) -> (f64, f64) {
    let all: Vec<f64> = points.iter().flat_map(|p| [p.value, p.target]).flatten().collect();
    let (lo, hi) = all
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    if all.is_empty() {
        return (0.0, 100.0);
    }
    let pad = ((hi - lo) * 0.15).max((10.0 - (hi - lo)).max(0.0) / 2.0);
    ((lo - pad).max(0.0), hi + pad)
}

fn sparkline<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, points: &[TrendPoint], marks: &[Mark]) -> Result<()> {
    root.fill(&WHITE).map_err(err)?;
    let (bottom, top) = spark_range(points);
    let n = points.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .margin(6)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), bottom..top)
        .map_err(err)?;
    for (from, to, t) in target_steps(points) {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(from, t), (to, t)],
                4,
                3,
                RED.stroke_width(1),
            ))
            .map_err(err)?;
    }
    for m in marks.iter().filter(|m| m.before > 0 && m.before < n) {
        let x = m.before as f64 - 0.5;
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x, bottom), (x, top)],
                3,
                3,
                GREY.stroke_width(1),
            ))
            .map_err(err)?;
    }
    for r in runs(points) {
        chart
            .draw_series(LineSeries::new(r, BLUE.stroke_width(2)))
            .map_err(err)?;
    }
    dots(&mut chart, points, 2)?;
    if let Some((i, v)) = points
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, p)| p.value.map(|v| (i, v)))
    {
        chart
            .draw_series(std::iter::once(Circle::new((i as f64, v), 4, BLUE.filled())))
            .map_err(err)?;
    }
    Ok(())
}

/// Horizontal bars ranking units by value, green at or above the target, red below.
pub fn ranking_svg(title: &str, items: &[(String, f64)], target: Option<f64>, width: u32) -> Result<String> {
    let height = 60 + 22 * items.len().max(1) as u32;
    svg((width, height), |root| ranking(root, title, items, target))
}

fn ranking<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    items: &[(String, f64)],
    target: Option<f64>,
) -> Result<()> {
    root.fill(&WHITE).map_err(err)?;
    let max = items.iter().map(|i| i.1).chain(target).fold(0.0f64, f64::max);
    let right = if max <= 0.0 { 100.0 } else { max * 1.1 };
    let n = items.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FAMILY, 16))
        .margin(8)
        .x_label_area_size(24)
        .y_label_area_size(180)
        .build_cartesian_2d(0.0f64..right, (0..n as i32).into_segmented())
        .map_err(err)?;
    // Bars run from the top: item 0 is drawn in the highest band.
    let name_of = |band: i32| {
        items
            .get(n - 1 - band as usize)
            .map(|i| i.0.clone())
            .unwrap_or_default()
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(b) if (0..n as i32).contains(b) => name_of(*b),
            _ => String::new(),
        })
        .x_label_formatter(&|x| crate::decimal(*x, 0))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(items.iter().enumerate().map(|(i, (_, v))| {
            let band = (n - 1 - i) as i32;
            Rectangle::new(
                [(0.0, SegmentValue::Exact(band)), (*v, SegmentValue::Exact(band + 1))],
                against(Some(*v), target).filled(),
            )
        }))
        .map_err(err)?;
    if let Some(t) = target {
        let line = vec![(t, SegmentValue::Exact(0)), (t, SegmentValue::Exact(n as i32))];
        chart
            .draw_series(LineSeries::new(line, BLACK.stroke_width(2)))
            .map_err(err)?;
    }
    Ok(())
}

/// Green at or above the target, red below it, blue when there is no target.
fn against(value: Option<f64>, target: Option<f64>) -> RGBColor {
    match (value, target) {
        (Some(v), Some(t)) if v >= t => GREEN,
        (_, Some(_)) => RED,
        _ => BLUE,
    }
}

/// One indicator in the report's chart: its result, its target and, in the annual report, the
/// previous year's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: Option<f64>,
    pub target: Option<f64>,
    pub previous: Option<f64>,
}

/// Width of the report's charts on the page, in screen pixels (96 dpi): the text width of an A4 page
/// with the margins of Nghị định 30 is 16.5 cm.
pub const REPORT_CHART_WIDTH: u32 = 620;

/// Percentages of the indicators as horizontal bars with each one's target as a black mark and the
/// previous year as a grey bar beneath, for the .docx report. Drawn at twice [`REPORT_CHART_WIDTH`].
pub fn indicators_png(title: &str, bars: &[Bar]) -> Result<Png> {
    let height = 70 + 46 * bars.len().max(1) as u32;
    png((2 * REPORT_CHART_WIDTH, 2 * height), |root| {
        indicators(root, title, bars, 2)
    })
}

fn indicators<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str, bars: &[Bar], scale: u32) -> Result<()> {
    let s = |v: u32| v * scale;
    let sf = |v: f64| v * scale as f64;
    root.fill(&WHITE).map_err(err)?;
    let n = bars.len().max(1);
    let max = bars
        .iter()
        .flat_map(|b| [b.value, b.target, b.previous])
        .flatten()
        .fold(100.0f64, f64::max);
    // Room on the right for the figures printed after the bars.
    let right = max * 1.18;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FAMILY, sf(16.0)))
        .margin(s(8))
        .x_label_area_size(s(26))
        .y_label_area_size(s(64))
        .build_cartesian_2d(0.0f64..right, 0.0f64..n as f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_labels(6)
        .x_label_formatter(&|x| format!("{}%", crate::decimal(*x, 0)))
        .y_labels(0)
        .label_style((FAMILY, sf(12.0)))
        .axis_style(BLACK.stroke_width(s(1)))
        .light_line_style(WHITE)
        .bold_line_style(BLACK.mix(0.12).stroke_width(s(1)))
        .draw()
        .map_err(err)?;
    let figure = TextStyle::from((FAMILY, sf(12.0)).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    let name = TextStyle::from((FAMILY, sf(13.0)).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
    for (i, b) in bars.iter().enumerate() {
        let band = (n - 1 - i) as f64;
        // The label sits left of the axis, outside the plotting area, so it is drawn on the root.
        let (x, y) = chart.backend_coord(&(0.0, band + 0.5));
        root.draw(&Text::new(b.label.clone(), (x - s(6) as i32, y), name.clone()))
            .map_err(err)?;
        // The result on top of the band, the previous year beneath it when there is one.
        let (now, before) = if b.previous.is_some() {
            ((band + 0.5, band + 0.88), Some((band + 0.12, band + 0.44)))
        } else {
            ((band + 0.2, band + 0.8), None)
        };
        if let Some(v) = b.value {
            chart
                .draw_series([Rectangle::new(
                    [(0.0, now.0), (v, now.1)],
                    against(b.value, b.target).filled(),
                )])
                .map_err(err)?;
        }
        if let (Some(p), Some(span)) = (b.previous, before) {
            chart
                .draw_series([Rectangle::new([(0.0, span.0), (p, span.1)], GREY.filled())])
                .map_err(err)?;
        }
        if let Some(t) = b.target {
            chart
                .draw_series([PathElement::new(
                    vec![(t, band + 0.04), (t, band + 0.96)],
                    BLACK.stroke_width(s(3)),
                )])
                .map_err(err)?;
        }
        // Figures start after the bar or the target mark, whichever is further right, so that the
        // mark never crosses them.
        let after = |x: f64| x.max(b.target.unwrap_or(0.0)) + right * 0.005;
        let text = match b.value {
            Some(v) => Text::new(
                format!("{}%", crate::decimal(v, 1)),
                (after(v), (now.0 + now.1) / 2.0),
                figure.clone(),
            ),
            None => Text::new(
                "chưa có số liệu".to_owned(),
                (after(0.0), (now.0 + now.1) / 2.0),
                figure.clone(),
            ),
        };
        chart.draw_series([text]).map_err(err)?;
        if let (Some(p), Some(span)) = (b.previous, before) {
            chart
                .draw_series([Text::new(
                    format!("{}%", crate::decimal(p, 1)),
                    (after(p), (span.0 + span.1) / 2.0),
                    figure.clone().color(&DARK_GREY),
                )])
                .map_err(err)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trend_chart_snapshot() {
        let point = |label: &str, value, target| TrendPoint {
            label: label.into(),
            value,
            target,
        };
        let points = vec![
            point("2025", Some(71.5), None),
            point("2026S1", None, Some(80.0)),
            point("2026P", Some(80.4), Some(80.0)),
            point("2027S1", Some(66.0), Some(80.0)),
            point("2028", Some(85.0), Some(90.0)),
        ];
        let svg = trend_svg(
            "CDS-1 — Tỷ lệ tiếp cận (thành thị)",
            &points,
            "Mục tiêu (theo giai đoạn)",
            &[],
            (480, 240),
        )
        .unwrap();
        assert!(svg.contains("Tỷ lệ tiếp cận"), "Vietnamese text survives as text");
        assert!(
            svg.contains("6 tháng") && svg.contains("cả năm"),
            "the legend says which dot is which"
        );
        insta::assert_snapshot!(svg);
        // The target steps where the phase changes: two segments (80 for 2026S1..2027S1, 90 for 2028).
        assert_eq!(target_steps(&points), vec![(0.5, 3.5, 80.0), (3.5, 4.5, 90.0)]);
        // The sparkline spans 66–90 with a margin, not 0–100.
        let (lo, hi) = spark_range(&points);
        assert!((lo - 62.4).abs() < 1e-9 && (hi - 93.6).abs() < 1e-9, "{lo}..{hi}");
        assert_eq!(spark_range(&points[..1]), (66.5, 76.5), "a flat line gets 10 points");
        let spark = sparkline_svg(&points, &[], (230, 60)).unwrap();
        assert!(!spark.contains("<text"), "a sparkline has no labels: {spark}");
        insta::assert_snapshot!("sparkline", spark);
    }

    #[test]
    fn ranking_chart_snapshot() {
        let items = vec![("Phường Nghĩa Lộ".to_string(), 91.0), ("Xã An Phú".to_string(), 62.5)];
        let svg = ranking_svg("CDS-3 theo đơn vị", &items, Some(80.0), 480).unwrap();
        assert!(svg.contains("Xã An Phú"));
        insta::assert_snapshot!(svg);
    }

    /// Counts the pixels of each colour of a PNG drawn by [`indicators_png`].
    fn colours(png: &Png) -> std::collections::HashMap<[u8; 3], usize> {
        let decoder = png::Decoder::new(std::io::Cursor::new(&png.bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (png.width, png.height));
        let mut out = std::collections::HashMap::new();
        for px in buf[..info.buffer_size()].chunks(3) {
            *out.entry([px[0], px[1], px[2]]).or_default() += 1;
        }
        out
    }

    #[test]
    fn indicator_bars_colour_by_target() {
        let bar = |label: &str, value, target, previous| Bar {
            label: label.into(),
            value,
            target,
            previous,
        };
        let bars = vec![
            bar("CDS-1", Some(90.0), Some(80.0), Some(70.0)),
            bar("CDS-2", Some(40.0), Some(60.0), None),
            bar("CDS-3", None, Some(50.0), None),
        ];
        let png = indicators_png("Kết quả các chỉ tiêu", &bars).unwrap();
        assert_eq!(png.width, 2 * REPORT_CHART_WIDTH);
        let c = colours(&png);
        let count = |rgb: RGBColor| c.get(&[rgb.0, rgb.1, rgb.2]).copied().unwrap_or(0);
        // A bar of 90% over the plotting width is thousands of pixels; each colour is there.
        assert!(
            count(GREEN) > 5_000,
            "the bar above its target is green: {}",
            count(GREEN)
        );
        assert!(count(RED) > 2_000, "the bar below its target is red: {}", count(RED));
        assert!(count(GREY) > 2_000, "the previous year is grey: {}", count(GREY));
        // Only the first indicator has a previous year; without one nothing is grey.
        let none = indicators_png("", &bars[1..]).unwrap();
        let c = colours(&none);
        assert_eq!(c.get(&[GREY.0, GREY.1, GREY.2]), None);
        // The green bar is longer than the red one, in proportion to 90 : 40.
        assert!(count(GREEN) > 2 * count(RED) * 9 / 10 / 2);
    }
}
