//! Workbook bytes → sheets of cells, with the limits that keep a hostile file cheap.
//!
//! calamine has no size limits and Rust aborts on allocation failure, so everything that can be checked
//! before calamine allocates is checked here first: file size, the zip central directory (declared
//! inflated size and ratio), and for .xlsx the sheet extent while streaming cells.

use std::io::{Cursor, Read};

use calamine::{Data, DataRef, Ods, Reader, SheetType, Xls, Xlsb, Xlsx};
use chrono::NaiveDate;

use pbgdpl_catalog::model::{Issue, Rule};

/// The limits of `forms.md`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_file_bytes: u64,
    pub max_inflated_bytes: u64,
    pub max_ratio: u64,
    pub max_rows: u32,
    pub max_cols: u32,
    pub max_cell_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 20 * 1024 * 1024,
            max_inflated_bytes: 200 * 1024 * 1024,
            max_ratio: 100,
            max_rows: 10_000,
            max_cols: 200,
            max_cell_chars: 32_767,
        }
    }
}

/// A cell as pbgdpl sees it.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub enum Cell {
    #[default]
    Empty,
    Number(f64),
    Text(String),
    Bool(bool),
    Date(NaiveDate),
    /// A cached error value such as `#VALUE!`.
    Error(String),
}

impl Cell {
    pub fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(s) => Some(s),
            _ => None,
        }
    }
    /// The cell as text, numbers without a trailing `.0`.
    pub fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Number(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Cell::Number(f) => f.to_string(),
            Cell::Text(s) => s.clone(),
            Cell::Bool(b) => b.to_string(),
            Cell::Date(d) => d.format("%d/%m/%Y").to_string(),
            Cell::Error(e) => e.clone(),
        }
    }
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }
}

/// One sheet, dense, with absolute zero-based positions (row 0 = sheet row 1).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Grid {
    pub name: String,
    pub rows: Vec<Vec<Cell>>,
}

impl Grid {
    pub fn get(&self, row: usize, col: usize) -> &Cell {
        static EMPTY: Cell = Cell::Empty;
        self.rows.get(row).and_then(|r| r.get(col)).unwrap_or(&EMPTY)
    }
    pub fn width(&self) -> usize {
        self.rows.iter().map(Vec::len).max().unwrap_or(0)
    }
    fn set(&mut self, row: usize, col: usize, cell: Cell) {
        if self.rows.len() <= row {
            self.rows.resize_with(row + 1, Vec::new);
        }
        let r = &mut self.rows[row];
        if r.len() <= col {
            r.resize_with(col + 1, Cell::default);
        }
        r[col] = cell;
    }
}

/// The container a file really is, by its first bytes (never by its extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Office Open XML: .xlsx and .xlsm (macros are never run, only the cells read).
    Xlsx,
    /// Excel's binary workbook (.xlsb).
    Xlsb,
    /// Excel 97–2003 (.xls).
    Xls,
    Ods,
}

fn file_issue(rule: Rule, message: String) -> Issue {
    Issue::error(rule, message)
}

/// Reads every sheet of a workbook, or says why the file as a whole cannot be read.
pub fn read_sheets(bytes: &[u8], limits: &Limits) -> Result<Vec<Grid>, Issue> {
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(file_issue(
            Rule::TooLarge,
            format!(
                "Tệp quá lớn: {} byte, giới hạn {} MiB",
                bytes.len(),
                limits.max_file_bytes / 1024 / 1024
            ),
        )
        .expected(format!("≤ {} byte", limits.max_file_bytes), bytes.len().to_string()));
    }
    let format = sniff(bytes, limits)?;

    match format {
        Format::Xlsx => read_xlsx(bytes, limits),
        Format::Xlsb => read_xlsb(bytes, limits),
        Format::Xls => read_other::<Xls<_>>(bytes, limits),
        Format::Ods => read_other::<Ods<_>>(bytes, limits),
    }
}

