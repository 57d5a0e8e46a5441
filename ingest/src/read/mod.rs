//! Reading returns from workbooks (.xlsx, .xls, .ods) into drafts, and from files and folders.

pub mod grid;
pub mod isolate;
pub mod layout;

pub use grid::{Cell, Grid, Limits};
pub use layout::{parse_date_text, parse_period_label};

use pbgdpl_catalog::Catalog;
use pbgdpl_catalog::model::{Issue, ReturnDraft, Rule};

/// What one workbook gave: a draft per return sheet, each with the issues found while reading it, or
/// one file-level issue when the file as a whole could not be read.
#[derive(Debug)]
pub enum WorkbookOutcome {
    Returns(Vec<(ReturnDraft, Vec<Issue>)>),
    FileRejected(Issue),
}

/// Reads the returns in a workbook's bytes, in this process.
pub fn read_workbook(catalog: &Catalog, file: &str, bytes: &[u8], limits: &Limits) -> WorkbookOutcome {
    returns_in(catalog, file, grid::read_sheets(bytes, limits))
}

/// The returns in sheets already read (in this process or by an isolated worker).
pub fn returns_in(catalog: &Catalog, file: &str, sheets: Result<Vec<Grid>, Issue>) -> WorkbookOutcome {
    let grids = match sheets {
        Ok(g) => g,
        Err(issue) => return WorkbookOutcome::FileRejected(issue),
    };
    let returns: Vec<_> = grids
        .iter()
        .filter_map(|g| layout::parse_sheet(catalog, g, file))
        .collect();
    if returns.is_empty() {
        return WorkbookOutcome::FileRejected(Issue::error(
            Rule::UnknownForm,
            "Tệp không có trang nào là biểu mẫu báo cáo (không tìm thấy cột \"Mã số\" và mã biểu như \"Biểu số 01/CĐS-PBGDPL\")",
        ));
    }
    WorkbookOutcome::Returns(returns)
}
