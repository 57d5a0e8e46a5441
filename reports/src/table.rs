//! A table as people download it from a page: the same rows the page shows (filtered and sorted as
//! on screen, every page of them), as CSV for Excel (UTF-8 with a byte-order mark, or Excel reads
//! Vietnamese as mojibake) or as a formatted workbook. One home, so every table downloads alike.

use rust_xlsxwriter::{Format, Workbook};

use crate::{Error, Result, neutralise, style};

/// One cell: text, or a number kept as a number (so that a spreadsheet can sum it).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Int(i64),
    /// A number and the decimals to show it with.
    Num(f64, usize),
    Empty,
}

impl Value {
    /// A number when there is one, else empty.
    pub fn num(v: Option<f64>, places: usize) -> Value {
        v.map_or(Value::Empty, |v| Value::Num(v, places))
    }

    pub fn int(v: Option<i64>) -> Value {
        v.map_or(Value::Empty, Value::Int)
    }

    /// The cell as a CSV field: numbers with a point (what programs read), text made inert.
    fn csv(&self) -> String {
        match self {
            Value::Text(t) => neutralise(t),
            Value::Int(i) => i.to_string(),
            Value::Num(v, places) => format!("{v:.places$}"),
            Value::Empty => String::new(),
        }
    }
}

/// A titled table with its header.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// The sheet's title row (and the workbook's first line).
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    /// CSV with a UTF-8 byte-order mark and a header line (no title line: a program reading it wants
    /// the header first).
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        let render = |e: csv::Error| Error::Render(format!("csv: {e}"));
        let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
        w.write_record(&self.columns).map_err(render)?;
        for row in &self.rows {
            w.write_record(row.iter().map(Value::csv)).map_err(render)?;
        }
        w.into_inner().map_err(|e| Error::Render(format!("csv: {e}")))
    }

    /// A workbook of one sheet: the title, the bold header frozen under it, numbers as numbers with
    /// Vietnamese-looking formats left to the spreadsheet's locale, columns fitted to their text.
    pub fn to_xlsx(&self) -> Result<Vec<u8>> {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("Bang")?;
        ws.write_string_with_format(0, 0, &self.title, &style::bold())?;
        let head = style::head(Format::new().set_background_color(0xE8EEF4));
        for (c, name) in self.columns.iter().enumerate() {
            ws.write_string_with_format(2, c as u16, name, &head)?;
        }
        let text = style::bordered(Format::new());
        let int = style::figure("#,##0");
        let nums: Vec<Format> = (0..=4)
            .map(|p| {
                style::figure(&format!(
                    "#,##0{}",
                    if p == 0 {
                        String::new()
                    } else {
                        format!(".{}", "0".repeat(p))
                    }
                ))
            })
            .collect();
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count().min(40)).collect();
        for (r, row) in self.rows.iter().enumerate() {
            let r = 3 + r as u32;
            for (c, v) in row.iter().enumerate() {
                let col = c as u16;
                match v {
                    Value::Text(t) => ws.write_string_with_format(r, col, t, &text)?,
                    Value::Int(i) => ws.write_number_with_format(r, col, *i as f64, &int)?,
                    Value::Num(x, p) => ws.write_number_with_format(r, col, *x, &nums[(*p).min(4)])?,
                    Value::Empty => ws.write_blank(r, col, &text)?,
                };
                let len = match v {
                    Value::Text(t) => t.chars().count(),
                    Value::Empty => 0,
                    other => other.csv().len() + 2,
                };
                if let Some(w) = widths.get_mut(c) {
                    *w = (*w).max(len.min(60));
                }
            }
        }
        for (c, w) in widths.iter().enumerate() {
            ws.set_column_width(c as u16, (*w as f64 + 2.0).max(8.0))?;
        }
        ws.set_freeze_panes(3, 0)?;
        Ok(wb.save_to_buffer()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            title: "CDS-1 theo đơn vị".into(),
            columns: vec!["Đơn vị".into(), "Giá trị (%)".into(), "Tử số".into()],
            rows: vec![
                vec![
                    Value::Text("Phường Nghĩa Lộ".into()),
                    Value::Num(86.25, 2),
                    Value::Int(1234),
                ],
                vec![Value::Text("=HYPERLINK(\"x\")".into()), Value::Empty, Value::Int(0)],
            ],
        }
    }

    #[test]
    fn csv_opens_with_a_byte_order_mark_and_keeps_numbers_as_numbers() {
        let bytes = table().to_csv().unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "Excel needs the BOM to read UTF-8");
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert_eq!(
            text,
            "Đơn vị,Giá trị (%),Tử số\nPhường Nghĩa Lộ,86.25,1234\n\"'=HYPERLINK(\"\"x\"\")\",,0\n"
        );
    }

    #[test]
    fn the_workbook_holds_the_same_cells() {
        use calamine::{Data, Reader};
        let bytes = table().to_xlsx().unwrap();
        let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let range = wb.worksheet_range("Bang").unwrap();
        assert_eq!(range.get_value((0, 0)), Some(&Data::String("CDS-1 theo đơn vị".into())));
        assert_eq!(range.get_value((2, 1)), Some(&Data::String("Giá trị (%)".into())));
        assert_eq!(range.get_value((3, 1)), Some(&Data::Float(86.25)));
        assert_eq!(range.get_value((3, 2)), Some(&Data::Float(1234.0)));
        // A workbook cell is a string, never a formula: no apostrophe needed.
        assert_eq!(range.get_value((4, 0)), Some(&Data::String("=HYPERLINK(\"x\")".into())));
    }
}
