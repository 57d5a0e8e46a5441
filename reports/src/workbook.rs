//! The Ministry report workbook: the forms aggregated for the province in the return layout, the
//! indicators against their targets, and reporting completeness.

use pbgdpl_catalog::{Form, Unit};
use pbgdpl_engine::{Cells, of_form};
use rust_xlsxwriter::{Chart, ChartType, Color, Format, Workbook, Worksheet};

use crate::bundle::Report;
use crate::style::LABEL_WIDTH;
use crate::{Result, neutralise};

struct Styles {
    title: Format,
    bold: Format,
    head: Format,
    cell: Format,
    number: Format,
    decimal: Format,
    late: Format,
}

fn styles() -> Styles {
    use crate::style::{bold, bordered, figure, head, label, title};
    Styles {
        title: title(),
        bold: bold(),
        head: head(Format::new().set_background_color(Color::RGB(0xDDEBF7))),
        cell: label(),
        number: figure("#,##0"),
        decimal: figure("#,##0.00"),
        late: bordered(Format::new().set_background_color(Color::RGB(0xFCE4D6))),
    }
}

/// Writes the report workbook and returns its bytes.
pub fn report_workbook(input: &Report<'_>) -> Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let st = styles();
    for form in input.catalog.forms.iter().filter(|f| f.is_numeric()) {
        let ws = wb.add_worksheet();
        ws.set_name(&form.sheet)?;
        write_form_totals(ws, &st, input, form)?;
    }
    if let Some(form) = input.catalog.task_form() {
        let ws = wb.add_worksheet();
        ws.set_name(&form.sheet)?;
        write_tasks(ws, &st, input, form)?;
    }
    let ws = wb.add_worksheet();
    ws.set_name("Chỉ tiêu")?;
    write_indicators(ws, &st, input)?;
    let ws = wb.add_worksheet();
    ws.set_name("Tình hình nộp báo cáo")?;
    write_completeness(ws, &st, input)?;
    // One sheet per reporting unit that sent numbers, in the order of the completeness sheet (the
    // view's units, then those of the period that no longer exist), named by its code (sheet names
    // are short; a code reused by a later unit gets a suffix).
    let mut seen: Vec<String> = Vec::new();
    for unit in unit_order(input) {
        if let Some(cells) = input.unit_values.get(&unit.key).filter(|c| !c.is_empty()) {
            let base = sheet_name(&unit.code);
            let mut name = base.clone();
            for n in 2.. {
                if !seen.contains(&name) {
                    break;
                }
                name = format!("{base} ({n})");
            }
            seen.push(name.clone());
            let ws = wb.add_worksheet();
            ws.set_name(&name)?;
            write_unit_sheet(ws, &st, input, unit, cells)?;
        }
    }
    Ok(wb.save_to_buffer()?)
}

/// The units that sent figures to the report, once each, in the completeness sheet's order, the
/// report's own unit left out.
fn unit_order<'a>(input: &'a Report<'_>) -> Vec<&'a Unit> {
    let mut out: Vec<&Unit> = Vec::new();
    for e in &input.completeness {
        if e.unit.key != input.unit && !out.iter().any(|u| u.key == e.unit.key) {
            out.push(e.unit);
        }
    }
    // Figures of a unit nothing was due from (a form it was not asked for) still get their sheet.
    for key in input.unit_values.keys() {
        if let Some(u) = input.catalog.units.get(key)
            && u.key != input.unit
            && !out.iter().any(|o| o.key == u.key)
        {
            out.push(u);
        }
    }
    out
}

/// A valid, unique-enough sheet name from a unit code (Excel: ≤ 31 characters, no `[]:*?/\`).
fn sheet_name(code: &str) -> String {
    code.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect()
}

