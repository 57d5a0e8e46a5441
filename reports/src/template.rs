//! Return workbooks in the canonical layout of `forms.md`: blank templates for units to fill, and the
//! same layout filled with values (the fixture generator's returns).

use pbgdpl_catalog::model::{CellValue, Value};
use pbgdpl_catalog::{Catalog, ColumnType, Form, Period, Unit};
use rust_xlsxwriter::{DataValidation, DataValidationRule, ExcelDateTime, Format, FormatAlign, Workbook, Worksheet};

use crate::Result;

/// First row of the table header (0-based): the title block sits above it.
pub const HEADER_ROW: u32 = 7;

struct Styles {
    bold: Format,
    title: Format,
    head: Format,
    number_row: Format,
    label: Format,
    input_count: Format,
    input_text: Format,
    input_date: Format,
    italic: Format,
}

fn styles() -> Styles {
    use crate::style::{bold, bordered, figure, head, label, text, title};
    Styles {
        bold: bold(),
        title: title(),
        head: head(Format::new()),
        number_row: bordered(Format::new().set_italic().set_align(FormatAlign::Center)),
        label: label(),
        input_count: figure("#,##0").set_unlocked(),
        input_text: bordered(Format::new().set_text_wrap().set_unlocked()),
        input_date: bordered(Format::new().set_num_format("dd/mm/yyyy").set_unlocked()),
        italic: text().set_italic().set_align(FormatAlign::Center),
    }
}

/// Writes one workbook holding one sheet per form, for a unit and a period, optionally filled.
pub fn return_workbook(
    catalog: &Catalog,
    unit: &Unit,
    period: &Period,
    forms: &[(&Form, Option<&[CellValue]>)],
) -> Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let st = styles();
    for (form, values) in forms {
        let ws = wb.add_worksheet();
        write_form_sheet(ws, &st, catalog, form, unit, period, *values)?;
    }
    // The metadata sheet is a shortcut for reading our own templates back, never a requirement.
    let meta = wb.add_worksheet();
    meta.set_name("_pbgdpl")?;
    meta.write_string(0, 0, "unit")?;
    meta.write_string(0, 1, &unit.code)?;
    meta.write_string(1, 0, "period")?;
    meta.write_string(1, 1, period.code())?;
    meta.write_string(2, 0, "forms")?;
    meta.write_string(
        2,
        1,
        forms.iter().map(|(f, _)| f.id.as_str()).collect::<Vec<_>>().join(","),
    )?;
    meta.set_hidden(true);
    Ok(wb.save_to_buffer()?)
}

