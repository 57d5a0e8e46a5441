//! The shapes a return takes on its way through pbgdpl: drafts as read, values, the issues found in
//! them, the import summary of `ingest --json` and the API, and the records the store gives back.

use serde::{Deserialize, Serialize};

/// One value of a return cell. Counts are integers; F03 cells are text (statuses, dates, free text).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Int(i64),
    Text(String),
}

impl Value {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(v) => Some(*v),
            Value::Text(_) => None,
        }
    }
    /// The canonical text stored for the value (numbers without grouping).
    pub fn to_text(&self) -> String {
        match self {
            Value::Int(v) => v.to_string(),
            Value::Text(s) => s.clone(),
        }
    }
}

/// One filled cell of a return, with where it came from in the sheet (if it came from a sheet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellValue {
    pub row: String,
    pub column: u32,
    pub value: Value,
    /// A1 address in the source sheet; `None` for values that came through the API.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cell: Option<String>,
}

/// A return as read from a sheet or a JSON body, before validation: form, unit and period may still be
/// unknown when the sheet did not say them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReturnDraft {
    pub file: Option<String>,
    pub sheet: Option<String>,
    pub form: Option<String>,
    pub unit: Option<String>,
    pub period: Option<String>,
    pub values: Vec<CellValue>,
    /// A1 addresses of the labels that named unit and period, for error messages.
    #[serde(skip)]
    pub unit_cell: Option<String>,
    #[serde(skip)]
    pub period_cell: Option<String>,
    /// A1 address of each row code cell, by row id (for `duplicate_row`, `missing_row`).
    #[serde(skip)]
    pub row_cells: Vec<(String, String)>,
}

/// Whether an issue blocks the return.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// The rule ids of `forms.md`: the contract scripts rely on.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    Negative,
    Fraction,
    NotANumber,
    ErrorCell,
    TotalMismatch,
    PartExceedsWhole,
    DuplicateRow,
    UnknownRow,
    MissingRow,
    UnknownForm,
    UnknownUnit,
    UnknownPeriod,
    FuturePeriod,
    PeriodMismatch,
    UnitMismatch,
    PeriodLocked,
    InvalidStatus,
    InvalidDate,
    NotAWorkbook,
    CorruptFile,
    TooLarge,
    /// A count beyond the plausible bound the catalog sets (a typo, or a hostile number).
    OutOfRange,
    Jump,
    /// Survey files: a column the survey definition needs is not in the header.
    MissingColumn,
    /// An answer that is not one the survey admits.
    BadAnswer,
    /// A blank answer to a required question.
    MissingAnswer,
    /// A residence that is neither urban nor rural.
    BadArea,
    /// A weight that is not a positive number.
    BadWeight,
    /// An answer dated outside the survey's period.
    OutsidePeriod,
    /// The same respondent twice.
    DuplicateRespondent,
    /// A file with no respondent.
    EmptySurvey,
    /// A survey the catalog does not define.
    UnknownSurvey,
}

impl Rule {
    pub fn id(self) -> &'static str {
        match self {
            Rule::Negative => "negative",
            Rule::Fraction => "fraction",
            Rule::NotANumber => "not_a_number",
            Rule::ErrorCell => "error_cell",
            Rule::TotalMismatch => "total_mismatch",
            Rule::PartExceedsWhole => "part_exceeds_whole",
            Rule::DuplicateRow => "duplicate_row",
            Rule::UnknownRow => "unknown_row",
            Rule::MissingRow => "missing_row",
            Rule::UnknownForm => "unknown_form",
            Rule::UnknownUnit => "unknown_unit",
            Rule::UnknownPeriod => "unknown_period",
            Rule::FuturePeriod => "future_period",
            Rule::PeriodMismatch => "period_mismatch",
            Rule::UnitMismatch => "unit_mismatch",
            Rule::PeriodLocked => "period_locked",
            Rule::InvalidStatus => "invalid_status",
            Rule::InvalidDate => "invalid_date",
            Rule::NotAWorkbook => "not_a_workbook",
            Rule::CorruptFile => "corrupt_file",
            Rule::TooLarge => "too_large",
            Rule::OutOfRange => "out_of_range",
            Rule::Jump => "jump",
            Rule::MissingColumn => "missing_column",
            Rule::BadAnswer => "bad_answer",
            Rule::MissingAnswer => "missing_answer",
            Rule::BadArea => "bad_area",
            Rule::BadWeight => "bad_weight",
            Rule::OutsidePeriod => "outside_period",
            Rule::DuplicateRespondent => "duplicate_respondent",
            Rule::EmptySurvey => "empty_survey",
            Rule::UnknownSurvey => "unknown_survey",
        }
    }
}

/// A validation finding, in the shape of `ingest --json` (`interfaces.md`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    pub rule: Rule,
    #[serde(skip)]
    pub severity: Option<Severity>,
    pub sheet: Option<String>,
    pub cell: Option<String>,
    pub row: Option<String>,
    pub column: Option<u32>,
    pub expected: Option<String>,
    pub found: Option<String>,
    pub message: String,
}

