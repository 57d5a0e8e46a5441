//! Finding a return in a sheet: form, unit and period from the visible labels, rows by Mã số, value
//! columns by the column-number row `(1) (2) …` or, failing that, by header label.

use chrono::NaiveDate;

use super::grid::{Cell, Grid};
use pbgdpl_catalog::model::{CellValue, Issue, ReturnDraft, Rule, Value, a1};
use pbgdpl_catalog::text::{NumberError, clean, float_to_count, fold, parse_count_text};
use pbgdpl_catalog::{Catalog, ColumnType, Form, Period};

/// How many rows above the table may hold the title block.
const TITLE_ROWS: usize = 20;

/// Reads one sheet. `None` when the sheet is not a return at all (instructions, notes, scratch).
pub fn parse_sheet(catalog: &Catalog, grid: &Grid, file: &str) -> Option<(ReturnDraft, Vec<Issue>)> {
    let sheet = grid.name.as_str();
    let header = find_header(grid)?;
    let mut issues = Vec::new();
    let mut draft = ReturnDraft {
        file: Some(file.to_owned()),
        sheet: Some(sheet.to_owned()),
        ..ReturnDraft::default()
    };
    let title_end = header.row.min(TITLE_ROWS);
    let form = find_form(catalog, grid, title_end);
    match form {
        Some(f) => draft.form = Some(f.id.clone()),
        None => {
            issues.push(
                Issue::error(
                    Rule::UnknownForm,
                    format!(
                        "Trang \"{sheet}\" không ghi mã biểu mẫu nào của danh mục (ví dụ \"Biểu số 01/CĐS-PBGDPL\")"
                    ),
                )
                .at(Some(sheet), None),
            );
            return Some((draft, issues));
        }
    }
    let form = form?;
    read_title_block(grid, title_end, &mut draft, &mut issues);
    let columns = map_columns(grid, &header, form);
    if columns.is_empty() {
        issues.push(
            Issue::error(Rule::UnknownForm, format!("Trang \"{sheet}\": không nhận ra các cột số liệu (dòng số thứ tự cột (1), (2), ... hoặc tiêu đề cột)"))
                .at(Some(sheet), Some(&a1(header.row as u32, header.code_col as u32))),
        );
        return Some((draft, issues));
    }
    read_rows(grid, &header, form, &columns, &mut draft, &mut issues);
    Some((draft, issues))
}

struct Header {
    /// Row of the `Mã số` header.
    row: usize,
    code_col: usize,
    /// First row that may hold data.
    data_start: usize,
}

fn find_header(grid: &Grid) -> Option<Header> {
    for (r, row) in grid.rows.iter().enumerate().take(60) {
        for (c, cell) in row.iter().enumerate() {
            if let Cell::Text(t) = cell {
                let f = fold(t);
                if f == "ma so" || f == "ma so chi tieu" || f == "ma" || f == "ma nhiem vu" {
                    return Some(Header {
                        row: r,
                        code_col: c,
                        data_start: r + 1,
                    });
                }
            }
        }
    }
    None
}

fn find_form<'c>(catalog: &'c Catalog, grid: &Grid, title_end: usize) -> Option<&'c Form> {
    let texts = || {
        grid.rows
            .iter()
            .take(title_end)
            .flat_map(|r| r.iter())
            .filter_map(Cell::text)
    };
    // The form code is the reliable key; the title is a fallback for retyped forms that lost it.
    texts()
        .find_map(|t| catalog.forms.iter().find(|f| f.matches_code_label(t)))
        .or_else(|| texts().find_map(|t| catalog.forms.iter().find(|f| fold(&f.title) == fold(t))))
}

/// The text after a label's colon, or in the next non-empty cell to the right.
fn label_value(grid: &Grid, r: usize, c: usize, text: &str) -> String {
    let after = text.split_once([':', '：']).map(|(_, v)| clean(v)).unwrap_or_default();
    if !after.is_empty() {
        return after;
    }
    grid.rows[r]
        .iter()
        .skip(c + 1)
        .map(Cell::display)
        .map(|s| clean(&s))
        .find(|s| !s.is_empty())
        .unwrap_or_default()
}

