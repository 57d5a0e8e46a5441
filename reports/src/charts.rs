//! Charts as SVG (plotters): a trend across periods with the target line, and a ranking of units.
//! SVG keeps text as text, so Vietnamese labels are drawn by the browser's fonts, and the same SVG can
//! be embedded in pages and printed.

use plotters::prelude::*;

use crate::{Error, Result};

const GREEN: RGBColor = RGBColor(0x1a, 0x7f, 0x37);
const RED: RGBColor = RGBColor(0xcf, 0x22, 0x2e);
const BLUE: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);

fn err(e: impl std::fmt::Display) -> Error {
    Error::Input(format!("chart: {e}"))
}

/// A line of an indicator's value across periods, with its target as a dashed line.
/// `points` are (period label, value); a period without data leaves a gap.
pub fn trend_svg(
    title: &str,
    points: &[(String, Option<f64>)],
    target: Option<f64>,
    size: (u32, u32),
) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let max = points.iter().filter_map(|p| p.1).chain(target).fold(0.0f64, f64::max);
        let top = if max <= 0.0 { 100.0 } else { (max * 1.15).max(1.0) };
        let n = points.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0.0f64..top)
            .map_err(err)?;
        let labels: Vec<String> = points.iter().map(|p| p.0.clone()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|y| crate::decimal(*y, 0))
            .draw()
            .map_err(err)?;
        if let Some(t) = target {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(-0.5, t), (n as f64 - 0.5, t)],
                    6,
                    4,
                    RED.stroke_width(2),
                ))
                .map_err(err)?
                .label(format!("Mục tiêu {}", crate::decimal(t, 0)))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
        }
        // Consecutive periods with data are joined; a gap breaks the line.
        let mut run: Vec<(f64, f64)> = Vec::new();
        let mut runs = Vec::new();
        for (i, p) in points.iter().enumerate() {
            match p.1 {
                Some(v) => run.push((i as f64, v)),
                None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
                None => {}
            }
        }
        if !run.is_empty() {
            runs.push(run);
        }
        for r in &runs {
            chart
                .draw_series(LineSeries::new(r.clone(), BLUE.stroke_width(3)))
                .map_err(err)?;
            chart
                .draw_series(r.iter().map(|&(x, y)| Circle::new((x, y), 4, BLUE.filled())))
                .map_err(err)?;
        }
        if target.is_some() {
            chart
                .configure_series_labels()
                .border_style(BLACK)
                .background_style(WHITE.mix(0.8))
                .draw()
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Horizontal bars ranking units by value, green at or above the target, red below.
pub fn ranking_svg(title: &str, items: &[(String, f64)], target: Option<f64>, width: u32) -> Result<String> {
    let height = 60 + 22 * items.len().max(1) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let max = items.iter().map(|i| i.1).chain(target).fold(0.0f64, f64::max);
        let right = if max <= 0.0 { 100.0 } else { max * 1.1 };
        let n = items.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
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
                let color = match target {
                    Some(t) if *v >= t => GREEN,
                    Some(_) => RED,
                    None => BLUE,
                };
                Rectangle::new(
                    [(0.0, SegmentValue::Exact(band)), (*v, SegmentValue::Exact(band + 1))],
                    color.filled(),
                )
            }))
            .map_err(err)?;
        if let Some(t) = target {
            let line = vec![(t, SegmentValue::Exact(0)), (t, SegmentValue::Exact(n as i32))];
            chart
                .draw_series(LineSeries::new(line, BLACK.stroke_width(2)))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trend_chart_snapshot() {
        let points = vec![
            ("2025".to_string(), Some(71.5)),
            ("2026S1".to_string(), None),
            ("2026P".to_string(), Some(80.4)),
        ];
        let svg = trend_svg("CDS-1 — Tỷ lệ tiếp cận (thành thị)", &points, Some(80.0), (480, 240)).unwrap();
        assert!(svg.contains("Tỷ lệ tiếp cận"), "Vietnamese text survives as text");
        insta::assert_snapshot!(svg);
    }

    #[test]
    fn ranking_chart_snapshot() {
        let items = vec![("Phường Nghĩa Lộ".to_string(), 91.0), ("Xã An Phú".to_string(), 62.5)];
        let svg = ranking_svg("CDS-3 theo đơn vị", &items, Some(80.0), 480).unwrap();
        assert!(svg.contains("Xã An Phú"));
        insta::assert_snapshot!(svg);
    }
}