/// Looks at the magic bytes and, for zip containers, at the central directory: the declared inflated
/// size and compression ratio are checked before a single entry is inflated.
pub fn sniff(bytes: &[u8], limits: &Limits) -> Result<Format, Issue> {
    let not_workbook = || {
        file_issue(
            Rule::NotAWorkbook,
            "Tệp không phải là bảng tính Excel (.xlsx, .xlsm, .xlsb, .xls) hoặc LibreOffice (.ods)".to_owned(),
        )
    };
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Ok(Format::Xls);
    }
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(not_workbook());
    }
    let corrupt = |e: &dyn std::fmt::Display| {
        file_issue(
            Rule::CorruptFile,
            format!("Tệp bảng tính bị hỏng hoặc không đầy đủ, không đọc được ({e})"),
        )
    };
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| corrupt(&e))?;
    let mut total: u64 = 0;
    let mut compressed: u64 = 0;
    let mut names = Vec::new();
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|e| corrupt(&e))?;
        total = total.saturating_add(entry.size());
        compressed = compressed.saturating_add(entry.compressed_size());
        names.push(entry.name().map(|n| n.into_owned()).unwrap_or_default());
    }
    let too_large = |why: String| file_issue(Rule::TooLarge, why);
    if total > limits.max_inflated_bytes {
        return Err(too_large(format!(
            "Tệp giải nén ra {} MiB, vượt giới hạn {} MiB",
            total / 1024 / 1024,
            limits.max_inflated_bytes / 1024 / 1024
        ))
        .expected(format!("≤ {} byte", limits.max_inflated_bytes), total.to_string()));
    }
    if compressed > 0 && total / compressed.max(1) > limits.max_ratio && total > 1024 * 1024 {
        return Err(too_large(format!(
            "Tỷ lệ nén bất thường ({}:1, giới hạn {}:1)",
            total / compressed.max(1),
            limits.max_ratio
        )));
    }
    if names.iter().any(|n| n == "xl/workbook.xml") {
        Ok(Format::Xlsx)
    } else if names.iter().any(|n| n == "xl/workbook.bin") {
        Ok(Format::Xlsb)
    } else if names.iter().any(|n| n == "content.xml") {
        Ok(Format::Ods)
    } else {
        Err(not_workbook())
    }
}

fn too_big_sheet(sheet: &str, limits: &Limits) -> Issue {
    file_issue(
        Rule::TooLarge,
        format!(
            "Trang tính \"{sheet}\" quá lớn: quá {} dòng hoặc {} cột có dữ liệu",
            limits.max_rows, limits.max_cols
        ),
    )
    .at(Some(sheet), None)
}

fn convert_text(s: &str, sheet: &str, limits: &Limits) -> Result<Cell, Issue> {
    if s.chars().count() > limits.max_cell_chars {
        return Err(file_issue(
            Rule::TooLarge,
            format!("Một ô của trang \"{sheet}\" dài quá {} ký tự", limits.max_cell_chars),
        )
        .at(Some(sheet), None));
    }
    Ok(Cell::Text(s.to_owned()))
}

fn convert(data: &Data, sheet: &str, limits: &Limits) -> Result<Cell, Issue> {
    Ok(match data {
        Data::Empty => Cell::Empty,
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::String(s) => convert_text(s, sheet, limits)?,
        Data::Bool(b) => Cell::Bool(*b),
        // The workbook's own date system decides what a serial means: Excel for Mac saves in the 1904
        // system, where the same date is 1,462 days less.
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(d) if dt.is_datetime() => Cell::Date(d.date()),
            _ => Cell::Number(dt.as_f64()),
        },
        Data::DateTimeIso(s) => match NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d") {
            Ok(d) => Cell::Date(d),
            Err(_) => Cell::Text(s.clone()),
        },
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Error(e.to_string()),
    })
}

fn read_xlsx(bytes: &[u8], limits: &Limits) -> Result<Vec<Grid>, Issue> {
    let corrupt =
        |e: &dyn std::fmt::Display| file_issue(Rule::CorruptFile, format!("Tệp .xlsx bị hỏng, không đọc được ({e})"));
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| corrupt(&e))?;
    let names = worksheets(wb.sheets_metadata());
    let mut grids = Vec::new();
    for name in names {
        let mut grid = Grid {
            name: name.clone(),
            rows: Vec::new(),
        };
        // Streaming cells lets us stop at the first cell beyond the limits, before calamine builds a
        // dense range that a crafted dimension could make terabytes large.
        let mut reader = wb.worksheet_cells_reader(&name).map_err(|e| corrupt(&e))?;
        while let Some(cell) = reader.next_cell().map_err(|e| corrupt(&e))? {
            let (r, c) = cell.get_position();
            let data: Data = match cell.get_value() {
                DataRef::SharedString(s) => Data::String((*s).to_owned()),
                other => Data::from(other.clone()),
            };
            place(&mut grid, r, c, &data, limits)?;
        }
        grids.push(grid);
    }
    Ok(grids)
}