fn read_title_block(grid: &Grid, title_end: usize, draft: &mut ReturnDraft, issues: &mut Vec<Issue>) {
    let sheet = grid.name.as_str();
    let mut period_label: Option<(String, String)> = None;
    for (r, row) in grid.rows.iter().enumerate().take(title_end) {
        for (c, cell) in row.iter().enumerate() {
            let Cell::Text(t) = cell else { continue };
            let f = fold(t);
            let addr = a1(r as u32, c as u32);
            if f.starts_with("ma don vi") {
                let v = label_value(grid, r, c, t);
                draft.unit = Some(v.trim_start_matches('\'').to_owned()).filter(|s| !s.is_empty());
                draft.unit_cell = Some(addr.clone());
            }
            if let Some(code) = period_code_in(&f) {
                draft.period = Some(code);
                draft.period_cell = Some(addr.clone());
            } else if f.starts_with("ky bao cao") && draft.period.is_none() {
                period_label = Some((label_value(grid, r, c, t), addr.clone()));
            }
        }
    }
    if draft.period.is_none()
        && let Some((label, addr)) = period_label
    {
        match parse_period_label(&label) {
            Some(p) => draft.period = Some(p.code()),
            None => issues.push(
                Issue::error(
                    Rule::UnknownPeriod,
                    format!(
                        "Không nhận ra kỳ báo cáo \"{label}\" (ví dụ: \"6 tháng đầu năm 2026\", \"Năm 2026 (sơ bộ)\")"
                    ),
                )
                .at(Some(sheet), Some(&addr))
                .expected("6 tháng đầu năm YYYY | Năm YYYY (sơ bộ) | Năm YYYY (chính thức)", label),
            ),
        }
        draft.period_cell = Some(addr);
    }
}

/// `(Mã kỳ: 2026S1)` in a folded text.
fn period_code_in(folded: &str) -> Option<String> {
    let i = folded.find("ma ky")?;
    let rest = folded[i + 5..].trim_start_matches([':', ' ']);
    let code: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    Period::parse(&code.to_uppercase()).map(|p| p.code())
}

/// "6 tháng đầu năm 2026", "Năm 2026 (sơ bộ)", "Năm 2026 (chính thức)", "Năm 2026".
pub fn parse_period_label(label: &str) -> Option<Period> {
    let f = fold(label);
    let year = f
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 4)
        .and_then(|w| w.parse::<i32>().ok())?;
    let code = if f.contains("6 thang") || f.contains("sau thang") {
        format!("{year}S1")
    } else if f.contains("so bo") {
        format!("{year}P")
    } else if f.starts_with("nam") || f.contains("chinh thuc") {
        format!("{year}")
    } else {
        return None;
    };
    Period::parse(&code)
}

/// Sheet column → form column number.
fn map_columns(grid: &Grid, header: &Header, form: &Form) -> Vec<(usize, u32)> {
    // The column-number row: `(1)`, `(2)`, ... within a few rows under the header.
    for r in header.row + 1..(header.row + 5).min(grid.rows.len()) {
        let mut found = Vec::new();
        for (c, cell) in grid.rows[r].iter().enumerate() {
            let t = clean(&cell.display());
            if let Some(n) = t
                .strip_prefix('(')
                .and_then(|s| s.strip_suffix(')'))
                .and_then(|s| s.parse::<u32>().ok())
                && form.column(n).is_some()
            {
                found.push((c, n));
            }
        }
        if !found.is_empty() {
            return found;
        }
    }
    // No number row: match the header labels (over up to three header rows, for merged headers).
    // The header ends where the first row code appears.
    let header_end = (header.row + 1..(header.row + 3).min(grid.rows.len()))
        .find(|&r| looks_like_code(&grid.get(r, header.code_col).display()))
        .unwrap_or((header.row + 3).min(grid.rows.len()));
    let mut found = Vec::new();
    let width = grid.width();
    for c in (header.code_col + 1)..width {
        let label: String = (header.row..header_end)
            .map(|r| fold(&grid.get(r, c).display()))
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if label.is_empty() {
            continue;
        }
        let hit = form
            .columns
            .iter()
            .find(|col| fold(&col.label) == label)
            .or_else(|| form.columns.iter().find(|col| label.ends_with(&fold(&col.label))));
        if let Some(col) = hit
            && !found.iter().any(|(_, n)| *n == col.number)
        {
            found.push((c, col.number));
        }
    }
    found
}