/// A unit's own figures, every numeric form one block under the other.
fn write_unit_sheet(ws: &mut Worksheet, st: &Styles, input: &Report<'_>, unit: &Unit, cells: &Cells) -> Result<()> {
    ws.write_string_with_format(
        0,
        0,
        format!("{} ({}) — {}", unit.name, unit.code, input.period.label()),
        &st.bold,
    )?;
    let mut r = 2;
    for form in input.catalog.forms.iter().filter(|f| f.is_numeric()) {
        ws.write_string_with_format(r, 0, format!("Biểu số {}", form.code), &st.bold)?;
        r += 1;
        for (c, t) in ["Mã số", "Chỉ tiêu"].iter().enumerate() {
            ws.write_string_with_format(r, c as u16, *t, &st.head)?;
        }
        for (i, col) in form.columns.iter().enumerate() {
            ws.write_string_with_format(r, 2 + i as u16, format!("({}) {}", col.number, col.label), &st.head)?;
        }
        r += 1;
        for row in &form.rows {
            ws.write_string_with_format(r, 0, &row.code, &st.cell)?;
            ws.write_string_with_format(r, 1, &row.label, &st.cell)?;
            crate::style::fit_row(ws, r, &[(&row.label, LABEL_WIDTH)])?;
            for (i, col) in form.columns.iter().enumerate() {
                match cells.get(&(form.id.clone(), row.code.clone(), col.number)) {
                    Some(n) => ws.write_number_with_format(r, 2 + i as u16, *n as f64, &st.number)?,
                    None => ws.write_blank(r, 2 + i as u16, &st.cell)?,
                };
            }
            r += 1;
        }
        r += 1;
    }
    ws.set_column_width(0, 8)?;
    ws.set_column_width(1, LABEL_WIDTH)?;
    for c in 2..6 {
        ws.set_column_width(c, 16)?;
    }
    Ok(())
}

fn title_block(
    ws: &mut Worksheet,
    st: &Styles,
    input: &Report<'_>,
    code: &str,
    title: &str,
    last_col: u16,
) -> Result<()> {
    ws.write_string_with_format(0, 0, code, &st.bold)?;
    ws.write_string_with_format(
        1,
        0,
        format!("Đơn vị báo cáo: {}", input.catalog.province.receiver),
        &st.bold,
    )?;
    ws.write_string_with_format(2, 0, "Đơn vị nhận báo cáo: Ủy ban nhân dân tỉnh; Bộ Tư pháp", &st.bold)?;
    ws.merge_range(3, 0, 3, last_col, title, &st.title)?;
    ws.set_row_height(3, 36)?;
    ws.merge_range(
        4,
        0,
        4,
        last_col,
        &format!("{} — Kỳ báo cáo: {}", input.unit_name(), input.period.label()),
        &st.bold,
    )?;
    ws.set_paper_size(9);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    Ok(())
}

fn write_form_totals(ws: &mut Worksheet, st: &Styles, input: &Report<'_>, form: &Form) -> Result<()> {
    let last = 2 + form.columns.len() as u16;
    title_block(
        ws,
        st,
        input,
        &format!("Biểu số {} (tổng hợp)", form.code),
        &form.title,
        last,
    )?;
    let h = 6;
    let first_data = crate::template::form_header(ws, &st.head, &st.head, h, form, "Chỉ tiêu", ["(A)", "(B)", "(C)"])?;
    let sums = of_form(&input.totals, &form.id);
    for (i, row) in form.rows.iter().enumerate() {
        let r = first_data + i as u32;
        ws.write_string_with_format(r, 0, &row.code, &st.cell)?;
        ws.write_string_with_format(r, 1, &row.label, &st.cell)?;
        ws.write_string_with_format(r, 2, &row.unit, &st.cell)?;
        crate::style::fit_row(ws, r, &[(&row.label, LABEL_WIDTH)])?;
        for (j, col) in form.columns.iter().enumerate() {
            let c = 3 + j as u16;
            match sums.get(&(row.code.as_str(), col.number)) {
                Some(n) if row.columns.contains(&col.number) => {
                    ws.write_number_with_format(r, c, *n as f64, &st.number)?
                }
                _ => ws.write_blank(r, c, &st.cell)?,
            };
        }
    }
    ws.set_column_width(0, 8)?;
    ws.set_column_width(1, LABEL_WIDTH)?;
    ws.set_column_width(2, 11)?;
    for j in 0..form.columns.len() as u16 {
        ws.set_column_width(3 + j, 16)?;
    }
    ws.set_freeze_panes(first_data, 3)?;
    ws.set_repeat_rows(h, first_data - 1)?;
    Ok(())
}

/// Column widths of the task sheet: code, task, due, lead, status, date, result, difficulties.
const TASK_WIDTHS: [f64; 8] = [8.0, 50.0, 12.0, 28.0, 16.0, 14.0, 36.0, 36.0];

