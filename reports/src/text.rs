//! What the command line prints: import summaries, indicator tables (as text, JSON or CSV) and the
//! stored values in long form. Each function returns the text; the binary writes it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use pbgdpl_catalog::model::{ImportSummary, ReturnStatus, StoredValue};
use pbgdpl_catalog::text::{decimal_vi, group_vi};
use pbgdpl_catalog::{Catalog, Issue};
use pbgdpl_engine::IndicatorValue;

use crate::{Error, Result, neutralise};

/// How a table is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

fn csv_text(write: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    write(&mut w).map_err(|e| Error::Render(format!("csv: {e}")))?;
    let bytes = w.into_inner().map_err(|e| Error::Render(format!("csv: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Render(format!("csv: {e}")))
}

fn json_text(value: &impl serde::Serialize) -> Result<String> {
    let mut s = serde_json::to_string_pretty(value).map_err(|e| Error::Render(format!("json: {e}")))?;
    s.push('\n');
    Ok(s)
}

/// The human summary of an import: the returns that need attention (rejected, warned, changed), then
/// a table per unit, then the totals.
pub fn import_summary(catalog: &Catalog, summary: &ImportSummary, dry_run: bool) -> String {
    let mut out = String::new();
    for r in &summary.returns {
        let new_version = r.status == ReturnStatus::Accepted && r.version.unwrap_or(1) > 1;
        if r.status != ReturnStatus::Rejected && r.warnings.is_empty() && !new_version {
            continue;
        }
        let status = match r.status {
            ReturnStatus::Rejected => "BỊ TỪ CHỐI",
            _ if new_version => "phiên bản mới",
            _ => "đã nhận, có cảnh báo",
        };
        let what = [
            r.file.as_deref(),
            r.form.as_deref(),
            r.unit.as_deref(),
            r.period.as_deref(),
        ]
        .iter()
        .flatten()
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
        let _ = writeln!(out, "{status}: {what}");
        for e in &r.errors {
            let _ = writeln!(out, "{}", issue_line("lỗi", e));
        }
        for w in &r.warnings {
            let _ = writeln!(out, "{}", issue_line("cảnh báo", w));
        }
        for c in &r.changed {
            let before = c.before.as_deref().unwrap_or("trống");
            let after = c.after.as_deref().unwrap_or("trống");
            let _ = writeln!(
                out,
                "    thay đổi: dòng {} cột ({}) {before} → {after}",
                c.row, c.column
            );
        }
    }
    // Per unit: accepted (new), new versions, unchanged, rejected.
    let mut per_unit: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    for r in &summary.returns {
        let key = r.unit.clone().unwrap_or_else(|| "(không rõ)".into());
        let slot = match r.status {
            ReturnStatus::Accepted if r.version.unwrap_or(1) > 1 => 1,
            ReturnStatus::Accepted => 0,
            ReturnStatus::Unchanged => 2,
            ReturnStatus::Rejected => 3,
        };
        per_unit.entry(key).or_default()[slot] += 1;
    }
    let _ = writeln!(
        out,
        "\n{:<10} {:<34} {:>7} {:>9} {:>9} {:>9}",
        "Mã", "Đơn vị", "Đã nhận", "Bản mới", "Không đổi", "Từ chối"
    );
    for (unit, n) in &per_unit {
        let name = catalog.units.get(unit).map(|u| u.name.as_str()).unwrap_or("");
        let name: String = name.chars().take(34).collect();
        let _ = writeln!(
            out,
            "{unit:<10} {name:<34} {:>7} {:>9} {:>9} {:>9}",
            n[0], n[1], n[2], n[3]
        );
    }
    let total = |i: usize| per_unit.values().map(|n| n[i]).sum::<usize>();
    let _ = writeln!(
        out,
        "Tổng cộng: {} báo cáo — {} đã nhận, {} phiên bản mới, {} không đổi, {} bị từ chối{}",
        summary.returns.len(),
        total(0),
        total(1),
        total(2),
        total(3),
        if dry_run { " (chạy thử, không lưu)" } else { "" }
    );
    out
}

fn fmt_opt(v: Option<f64>, places: usize) -> String {
    v.map(|x| decimal_vi(x, places)).unwrap_or_else(|| "—".into())
}

/// One finding as the command line lists it: `    lỗi [rule] Sheet!B7: message`.
pub fn issue_line(kind: &str, e: &Issue) -> String {
    let place = match (&e.sheet, &e.cell) {
        (Some(s), Some(c)) => format!("{s}!{c}"),
        (Some(s), None) => s.clone(),
        (None, Some(c)) => c.clone(),
        (None, None) => "tệp".into(),
    };
    format!("    {kind} [{}] {place}: {}", e.rule.id(), e.message)
}

/// An indicator's value as people read it: `73,48 %`, `12,5 ‰`, `1.234`, or a dash; a survey
/// estimate with its 95 % interval, `87,50 % (±3,1)`.
pub fn value_text(v: &IndicatorValue) -> String {
    match v.value {
        Some(x) if v.measure == "%" || v.measure == "‰" => {
            format!("{} {}{}", decimal_vi(x, 2), v.measure, interval_text(v))
        }
        Some(x) => decimal_vi(x, 0),
        None => "—".into(),
    }
}

/// The 95 % margin of a survey estimate, ` (±3,1)`, marked when the sample is too small to publish;
/// empty for figures from the forms.
pub fn interval_text(v: &IndicatorValue) -> String {
    match &v.survey {
        Some(s) => {
            let margin = s
                .margin
                .map(|m| format!("±{}", decimal_vi(m, 1)))
                .unwrap_or_else(|| "±?".into());
            let small = if s.publishable { "" } else { "; mẫu nhỏ" };
            format!(" ({margin}{small})")
        }
        None => String::new(),
    }
}

/// Where a figure an indicator's survey can estimate came from: `khảo sát KS-CDS: 412 phiếu, 38 xã;
/// KTC 95 % 84,4–90,6 %` or `biểu 01`; `None` for indicators no survey estimates.
pub fn source_text(v: &IndicatorValue) -> Option<String> {
    match (&v.source, &v.survey) {
        (_, Some(s)) => {
            let interval = match (s.low, s.high) {
                (Some(l), Some(h)) => format!("; KTC 95 % {}–{} %", decimal_vi(l, 1), decimal_vi(h, 1)),
                _ => "; không tính được sai số (một cụm)".into(),
            };
            let small = if s.publishable {
                String::new()
            } else {
                format!(
                    "; cỡ mẫu hiệu dụng {} — chưa đủ để công bố",
                    s.effective.map(|e| decimal_vi(e, 0)).unwrap_or_else(|| "—".into())
                )
            };
            let unweighted = if s.unweighted_communes > 0 {
                format!("; {} xã chưa có dân số (trọng số 1)", s.unweighted_communes)
            } else {
                String::new()
            };
            Some(format!(
                "khảo sát {}: {} phiếu, {} xã{interval}{small}{unweighted}",
                s.survey,
                group_vi(s.respondents),
                v.reporting
            ))
        }
        (Some(_), None) => Some("biểu 01".into()),
        (None, None) => None,
    }
}

/// A unit's indicators period by period, one line per period and a column per indicator code, as
/// the demo prints its 2019–2026 timeline. `rows` are (period label, the unit's values).
pub fn timeline(codes: &[&str], rows: &[(String, Vec<IndicatorValue>)]) -> String {
    let mut out = String::new();
    let _ = write!(out, "{:<22}", "Kỳ");
    for c in codes {
        let _ = write!(out, " {c:>15}");
    }
    out.push('\n');
    for (label, values) in rows {
        let _ = write!(out, "{label:<22}");
        for c in codes {
            let text = values
                .iter()
                .find(|v| v.indicator == *c)
                .map(value_text)
                .unwrap_or_else(|| "—".into());
            let _ = write!(out, " {text:>15}");
        }
        out.push('\n');
    }
    out
}

/// Indicator values as `pbgdpl indicators` prints them.
pub fn indicators(values: &[IndicatorValue], format: Format) -> Result<String> {
    match format {
        Format::Json => json_text(&values),
        Format::Csv => csv_text(|w| {
            w.write_record([
                "indicator",
                "unit",
                "period",
                "value",
                "numerator",
                "denominator",
                "target",
                "status",
                "coverage",
                "basis",
                "source",
                "margin",
            ])?;
            for v in values {
                w.write_record([
                    v.indicator.clone(),
                    v.unit.clone(),
                    v.period.clone(),
                    v.value.map(|x| x.to_string()).unwrap_or_default(),
                    v.numerator.map(|x| x.to_string()).unwrap_or_default(),
                    v.denominator.map(|x| x.to_string()).unwrap_or_default(),
                    v.target.map(|x| x.to_string()).unwrap_or_default(),
                    v.status.map(|s| s.id().to_owned()).unwrap_or_default(),
                    v.coverage.map(|x| x.to_string()).unwrap_or_default(),
                    v.basis.clone().unwrap_or_default(),
                    v.source.clone().unwrap_or_default(),
                    v.survey
                        .as_ref()
                        .and_then(|s| s.margin)
                        .map(|m| m.to_string())
                        .unwrap_or_default(),
                ])?;
            }
            Ok(())
        }),
        Format::Table => {
            let mut out = String::new();
            let mut current = String::new();
            for v in values {
                if v.unit != current {
                    current = v.unit.clone();
                    let _ = writeln!(out, "\n{} ({}) — kỳ {}", v.unit_name, v.unit, v.period);
                    let _ = writeln!(
                        out,
                        "{:<6} {:>15} {:>10} {:<9} {:>9} {:>9}",
                        "Mã", "Giá trị", "Mục tiêu", "Đánh giá", "Chênh", "Bao phủ"
                    );
                }
                let _ = writeln!(
                    out,
                    "{:<6} {:>15} {:>10} {:<9} {:>9} {:>9}",
                    v.indicator,
                    value_text(v),
                    v.target
                        .map(|t| format!("≥ {}%", decimal_vi(t, 0)))
                        .unwrap_or_else(|| "—".into()),
                    v.status.map(|s| s.label()).unwrap_or("—"),
                    fmt_opt(v.gap, 2),
                    v.coverage
                        .map(|c| format!("{}%", decimal_vi(c * 100.0, 0)))
                        .unwrap_or_else(|| "—".into()),
                );
            }
            Ok(out)
        }
    }
}

/// The stored values in long form (`pbgdpl export`), as JSON or CSV. Text values (F03) are
/// neutralised in CSV: a spreadsheet opening it must not run them as formulas.
pub fn values(values: &[StoredValue], format: Format) -> Result<String> {
    match format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = values
                .iter()
                .map(|v| serde_json::json!({"unit": v.unit, "form": v.form, "row": v.row, "column": v.column, "value": v.value}))
                .collect();
            json_text(&rows)
        }
        Format::Csv | Format::Table => csv_text(|w| {
            w.write_record(["unit", "form", "row", "column", "value"])?;
            for v in values {
                w.write_record([
                    v.unit.clone(),
                    v.form.clone(),
                    v.row.clone(),
                    v.column.to_string(),
                    neutralise(&v.value.to_text()),
                ])?;
            }
            Ok(())
        }),
    }
}