/// Whether a Mã số cell holds a code (`01`, `1`, `'01`, `NV03`, `II/1`) rather than a note or footer.
fn looks_like_code(raw: &str) -> bool {
    let s = clean(raw);
    let s = s.trim_start_matches('\'');
    if s.is_empty() || s.len() > 12 || s.contains(' ') {
        return false;
    }
    s.chars().any(|c| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '-'))
}

fn read_rows(
    grid: &Grid,
    header: &Header,
    form: &Form,
    columns: &[(usize, u32)],
    draft: &mut ReturnDraft,
    issues: &mut Vec<Issue>,
) {
    let sheet = grid.name.as_str();
    for r in header.data_start..grid.rows.len() {
        let code_cell = grid.get(r, header.code_col);
        let raw = code_cell.display();
        if !looks_like_code(&raw) {
            continue;
        }
        let addr = a1(r as u32, header.code_col as u32);
        let Some(row_def) = form.match_row(&raw) else {
            // A number row like `(1)` never gets here; a code that the form lacks is an error.
            issues.push(
                Issue::error(
                    Rule::UnknownRow,
                    format!("Mã số \"{}\" không có trong biểu {}", clean(&raw), form.code),
                )
                .at(Some(sheet), Some(&addr))
                .expected(
                    form.rows.iter().map(|r| r.code.as_str()).collect::<Vec<_>>().join(", "),
                    clean(&raw),
                ),
            );
            continue;
        };
        if draft.row_cells.iter().any(|(code, _)| code == &row_def.code) {
            issues.push(
                Issue::error(
                    Rule::DuplicateRow,
                    format!(
                        "Mã số {} xuất hiện nhiều lần; mỗi chỉ tiêu chỉ được ghi một dòng",
                        row_def.code
                    ),
                )
                .at(Some(sheet), Some(&addr))
                .cell_of(&row_def.code, 0)
                .expected("một dòng", "nhiều dòng"),
            );
            continue;
        }
        draft.row_cells.push((row_def.code.clone(), addr));
        for &(c, number) in columns {
            if !row_def.columns.contains(&number) {
                continue;
            }
            let Some(col) = form.column(number) else {
                continue;
            };
            let cell = grid.get(r, c);
            let addr = a1(r as u32, c as u32);
            let at = |i: Issue| i.at(Some(sheet), Some(&addr)).cell_of(&row_def.code, number);
            let value = match col.kind {
                ColumnType::Count => read_count(cell)
                    .map_err(|(rule, msg, found)| at(Issue::error(rule, msg).expected("số nguyên không âm", found))),
                ColumnType::Date => read_date(cell).map_err(|found| {
                    at(Issue::error(
                        Rule::InvalidDate,
                        format!("Ngày \"{found}\" không hợp lệ; ghi theo dạng dd/mm/yyyy"),
                    )
                    .expected("dd/mm/yyyy", found))
                }),
                ColumnType::Status | ColumnType::Text => Ok(match cell {
                    Cell::Empty => None,
                    Cell::Error(e) => {
                        issues.push(at(Issue::error(Rule::ErrorCell, format!("Ô chứa giá trị lỗi {e}"))
                            .expected("văn bản", e.clone())));
                        None
                    }
                    other => Some(Value::Text(clean(&other.display()))).filter(|v| v != &Value::Text(String::new())),
                }),
            };
            match value {
                Ok(Some(v)) => draft.values.push(CellValue {
                    row: row_def.code.clone(),
                    column: number,
                    value: v,
                    cell: Some(addr),
                }),
                Ok(None) => {}
                Err(issue) => issues.push(issue),
            }
        }
    }
}