#[allow(clippy::too_many_arguments)]
fn write_form_sheet(
    ws: &mut Worksheet,
    st: &Styles,
    catalog: &Catalog,
    form: &Form,
    unit: &Unit,
    period: &Period,
    values: Option<&[CellValue]>,
) -> Result<()> {
    ws.set_name(&form.sheet)?;
    let ncols = 3 + form.columns.len() as u16;
    let last = ncols - 1;
    ws.write_string_with_format(0, 0, format!("Biểu số {}", form.code), &st.bold)?;
    ws.write_string_with_format(1, 0, format!("Đơn vị báo cáo: {}", unit.name), &st.bold)?;
    ws.write_string_with_format(2, 0, format!("Mã đơn vị: {}", unit.code), &st.bold)?;
    let receiver = if catalog.province.receiver.is_empty() {
        "Sở Tư pháp".to_owned()
    } else {
        catalog.province.receiver.clone()
    };
    ws.write_string_with_format(3, 0, format!("Đơn vị nhận báo cáo: {receiver}"), &st.bold)?;
    ws.merge_range(4, 0, 4, last, &form.title, &st.title)?;
    ws.set_row_height(4, 36)?;
    ws.merge_range(
        5,
        0,
        5,
        last,
        &format!("Kỳ báo cáo: {} (Mã kỳ: {})", period.label(), period.code()),
        &st.italic,
    )?;
    let h = HEADER_ROW;
    let first_label = if form.rows_from_plan {
        "Nhiệm vụ"
    } else {
        "Chỉ tiêu"
    };
    let first_data = form_header(
        ws,
        &st.head,
        &st.number_row,
        h,
        form,
        first_label,
        ["(A)", "(B)", "(C)"],
    )?;
    ws.set_column_width(0, 8)?;
    ws.set_column_width(1, crate::style::LABEL_WIDTH)?;
    ws.set_column_width(2, 11)?;
    for (i, col) in form.columns.iter().enumerate() {
        let width = match col.kind {
            ColumnType::Count => 14.0,
            ColumnType::Status => 18.0,
            ColumnType::Date => 14.0,
            ColumnType::Text => 36.0,
        };
        ws.set_column_width(3 + i as u16, width)?;
    }
    let rows = catalog.rows_of(form, &unit.key, period);
    for (i, row) in rows.iter().enumerate() {
        let r = first_data + i as u32;
        // Row codes are text so that `01` keeps its zero.
        ws.write_string_with_format(r, 0, &row.code, &st.label)?;
        ws.write_string_with_format(r, 1, &row.label, &st.label)?;
        ws.write_string_with_format(r, 2, &row.unit, &st.label)?;
        crate::style::fit_row(ws, r, &[(&row.label, crate::style::LABEL_WIDTH)])?;
        for (j, col) in form.columns.iter().enumerate() {
            let c = 3 + j as u16;
            if !row.columns.contains(&col.number) {
                ws.write_blank(r, c, &st.label)?;
                continue;
            }
            let value = values.and_then(|vs| vs.iter().find(|v| v.row == row.code && v.column == col.number));
            match (col.kind, value.map(|v| &v.value)) {
                (ColumnType::Count, Some(Value::Int(n))) => {
                    ws.write_number_with_format(r, c, *n as f64, &st.input_count)?;
                }
                (ColumnType::Count, _) => {
                    ws.write_blank(r, c, &st.input_count)?;
                }
                (ColumnType::Date, Some(Value::Text(t))) => match ExcelDateTime::parse_from_str(t) {
                    Ok(d) => {
                        ws.write_datetime_with_format(r, c, &d, &st.input_date)?;
                    }
                    Err(_) => {
                        ws.write_string_with_format(r, c, t, &st.input_text)?;
                    }
                },
                (ColumnType::Date, _) => {
                    ws.write_blank(r, c, &st.input_date)?;
                }
                (_, Some(v)) => {
                    ws.write_string_with_format(r, c, v.to_text(), &st.input_text)?;
                }
                (_, None) => {
                    ws.write_blank(r, c, &st.input_text)?;
                }
            }
        }
    }
    let last_data = first_data + rows.len().max(1) as u32 - 1;
    for (j, col) in form.columns.iter().enumerate() {
        let c = 3 + j as u16;
        let dv = match col.kind {
            ColumnType::Count => DataValidation::new()
                .allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(0))
                .set_error_message("Ghi số nguyên không âm (để trống nếu không có số liệu)")?,
            ColumnType::Status => DataValidation::new().allow_list_strings(&col.choices)?,
            ColumnType::Date => DataValidation::new()
                .allow_date(DataValidationRule::GreaterThanOrEqualTo(ExcelDateTime::from_ymd(
                    2019, 1, 1,
                )?))
                .set_error_message("Ghi ngày theo dạng dd/mm/yyyy")?,
            ColumnType::Text => continue,
        };
        ws.add_data_validation(first_data, c, last_data, c, &dv)?;
    }
    let f = last_data + 2;
    ws.write_string_with_format(f, 1, "Người lập biểu", &st.bold)?;
    ws.write_string_with_format(f, 3, "Thủ trưởng đơn vị", &st.bold)?;
    ws.write_string_with_format(f + 1, 1, "(Ký, ghi rõ họ tên)", &st.italic)?;
    ws.write_string_with_format(f + 1, 3, "(Ký, ghi rõ họ tên, đóng dấu)", &st.italic)?;
    ws.write_string(f - 1, 3, "…, ngày … tháng … năm …")?;
    ws.set_paper_size(9); // A4
    if form.columns.len() > 3 {
        ws.set_landscape();
    } else {
        ws.set_portrait();
    }
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(h, first_data - 1)?;
    ws.set_freeze_panes(first_data, 3)?;
    // Only the input cells are unlocked: labels, codes and the title block cannot be edited by mistake.
    ws.protect();
    Ok(())
}