/// One cell into its sheet's grid: empty cells are skipped, a cell beyond the limits stops
/// the file.
fn place(grid: &mut Grid, r: u32, c: u32, data: &Data, limits: &Limits) -> Result<(), Issue> {
    if *data == Data::Empty {
        return Ok(());
    }
    if r >= limits.max_rows || c >= limits.max_cols {
        return Err(too_big_sheet(&grid.name, limits));
    }
    let cell = convert(data, &grid.name, limits)?;
    grid.set(r as usize, c as usize, cell);
    Ok(())
}

/// The names of the sheets that hold cells: chart sheets, dialog and macro sheets and VBA modules are
/// passed over like any other sheet that is not a return.
fn worksheets(sheets: &[calamine::Sheet]) -> Vec<String> {
    sheets
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .collect()
}

fn read_xlsb(bytes: &[u8], limits: &Limits) -> Result<Vec<Grid>, Issue> {
    let corrupt =
        |e: &dyn std::fmt::Display| file_issue(Rule::CorruptFile, format!("Tệp .xlsb bị hỏng, không đọc được ({e})"));
    let mut wb: Xlsb<_> = Xlsb::new(Cursor::new(bytes)).map_err(|e| corrupt(&e))?;
    let names = worksheets(wb.sheets_metadata());
    let mut grids = Vec::new();
    for name in names {
        let mut grid = Grid {
            name: name.clone(),
            rows: Vec::new(),
        };
        // As for .xlsx: cells one by one, stopping at the first beyond the limits.
        let mut reader = wb.worksheet_cells_reader(&name).map_err(|e| corrupt(&e))?;
        while let Some(cell) = reader.next_cell().map_err(|e| corrupt(&e))? {
            let (r, c) = cell.get_position();
            place(&mut grid, r, c, &Data::from(cell.get_value().clone()), limits)?;
        }
        grids.push(grid);
    }
    Ok(grids)
}

fn read_other<R>(bytes: &[u8], limits: &Limits) -> Result<Vec<Grid>, Issue>
where
    R: Reader<Cursor<Vec<u8>>>,
    R::Error: std::fmt::Display,
{
    let corrupt = |e: &dyn std::fmt::Display| {
        file_issue(
            Rule::CorruptFile,
            format!("Tệp bảng tính bị hỏng, không đọc được ({e})"),
        )
    };
    // calamine's own cell limit is a size problem, not a broken file.
    let classify = |e: &dyn std::fmt::Display| {
        let text = e.to_string();
        if text.contains("limit exceeded") {
            file_issue(Rule::TooLarge, format!("Bảng tính quá lớn, không đọc được ({text})"))
        } else {
            corrupt(&text)
        }
    };
    let mut wb = R::new(Cursor::new(bytes.to_vec())).map_err(|e| classify(&e))?;
    let names = worksheets(wb.sheets_metadata());
    let mut grids = Vec::new();
    for name in names {
        let range = wb.worksheet_range(&name).map_err(|e| classify(&e))?;
        let mut grid = Grid {
            name: name.clone(),
            rows: Vec::new(),
        };
        let (r0, c0) = range.start().unwrap_or((0, 0));
        for (r, c, data) in range.used_cells() {
            place(&mut grid, r0 + r as u32, c0 + c as u32, data, limits)?;
        }
        grids.push(grid);
    }
    Ok(grids)
}

/// Reads a file's bytes, refusing anything over the size limit before reading it.
pub fn read_bytes(path: &std::path::Path, limits: &Limits) -> std::io::Result<Result<Vec<u8>, Issue>> {
    let meta = std::fs::metadata(path)?;
    if meta.len() > limits.max_file_bytes {
        return Ok(Err(file_issue(
            Rule::TooLarge,
            format!(
                "Tệp quá lớn: {} byte, giới hạn {} MiB",
                meta.len(),
                limits.max_file_bytes / 1024 / 1024
            ),
        )));
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)?
        .take(limits.max_file_bytes + 1)
        .read_to_end(&mut buf)?;
    Ok(Ok(buf))
}