fn write_tasks(ws: &mut Worksheet, st: &Styles, input: &Report<'_>, form: &Form) -> Result<()> {
    title_block(
        ws,
        st,
        input,
        &format!("Biểu số {} (tổng hợp)", form.code),
        &form.title,
        7,
    )?;
    let h = 6;
    let heads = [
        "Mã số",
        "Nhiệm vụ",
        "Hạn",
        "Cơ quan chủ trì",
        "Tình trạng",
        "Ngày hoàn thành",
        "Kết quả, sản phẩm",
        "Khó khăn, vướng mắc",
    ];
    for (c, t) in heads.iter().enumerate() {
        ws.write_string_with_format(h, c as u16, *t, &st.head)?;
    }
    // A task led by every department and commune would list a hundred leads: those that sent
    // nothing this period are left out of such a task's lines.
    let sent_anything =
        |lead: &str| input.unit_values.contains_key(lead) || input.tasks.iter().any(|p| p.lead == lead && p.reported);
    let plans = input.plans();
    let mut r = h + 1;
    for plan in &plans {
        // With more than one plan in force (a merged province's, until the new one replaces it),
        // each plan's tasks sit under its name.
        if plans.len() > 1 {
            ws.merge_range(r, 0, r, heads.len() as u16 - 1, &plan.name, &st.bold)?;
            r += 1;
        }
        for task in &plan.tasks {
            let due = task.due.label();
            for p in input.tasks.iter().filter(|p| {
                p.plan == plan.id && p.task == task.code && (task.leads.len() <= 3 || sent_anything(&p.lead))
            }) {
                let f = if p.overdue() { &st.late } else { &st.cell };
                let lead_name = input
                    .catalog
                    .units
                    .get(&p.lead)
                    .map(|u| u.name.clone())
                    .unwrap_or_else(|| p.lead.clone());
                let cells = [
                    task.code.clone(),
                    task.title.clone(),
                    due.clone(),
                    lead_name,
                    p.status.clone().unwrap_or_else(|| "Chưa báo cáo".into()),
                    p.done_on.map(|d| d.format("%d/%m/%Y").to_string()).unwrap_or_default(),
                    p.result.clone().unwrap_or_default(),
                    p.difficulties.clone().unwrap_or_default(),
                ];
                for (c, text) in cells.iter().enumerate() {
                    ws.write_string_with_format(r, c as u16, neutralise(text), f)?;
                }
                let fit: Vec<(&str, f64)> = cells.iter().map(String::as_str).zip(TASK_WIDTHS).collect();
                crate::style::fit_row(ws, r, &fit)?;
                r += 1;
            }
        }
    }
    for (c, w) in TASK_WIDTHS.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_freeze_panes(h + 1, 2)?;
    Ok(())
}