/// A count cell: empty is "not reported", never zero.
fn read_count(cell: &Cell) -> Result<Option<Value>, (Rule, String, String)> {
    let (parsed, found) = match cell {
        Cell::Empty => return Ok(None),
        Cell::Text(t) if t.trim().is_empty() => return Ok(None),
        Cell::Number(f) => (float_to_count(*f), cell.display()),
        Cell::Text(t) => (parse_count_text(t), t.clone()),
        Cell::Error(e) => {
            return Err((
                Rule::ErrorCell,
                format!("Ô chứa giá trị lỗi {e} (công thức lỗi); hãy sửa công thức hoặc ghi số"),
                e.clone(),
            ));
        }
        Cell::Bool(_) | Cell::Date(_) => (Err(NumberError::NotANumber), cell.display()),
    };
    match parsed {
        Ok(v) if v < 0 => Err((
            Rule::Negative,
            format!("Giá trị {v} âm; số liệu phải là số nguyên không âm"),
            found,
        )),
        Ok(v) => Ok(Some(Value::Int(v))),
        Err(NumberError::Fraction) => Err((
            Rule::Fraction,
            format!("Giá trị \"{found}\" có phần thập phân; chỉ tiêu này phải là số nguyên"),
            found,
        )),
        Err(NumberError::NotANumber) => Err((Rule::NotANumber, format!("\"{found}\" không phải là số"), found)),
    }
}

/// A date cell: a real date, `dd/mm/yyyy` text, or ISO text; stored as ISO `YYYY-MM-DD`.
fn read_date(cell: &Cell) -> Result<Option<Value>, String> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Date(d) => Ok(Some(Value::Text(d.format("%Y-%m-%d").to_string()))),
        Cell::Text(t) if t.trim().is_empty() => Ok(None),
        Cell::Text(t) => parse_date_text(t)
            .map(|d| Some(Value::Text(d.format("%Y-%m-%d").to_string())))
            .ok_or_else(|| t.clone()),
        other => Err(other.display()),
    }
}

/// `dd/mm/yyyy` (also with `-` or `.`), or ISO `YYYY-MM-DD`.
pub fn parse_date_text(t: &str) -> Option<NaiveDate> {
    let t = clean(t);
    NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok().or_else(|| {
        ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"]
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(&t, f).ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_labels() {
        let cases = [
            ("6 tháng đầu năm 2026", Some("2026S1")),
            ("Năm 2026 (sơ bộ)", Some("2026P")),
            ("Năm 2026 (chính thức)", Some("2026")),
            ("Năm 2026", Some("2026")),
            ("NĂM 2025 (SƠ BỘ)", Some("2025P")),
            ("Quý 3 năm 2026", None),
            ("6 tháng", None),
        ];
        for (label, want) in cases {
            assert_eq!(parse_period_label(label).map(|p| p.code()).as_deref(), want, "{label}");
        }
        assert_eq!(period_code_in(&fold("(Mã kỳ: 2026S1)")).as_deref(), Some("2026S1"));
    }

    #[test]
    fn code_cells() {
        for yes in ["01", "1", "'01", "NV03", "II/1", "1.0"] {
            assert!(looks_like_code(yes), "{yes}");
        }
        for no in ["", "Người lập biểu", "(A)", "Ghi chú: số liệu ước tính"] {
            assert!(!looks_like_code(no), "{no}");
        }
    }
}
