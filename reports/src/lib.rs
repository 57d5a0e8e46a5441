//! Reports: everything pbgdpl writes for people to read or fill — return templates and the Ministry
//! report (the forms workbook with rust_xlsxwriter, the narrative .docx), charts (plotters), and the
//! text the command line prints. Reports only format what the engine computed.

pub mod bundle;
pub mod charts;
pub mod narrative;
mod style;
pub mod table;
pub mod template;
pub mod text;
pub mod workbook;

use pbgdpl_catalog::Fault;

/// Errors of the reports crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error(transparent)]
    Engine(#[from] pbgdpl_engine::Error),
    /// A document or chart the writer could not produce: a bug.
    #[error("{0}")]
    Render(String),
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn fault(&self) -> Fault {
        match self {
            Error::Engine(e) => e.fault(),
            Error::Io { .. } => Fault::Operator,
            Error::Xlsx(_) | Error::Render(_) => Fault::Bug,
        }
    }
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
    pbgdpl_catalog::text::decimal_vi(v, places)
}
