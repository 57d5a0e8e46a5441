//! Validation of a return draft against the catalog: identity (form, unit, period), cell types, and the
//! rules each form declares. Errors reject the whole return; warnings are kept but do not block.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use crate::read::parse_date_text;
use pbgdpl_catalog::model::{CellValue, Issue, ReturnDraft, Rule, Value};
use pbgdpl_catalog::text::{fold, group_vi};
use pbgdpl_catalog::{Catalog, ColumnType, Form, FormRule, Period};

/// What the upload said about the return, and what "today" is.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub today: Option<NaiveDate>,
    /// The unit the upload is for (API field, reporter's own unit); a sheet naming another is rejected.
    pub unit: Option<String>,
    /// The period the upload is for (`ingest --period`, API field).
    pub period: Option<String>,
    /// The unit's values for the previous period of the same kind, for the `jump` warning.
    pub previous: HashMap<(String, u32), i64>,
    /// Periods that the Department has locked.
    pub locked_periods: Vec<String>,
}

/// Validates a draft. The draft's values are normalised in place (F03 statuses to the catalog's
/// spelling). Returns every issue found; the return is acceptable when none is an error.
pub fn validate(catalog: &Catalog, draft: &mut ReturnDraft, ctx: &Context) -> Vec<Issue> {
    let mut issues = Vec::new();
    let sheet = draft.sheet.clone();
    let sheet = sheet.as_deref();
    let Some(form) = draft.form.as_deref().and_then(|f| catalog.form(f)) else {
        let found = draft.form.clone().unwrap_or_default();
        issues.push(
            Issue::error(
                Rule::UnknownForm,
                format!("Biểu mẫu \"{found}\" không có trong danh mục"),
            )
            .at(sheet, None)
            .expected(
                catalog
                    .forms
                    .iter()
                    .map(|f| f.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                found,
            ),
        );
        return issues;
    };
    check_unit(catalog, form, draft, ctx, &mut issues);
    check_period(catalog, form, draft, ctx, &mut issues);
    check_values(form, draft, &mut issues);
    check_rows_present(form, draft, &mut issues);
    if form.rows_from_plan {
        check_tasks(catalog, form, draft, ctx, &mut issues);
    }
    check_rules(form, draft, ctx, &mut issues);
    issues
}

fn check_unit(catalog: &Catalog, form: &Form, draft: &ReturnDraft, ctx: &Context, issues: &mut Vec<Issue>) {
    let sheet = draft.sheet.as_deref();
    let cell = draft.unit_cell.as_deref();
    let Some(code) = draft.unit.as_deref() else {
        issues.push(
            Issue::error(
                Rule::UnknownUnit,
                "Không ghi mã đơn vị báo cáo (dòng \"Mã đơn vị: ...\")",
            )
            .at(sheet, cell),
        );
        return;
    };
    // A code names the unit that held it at the end of the return's period (codes are reused).
    let period = draft.period.as_deref().and_then(Period::parse);
    let on = period.map(|p| p.end(&catalog.periods));
    let found = match on {
        Some(date) => catalog.units.at(code, date),
        None => catalog.units.get(code),
    };
    let Some(unit) = found else {
        let message = match (catalog.units.get(code), period) {
            (Some(u), Some(p)) => format!(
                "Mã đơn vị \"{code}\" ({}) không có hiệu lực trong kỳ {}",
                u.name,
                p.label()
            ),
            _ => format!("Mã đơn vị \"{code}\" không có trong danh sách đơn vị của tỉnh"),
        };
        issues.push(
            Issue::error(Rule::UnknownUnit, message)
                .at(sheet, cell)
                .expected("mã đơn vị trong danh mục", code),
        );
        return;
    };
    // A sender bound to a unit sends for it and the units under it (a province's Department of
    // Justice, bound to the province on the Ministry's server, for all of the province's units).
    if let Some(want) = ctx
        .unit
        .as_deref()
        .filter(|w| *w != code && !catalog.units.is_within(code, w))
    {
        issues.push(
            Issue::error(
                Rule::UnitMismatch,
                format!("Báo cáo ghi đơn vị \"{code}\" nhưng được gửi cho đơn vị \"{want}\""),
            )
            .at(sheet, cell)
            .expected(want, code),
        );
    }
    if !form.filed_by.contains(&unit.kind) {
        issues.push(
            Issue::error(
                Rule::UnknownForm,
                format!(
                    "{} \"{}\" không thuộc đối tượng gửi biểu {}",
                    unit.kind.label(),
                    unit.name,
                    form.code
                ),
            )
            .at(sheet, cell),
        );
    }
}

fn check_period(catalog: &Catalog, form: &Form, draft: &ReturnDraft, ctx: &Context, issues: &mut Vec<Issue>) {
    let sheet = draft.sheet.as_deref();
    let cell = draft.period_cell.as_deref();
    let Some(code) = draft.period.as_deref() else {
        if !issues.iter().any(|i| i.rule == Rule::UnknownPeriod) {
            issues.push(
                Issue::error(Rule::UnknownPeriod, "Không ghi kỳ báo cáo (dòng \"Kỳ báo cáo: ...\")").at(sheet, cell),
            );
        }
        return;
    };
    let Some(period) = Period::parse(code) else {
        issues.push(
            Issue::error(
                Rule::UnknownPeriod,
                format!("Kỳ báo cáo \"{code}\" không hợp lệ (ví dụ 2026S1, 2026P, 2026)"),
            )
            .at(sheet, cell)
            .expected("YYYYS1 | YYYYP | YYYY", code),
        );
        return;
    };
    if !form.periods.contains(&period.kind) {
        issues.push(
            Issue::error(
                Rule::UnknownPeriod,
                format!("Biểu {} không báo cáo cho kỳ {}", form.code, period.label()),
            )
            .at(sheet, cell),
        );
    }
    if let Some(today) = ctx.today {
        let start = period.start(&catalog.periods);
        if start > today {
            issues.push(
                Issue::error(
                    Rule::FuturePeriod,
                    format!(
                        "Kỳ báo cáo {} chưa bắt đầu (từ ngày {})",
                        period.label(),
                        start.format("%d/%m/%Y")
                    ),
                )
                .at(sheet, cell)
                .expected(format!("kỳ bắt đầu trước {}", today.format("%d/%m/%Y")), period.code()),
            );
        }
    }
    if let Some(want) = ctx.period.as_deref().filter(|w| Period::parse(w) != Some(period)) {
        issues.push(
            Issue::error(
                Rule::PeriodMismatch,
                format!("Báo cáo ghi kỳ {} nhưng được gửi cho kỳ {want}", period.code()),
            )
            .at(sheet, cell)
            .expected(want, period.code()),
        );
    }
    if ctx.locked_periods.iter().any(|p| p == &period.code()) {
        issues.push(crate::pipeline::period_locked(&period.code()).at(sheet, cell));
    }
}

/// Values that came through the API: rows and columns must exist, types must fit, no cell twice.
fn check_values(form: &Form, draft: &mut ReturnDraft, issues: &mut Vec<Issue>) {
    let sheet = draft.sheet.clone();
    let mut seen = BTreeMap::new();
    let mut keep = Vec::with_capacity(draft.values.len());
    for v in std::mem::take(&mut draft.values) {
        let at = |i: Issue| i.at(sheet.as_deref(), v.cell.as_deref()).cell_of(&v.row, v.column);
        let Some(row) = form.match_row(&v.row) else {
            issues.push(at(Issue::error(
                Rule::UnknownRow,
                format!("Mã số \"{}\" không có trong biểu {}", v.row, form.code),
            )));
            continue;
        };
        let Some(col) = form.column(v.column).filter(|_| row.columns.contains(&v.column)) else {
            issues.push(at(Issue::error(
                Rule::UnknownRow,
                format!("Chỉ tiêu {} không có cột ({})", row.code, v.column),
            )));
            continue;
        };
        if seen.insert((row.code.clone(), v.column), ()).is_some() {
            issues.push(at(Issue::error(
                Rule::DuplicateRow,
                format!("Ô chỉ tiêu {} cột ({}) được ghi nhiều lần", row.code, v.column),
            )));
            continue;
        }
        let max = form.max_of(row);
        match (col.kind, &v.value) {
            (ColumnType::Count, Value::Int(n)) if *n > max => {
                issues.push(at(Issue::error(
                    Rule::OutOfRange,
                    format!(
                        "Giá trị {} vượt giới hạn hợp lý của chỉ tiêu {} ({}); hãy kiểm tra lại số liệu",
                        group_vi(*n),
                        row.code,
                        group_vi(max)
                    ),
                )
                .expected(format!("≤ {max}"), n.to_string())));
            }
            (ColumnType::Count, Value::Int(n)) if *n < 0 => {
                issues.push(at(Issue::error(
                    Rule::Negative,
                    format!("Giá trị {n} âm; số liệu phải là số nguyên không âm"),
                )
                .expected("≥ 0", n.to_string())));
            }
            (ColumnType::Count, Value::Text(t)) => {
                issues.push(at(Issue::error(Rule::NotANumber, format!("\"{t}\" không phải là số"))
                    .expected("số nguyên không âm", t.clone())));
            }
            (ColumnType::Date, Value::Text(t)) => match parse_date_text(t) {
                Some(d) => keep.push(CellValue {
                    row: row.code.clone(),
                    value: Value::Text(d.format("%Y-%m-%d").to_string()),
                    ..v
                }),
                None => issues.push(at(Issue::error(
                    Rule::InvalidDate,
                    format!("Ngày \"{t}\" không hợp lệ"),
                )
                .expected("YYYY-MM-DD", t.clone()))),
            },
            (ColumnType::Date | ColumnType::Status | ColumnType::Text, Value::Int(n))
                if col.kind != ColumnType::Text =>
            {
                issues.push(at(Issue::error(
                    Rule::InvalidStatus,
                    format!("Giá trị {n} không hợp lệ cho cột \"{}\"", col.label),
                )));
            }
            _ => keep.push(CellValue {
                row: row.code.clone(),
                ..v
            }),
        }
    }
    draft.values = keep;
}

/// Every row of the form appears in the sheet (only for returns read from a sheet: a JSON body lists
/// the cells it reports).
fn check_rows_present(form: &Form, draft: &ReturnDraft, issues: &mut Vec<Issue>) {
    if !form.require_all_rows || draft.sheet.is_none() {
        return;
    }
    for row in &form.rows {
        if !draft.row_cells.iter().any(|(code, _)| code == &row.code) {
            issues.push(
                Issue::error(
                    Rule::MissingRow,
                    format!(
                        "Biểu thiếu dòng mã số {} ({}); hãy dùng đúng mẫu biểu",
                        row.code, row.label
                    ),
                )
                .at(draft.sheet.as_deref(), None)
                .cell_of(&row.code, 0)
                .expected(format!("dòng mã số {}", row.code), "không có"),
            );
        }
    }
}

fn check_tasks(catalog: &Catalog, form: &Form, draft: &mut ReturnDraft, ctx: &Context, issues: &mut Vec<Issue>) {
    let sheet = draft.sheet.clone();
    // The rows are the tasks of the plan in force for the unit in the return's period.
    let (Some(unit), Some(period)) = (draft.unit.clone(), draft.period.as_deref().and_then(Period::parse)) else {
        return;
    };
    let plan = catalog.plan_for(&unit, period.end(&catalog.periods));
    let plan_issued = plan.map(|p| p.issued);
    let rows = catalog.rows_of(form, &unit, &period);
    let mut seen = Vec::new();
    for v in &draft.values {
        if !rows.iter().any(|r| r.code == v.row) && !seen.contains(&v.row) {
            seen.push(v.row.clone());
            let plan_name = plan.map_or("không có kế hoạch nào".to_owned(), |p| p.id.clone());
            issues.push(
                Issue::error(
                    Rule::UnknownRow,
                    format!(
                        "Nhiệm vụ {} không thuộc kế hoạch đang thực hiện cho kỳ {} ({plan_name})",
                        v.row,
                        period.label()
                    ),
                )
                .at(sheet.as_deref(), v.cell.as_deref())
                .cell_of(&v.row, v.column)
                .expected(
                    rows.iter().map(|r| r.code.as_str()).collect::<Vec<_>>().join(", "),
                    v.row.clone(),
                ),
            );
        }
    }
    let Some(status_col) = form.status_column() else {
        return;
    };
    let rows: Vec<String> = draft.values.iter().map(|v| v.row.clone()).collect();
    let mut rows = rows;
    rows.dedup();
    for row in rows {
        let status_idx = draft
            .values
            .iter()
            .position(|v| v.row == row && v.column == status_col.number);
        let date_col = status_col.date_column;
        let date = date_col.and_then(|dc| draft.values.iter().find(|v| v.row == row && v.column == dc));
        let date_addr = date.and_then(|d| d.cell.clone());
        let date_value = date.map(|d| d.value.to_text());
        let mut done = false;
        if let Some(i) = status_idx {
            let v = &mut draft.values[i];
            let text = v.value.to_text();
            match status_col.choices.iter().find(|c| fold(c) == fold(&text)) {
                Some(choice) => {
                    done = status_col.done.as_deref() == Some(choice.as_str());
                    v.value = Value::Text(choice.clone());
                }
                None => issues.push(
                    Issue::error(Rule::InvalidStatus, format!("Tình trạng \"{text}\" không hợp lệ"))
                        .at(sheet.as_deref(), v.cell.as_deref())
                        .cell_of(&row, status_col.number)
                        .expected(status_col.choices.join(" | "), text.clone()),
                ),
            }
        }
        let Some(dc) = date_col else { continue };
        let at = |i: Issue| i.at(sheet.as_deref(), date_addr.as_deref()).cell_of(&row, dc);
        match (
            done,
            date_value
                .as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
        ) {
            (true, None) => issues.push(at(Issue::error(
                Rule::InvalidDate,
                format!("Nhiệm vụ {row} đã hoàn thành nhưng chưa ghi ngày hoàn thành"),
            )
            .expected("dd/mm/yyyy", ""))),
            (_, Some(d)) => {
                if ctx.today.is_some_and(|t| d > t) {
                    issues.push(at(Issue::error(
                        Rule::InvalidDate,
                        format!("Ngày hoàn thành {} ở tương lai", d.format("%d/%m/%Y")),
                    )));
                }
                if plan_issued.is_some_and(|p| d < p) {
                    issues.push(at(Issue::error(
                        Rule::InvalidDate,
                        format!("Ngày hoàn thành {} trước ngày ban hành Kế hoạch", d.format("%d/%m/%Y")),
                    )));
                }
            }
            _ => {}
        }
    }
}

fn check_rules(form: &Form, draft: &ReturnDraft, ctx: &Context, issues: &mut Vec<Issue>) {
    let sheet = draft.sheet.as_deref();
    let get = |row: &str, col: u32| -> Option<(&CellValue, i64)> {
        draft
            .values
            .iter()
            .find(|v| v.row == row && v.column == col)
            .and_then(|v| v.value.as_i64().map(|n| (v, n)))
    };
    for rule in &form.rules {
        match rule {
            FormRule::Sum { rows, total, parts } => {
                for row in rows {
                    let Some((tv, t)) = get(row, *total) else {
                        continue;
                    };
                    let part_values: Option<Vec<i64>> = parts.iter().map(|p| get(row, *p).map(|(_, n)| n)).collect();
                    let Some(part_values) = part_values else {
                        continue;
                    };
                    // Wide arithmetic: the parts of a hostile return must not overflow the check.
                    let sum: i128 = part_values.iter().map(|&n| i128::from(n)).sum();
                    if sum != i128::from(t) {
                        let cols = parts.iter().map(|p| format!("({p})")).collect::<Vec<_>>().join(" + ");
                        issues.push(
                            Issue::error(
                                Rule::TotalMismatch,
                                format!(
                                    "Chỉ tiêu {row}: cột ({total}) = {} nhưng {cols} = {}",
                                    group_vi(t),
                                    group_vi(i64::try_from(sum).unwrap_or(i64::MAX))
                                ),
                            )
                            .at(sheet, tv.cell.as_deref())
                            .cell_of(row, *total)
                            .expected(sum.to_string(), t.to_string()),
                        );
                    }
                }
            }
            FormRule::PartOf { part, whole } => {
                for v in draft.values.iter().filter(|v| &v.row == part) {
                    let (Some(p), Some((_, w))) = (v.value.as_i64(), get(whole, v.column)) else {
                        continue;
                    };
                    if p > w {
                        issues.push(
                            Issue::error(
                                Rule::PartExceedsWhole,
                                format!(
                                    "Chỉ tiêu {part} cột ({}) = {} lớn hơn chỉ tiêu {whole} = {}",
                                    v.column,
                                    group_vi(p),
                                    group_vi(w)
                                ),
                            )
                            .at(sheet, v.cell.as_deref())
                            .cell_of(part, v.column)
                            .expected(format!("≤ {w}"), p.to_string()),
                        );
                    }
                }
            }
            FormRule::ColumnPartOf { part, whole } => {
                for v in draft.values.iter().filter(|v| v.column == *part) {
                    let (Some(p), Some((_, w))) = (v.value.as_i64(), get(&v.row, *whole)) else {
                        continue;
                    };
                    if p > w {
                        issues.push(
                            Issue::error(
                                Rule::PartExceedsWhole,
                                format!(
                                    "Chỉ tiêu {} cột ({part}) = {} lớn hơn cột ({whole}) = {}",
                                    v.row,
                                    group_vi(p),
                                    group_vi(w)
                                ),
                            )
                            .at(sheet, v.cell.as_deref())
                            .cell_of(&v.row, *part)
                            .expected(format!("≤ {w}"), p.to_string()),
                        );
                    }
                }
            }
            FormRule::Jump { factor } => {
                for v in &draft.values {
                    let (Some(now), Some(&before)) = (v.value.as_i64(), ctx.previous.get(&(v.row.clone(), v.column)))
                    else {
                        continue;
                    };
                    // Small counts move a lot without meaning anything; only flag established figures.
                    if before < 10 && now < 10 {
                        continue;
                    }
                    let (a, b) = (now.max(1) as f64, before.max(1) as f64);
                    if a / b > *factor || b / a > *factor {
                        issues.push(
                            Issue::warning(
                                Rule::Jump,
                                format!(
                                    "Chỉ tiêu {} cột ({}) = {} thay đổi bất thường so với kỳ trước ({})",
                                    v.row,
                                    v.column,
                                    group_vi(now),
                                    group_vi(before)
                                ),
                            )
                            .at(sheet, v.cell.as_deref())
                            .cell_of(&v.row, v.column)
                            .expected(format!("trong khoảng ×{factor} so với {before}"), now.to_string()),
                        );
                    }
                }
            }
        }
    }
}
