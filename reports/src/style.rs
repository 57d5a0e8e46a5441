//! The cell formats every workbook pbgdpl writes shares: Times New Roman 12 (the administrative
//! documents' font), thin borders in tables, a centred bold title.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder};

/// Plain text in the documents' font.
pub(crate) fn text() -> Format {
    Format::new().set_font_name("Times New Roman").set_font_size(12)
}

/// A table cell: `f` with the documents' font and a thin border.
pub(crate) fn bordered(f: Format) -> Format {
    f.set_border(FormatBorder::Thin)
        .set_font_name("Times New Roman")
        .set_font_size(12)
}

pub(crate) fn bold() -> Format {
    text().set_bold()
}

pub(crate) fn title() -> Format {
    text()
        .set_bold()
        .set_font_size(14)
        .set_align(FormatAlign::Center)
        .set_text_wrap()
}

/// A table header cell (`extra` adds e.g. a background).
pub(crate) fn head(extra: Format) -> Format {
    bordered(
        extra
            .set_bold()
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter)
            .set_text_wrap(),
    )
}

/// Width, in characters, of the label column (Chỉ tiêu) of every form sheet; rows are fitted to it.
pub(crate) const LABEL_WIDTH: f64 = 60.0;

/// A bordered figure with a number format, centred vertically beside wrapped labels.
pub(crate) fn figure(num_format: &str) -> Format {
    bordered(
        Format::new()
            .set_num_format(num_format)
            .set_align(FormatAlign::VerticalCenter),
    )
}

/// A wrapped label cell.
pub(crate) fn label() -> Format {
    bordered(Format::new().set_text_wrap().set_align(FormatAlign::VerticalCenter))
}

/// Height of a table row in points, so that wrapped text shows whole when printed: spreadsheet
/// programs do not always fit rows to wrapped text on opening (LibreOffice keeps the default height
/// of rows written without one). `cells` are (text, column width in characters).
pub(crate) fn row_height(cells: &[(&str, f64)]) -> Option<f64> {
    // Times New Roman 12 fits a little more than one character per unit of column width (measured in
    // the default font's digits); a line is 15.75 pt. Erring on the tall side costs a blank line, on
    // the short side a clipped label.
    let lines = cells
        .iter()
        .map(|(text, width)| (text.chars().count() as f64 / (width * 1.15).max(1.0)).ceil().max(1.0))
        .fold(1.0f64, f64::max);
    (lines > 1.0).then_some(lines * 15.75)
}

/// Sets a row's height with [`row_height`] when its text needs more than one line.
pub(crate) fn fit_row(ws: &mut rust_xlsxwriter::Worksheet, row: u32, cells: &[(&str, f64)]) -> crate::Result<()> {
    if let Some(h) = row_height(cells) {
        ws.set_row_height(row, h)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::row_height;

    #[test]
    fn rows_grow_with_their_longest_wrapped_text() {
        assert_eq!(row_height(&[("Dân số trên địa bàn", 60.0)]), None);
        let long = "Số người dân được tiếp cận, tìm hiểu thông tin pháp luật thông qua cơ sở dữ liệu, ứng dụng số";
        assert_eq!(row_height(&[(long, 60.0)]), Some(2.0 * 15.75));
        assert_eq!(row_height(&[("x", 8.0), (long, 30.0)]), Some(3.0 * 15.75));
    }
}
