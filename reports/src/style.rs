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

/// A wrapped label cell.
pub(crate) fn label() -> Format {
    bordered(Format::new().set_text_wrap().set_align(FormatAlign::VerticalCenter))
}