/// Writes a form's table header from row `h`: Mã số, the label and Đơn vị tính, then the value
/// columns, with the column-number row `(A) (B) (C) (1) (2)…` under them (readers find columns by
/// it). Columns that share a catalog `group` get it merged above their labels, and the other headers
/// are merged down both rows, as on the printed forms. Returns the first data row.
pub(crate) fn form_header(
    ws: &mut Worksheet,
    head: &Format,
    numbers: &Format,
    h: u32,
    form: &Form,
    first_label: &str,
    letters: [&str; 3],
) -> Result<u32> {
    let two_rows = form.columns.iter().any(|c| c.group.is_some());
    let label_row = if two_rows { h + 1 } else { h };
    let cell = |ws: &mut Worksheet, c: u16, text: &str| -> Result<()> {
        if two_rows {
            ws.merge_range(h, c, label_row, c, text, head)?;
        } else {
            ws.write_string_with_format(h, c, text, head)?;
        }
        Ok(())
    };
    for (c, text) in ["Mã số", first_label, "Đơn vị tính"].iter().enumerate() {
        cell(ws, c as u16, text)?;
    }
    let mut i = 0;
    while i < form.columns.len() {
        let col = &form.columns[i];
        let c = 3 + i as u16;
        match &col.group {
            Some(g) => {
                let span = form.columns[i..]
                    .iter()
                    .take_while(|o| o.group.as_ref() == Some(g))
                    .count();
                let last = c + span as u16 - 1;
                if span > 1 {
                    ws.merge_range(h, c, h, last, g, head)?;
                } else {
                    ws.write_string_with_format(h, c, g, head)?;
                }
                for (k, member) in form.columns[i..i + span].iter().enumerate() {
                    ws.write_string_with_format(label_row, c + k as u16, &member.label, head)?;
                }
                i += span;
            }
            None => {
                cell(ws, c, &col.label)?;
                i += 1;
            }
        }
    }
    let number_row = label_row + 1;
    for (c, text) in letters.iter().enumerate() {
        ws.write_string_with_format(number_row, c as u16, *text, numbers)?;
    }
    for (i, col) in form.columns.iter().enumerate() {
        ws.write_string_with_format(number_row, 3 + i as u16, format!("({})", col.number), numbers)?;
    }
    Ok(number_row + 1)
}

/// Every unit's blank returns for a period, zipped: one workbook per unit holding the forms it owes,
/// named `CODE_PERIOD.xlsx`, so that the Department can send each unit its file.
pub fn bulk_zip(catalog: &Catalog, period: &Period) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let date = period.end(&catalog.periods);
    for unit in catalog.units.list.iter().filter(|u| u.valid_on(date)) {
        let forms: Vec<_> = catalog.forms_due(unit, period).into_iter().map(|f| (f, None)).collect();
        if forms.is_empty() {
            continue;
        }
        let bytes = return_workbook(catalog, unit, period, &forms)?;
        zip.start_file(format!("{}_{}.xlsx", unit.code, period.code()), options)
            .map_err(|e| crate::Error::Render(e.to_string()))?;
        zip.write_all(&bytes).map_err(|e| crate::Error::Render(e.to_string()))?;
    }
    let cursor = zip.finish().map_err(|e| crate::Error::Render(e.to_string()))?;
    Ok(cursor.into_inner())
}