fn write_indicators(ws: &mut Worksheet, st: &Styles, input: &Report<'_>) -> Result<()> {
    title_block(
        ws,
        st,
        input,
        "Chỉ tiêu Đề án",
        "KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU SO VỚI MỤC TIÊU",
        8,
    )?;
    let h = 6;
    let heads = [
        "Mã",
        "Chỉ tiêu",
        "Giá trị",
        "Đơn vị",
        "Mục tiêu",
        "Đánh giá",
        "Chênh lệch (điểm %)",
        "Tỷ lệ đơn vị báo cáo",
        "Nguồn mục tiêu",
        "Nguồn số liệu",
    ];
    for (c, t) in heads.iter().enumerate() {
        ws.write_string_with_format(h, c as u16, *t, &st.head)?;
    }
    for (r, v) in (h + 1..).zip(input.indicators.iter().filter(|v| v.unit == input.unit)) {
        ws.write_string_with_format(r, 0, &v.indicator, &st.cell)?;
        ws.write_string_with_format(r, 1, &v.name, &st.cell)?;
        crate::style::fit_row(ws, r, &[(&v.name, LABEL_WIDTH)])?;
        match v.value {
            Some(x) => ws.write_number_with_format(r, 2, x, &st.decimal)?,
            None => ws.write_string_with_format(r, 2, "Chưa có số liệu", &st.cell)?,
        };
        ws.write_string_with_format(r, 3, &v.measure, &st.cell)?;
        match v.target {
            Some(t) => ws.write_number_with_format(r, 4, t, &st.decimal)?,
            None => ws.write_blank(r, 4, &st.cell)?,
        };
        ws.write_string_with_format(r, 5, v.status.map(|s| s.label()).unwrap_or(""), &st.cell)?;
        match v.gap {
            Some(g) => ws.write_number_with_format(r, 6, g, &st.decimal)?,
            None => ws.write_blank(r, 6, &st.cell)?,
        };
        match v.coverage {
            Some(c) => ws.write_number_with_format(r, 7, c * 100.0, &st.decimal)?,
            None => ws.write_blank(r, 7, &st.cell)?,
        };
        ws.write_string_with_format(r, 8, v.target_source.as_deref().unwrap_or(""), &st.cell)?;
        // A survey estimate says so, with its interval; other figures are the forms'.
        let source = crate::text::source_text(v).unwrap_or_default();
        ws.write_string_with_format(r, 9, &source, &st.cell)?;
    }
    ws.set_column_width(9, 60)?;
    // A native Excel chart of the indicators that have targets: value against target, side by side.
    let targeted: Vec<u32> = (h + 1..)
        .zip(input.indicators.iter().filter(|v| v.unit == input.unit))
        .filter(|(_, v)| v.target.is_some())
        .map(|(r, _)| r)
        .collect();
    if let (Some(&first), Some(&last)) = (targeted.first(), targeted.last())
        && last - first + 1 == targeted.len() as u32
    {
        let sheet = "Chỉ tiêu";
        let mut chart = Chart::new(ChartType::Column);
        chart.title().set_name("Kết quả so với mục tiêu (%)");
        chart
            .add_series()
            .set_name("Giá trị")
            .set_categories((sheet, first, 0, last, 0))
            .set_values((sheet, first, 2, last, 2));
        chart
            .add_series()
            .set_name("Mục tiêu")
            .set_categories((sheet, first, 0, last, 0))
            .set_values((sheet, first, 4, last, 4));
        chart.y_axis().set_min(0).set_max(100);
        ws.insert_chart(last + 3, 1, &chart)?;
    }
    for (c, w) in [8.0, LABEL_WIDTH, 12.0, 8.0, 10.0, 10.0, 12.0, 12.0, 24.0]
        .iter()
        .enumerate()
    {
        ws.set_column_width(c as u16, *w)?;
    }
    Ok(())
}

fn write_completeness(ws: &mut Worksheet, st: &Styles, input: &Report<'_>) -> Result<()> {
    title_block(
        ws,
        st,
        input,
        "Tình hình nộp báo cáo",
        "TÌNH HÌNH GỬI BÁO CÁO CỦA CÁC ĐƠN VỊ",
        6,
    )?;
    let h = 6;
    for (c, t) in [
        "Mã đơn vị",
        "Đơn vị",
        "Biểu",
        "Hạn gửi",
        "Ngày nhận",
        "Phiên bản",
        "Tình trạng",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string_with_format(h, c as u16, *t, &st.head)?;
    }
    let mut r = h + 1;
    for e in &input.completeness {
        let fmt = if e.received.is_none() || e.late() {
            &st.late
        } else {
            &st.cell
        };
        let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.format("%d/%m/%Y").to_string()).unwrap_or_default();
        ws.write_string_with_format(r, 0, &e.unit.code, fmt)?;
        ws.write_string_with_format(r, 1, &e.unit.name, fmt)?;
        ws.write_string_with_format(r, 2, &e.form.id, fmt)?;
        ws.write_string_with_format(r, 3, date(e.deadline), fmt)?;
        ws.write_string_with_format(r, 4, date(e.received), fmt)?;
        match e.version {
            Some(v) => ws.write_number_with_format(r, 5, v as f64, fmt)?,
            None => ws.write_blank(r, 5, fmt)?,
        };
        ws.write_string_with_format(r, 6, e.status_label(), fmt)?;
        r += 1;
    }
    for (c, w) in [10.0, 36.0, 8.0, 12.0, 12.0, 10.0, 12.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_freeze_panes(h + 1, 2)?;
    ws.autofilter(h, 0, r.saturating_sub(1).max(h), 6)?;
    Ok(())
}
