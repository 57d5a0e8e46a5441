//! Reports: everything pbgdpl writes for people to read or fill — return templates and the Ministry
//! report workbook (rust_xlsxwriter), and charts (plotters).

pub mod bundle;
pub mod charts;
pub mod narrative;
mod style;
pub mod template;
pub mod workbook;

/// Errors of the reports crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("{0}")]
    Input(String),
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Text for a spreadsheet cell that cannot be read as a formula by a spreadsheet program that
/// re-parses it (CSV import, copy-paste): a leading `=`, `+`, `-` or `@` gets an apostrophe.
pub fn neutralise(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// A number the Vietnamese way (`1.234,5`).
pub fn decimal(v: f64, places: usize) -> String {
    pbgdpl_ingest::text::decimal_vi(v, places)
}