impl Issue {
    /// A blocking issue.
    pub fn error(rule: Rule, message: impl Into<String>) -> Issue {
        Issue {
            rule,
            severity: Some(Severity::Error),
            sheet: None,
            cell: None,
            row: None,
            column: None,
            expected: None,
            found: None,
            message: message.into(),
        }
    }
    pub fn warning(rule: Rule, message: impl Into<String>) -> Issue {
        Issue {
            severity: Some(Severity::Warning),
            ..Issue::error(rule, message)
        }
    }
    pub fn at(mut self, sheet: Option<&str>, cell: Option<&str>) -> Issue {
        self.sheet = sheet.map(str::to_owned);
        self.cell = cell.map(str::to_owned);
        self
    }
    pub fn cell_of(mut self, row: &str, column: u32) -> Issue {
        self.row = Some(row.to_owned());
        self.column = Some(column);
        self
    }
    pub fn expected(mut self, expected: impl Into<String>, found: impl Into<String>) -> Issue {
        self.expected = Some(expected.into());
        self.found = Some(found.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity != Some(Severity::Warning)
    }
}

/// What happened to one return.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    Accepted,
    /// An identical re-submission: no new version.
    Unchanged,
    Rejected,
}

/// One entry of an import summary (`interfaces.md`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReturnReport {
    pub file: Option<String>,
    pub sheet: Option<String>,
    pub form: Option<String>,
    pub unit: Option<String>,
    pub period: Option<String>,
    pub status: ReturnStatus,
    pub version: Option<i64>,
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
    /// For a new version: the cells whose value changed against the previous one.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub changed: Vec<Change>,
}

/// A cell whose value differs from the previous version.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub row: String,
    pub column: u32,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// An import summary: `{"returns": [...]}`, one entry per return, or per file that could not be read.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImportSummary {
    pub returns: Vec<ReturnReport>,
}

impl ImportSummary {
    pub fn any_rejected(&self) -> bool {
        self.returns.iter().any(|r| r.status == ReturnStatus::Rejected)
    }
}

/// A return sent as JSON through the API.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JsonReturn {
    pub form: String,
    pub unit: String,
    pub period: String,
    pub values: Vec<JsonValue>,
}

/// One cell of a JSON return.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JsonValue {
    pub row: String,
    pub column: u32,
    pub value: Value,
}

impl JsonReturn {
    pub fn into_draft(self) -> ReturnDraft {
        ReturnDraft {
            form: Some(self.form),
            unit: Some(self.unit),
            period: Some(self.period),
            values: self
                .values
                .into_iter()
                .map(|v| CellValue {
                    row: v.row,
                    column: v.column,
                    value: v.value,
                    cell: None,
                })
                .collect(),
            ..ReturnDraft::default()
        }
    }
}

/// One value of the latest version of a return, as the store gives it back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredValue {
    pub unit: String,
    pub form: String,
    pub period: String,
    pub row: String,
    pub column: u32,
    pub value: Value,
    pub version: i64,
}

/// One stored version of a return.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReturnRecord {
    pub id: i64,
    pub unit: String,
    pub form: String,
    pub period: String,
    pub version: i64,
    /// RFC 3339, UTC.
    pub received_at: String,
    pub submitted_by: Option<String>,
    /// `file`, `api` or `web`.
    pub source: String,
    pub file_name: Option<String>,
    pub file_sha256: Option<String>,
}

/// A1 address of a zero-based (row, column) position.
pub fn a1(row: u32, col: u32) -> String {
    let mut letters = Vec::new();
    let mut c = col + 1;
    while c > 0 {
        let rem = (c - 1) % 26;
        letters.push(b'A' + rem as u8);
        c = (c - 1) / 26;
    }
    letters.reverse();
    format!("{}{}", String::from_utf8(letters).unwrap_or_default(), row + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a1_addresses() {
        assert_eq!(a1(0, 0), "A1");
        assert_eq!(a1(11, 3), "D12");
        assert_eq!(a1(0, 25), "Z1");
        assert_eq!(a1(0, 26), "AA1");
        assert_eq!(a1(1_048_575, 16_383), "XFD1048576");
    }
}

/// One respondent of a survey file, as validated: the unit's code as resolved at the period's end,
/// the answers spelled as the catalog spells them (by indicator), the row it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveyRow {
    /// The file's row number (1-based, as a spreadsheet shows it).
    pub line: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respondent: Option<String>,
    pub unit: String,
    /// `urban` or `rural` (the catalog's `Area` ids), when the file says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<chrono::NaiveDate>,
    pub answers: std::collections::BTreeMap<String, String>,
}

/// An accepted survey file, to store as a new version of (survey, period).
#[derive(Debug, Clone)]
pub struct SurveySubmission {
    pub survey: String,
    pub period: String,
    pub rows: Vec<SurveyRow>,
    pub received_at: chrono::DateTime<chrono::Utc>,
    pub submitted_by: Option<String>,
    /// `file`, `api` or `web`.
    pub source: String,
    pub client: Option<String>,
    pub file_name: Option<String>,
    pub file_sha256: Option<String>,
}

/// The latest stored version of a survey for a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyVersion {
    pub survey: String,
    pub period: String,
    pub version: i64,
    pub received_at: String,
    pub submitted_by: Option<String>,
    pub file_name: Option<String>,
    pub rows: Vec<SurveyRow>,
}
