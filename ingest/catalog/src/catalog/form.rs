//! Form definitions: rows (Mã số), value columns and the validation rules of each form.

use serde::Deserialize;

use super::{Issues, PeriodCalendar, PeriodKind, UnitKind, parse_toml};
use crate::text::{clean, fold};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    /// A non-negative whole number.
    Count,
    /// One of the column's `choices`.
    Status,
    /// A date (dd/mm/yyyy in a sheet, YYYY-MM-DD in JSON).
    Date,
    /// Free text.
    Text,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnDef {
    pub number: u32,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: ColumnType,
    /// For the urban/rural split columns of form 01.
    #[serde(default)]
    pub area: Option<String>,
    /// The upper header over adjacent columns that share it (`Chia ra` over Thành thị and Nông
    /// thôn): written sheets merge it across them, and the other headers down both rows.
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub choices: Vec<String>,
    /// The status choice that means "done" (F03).
    #[serde(default)]
    pub done: Option<String>,
    /// The column that must hold the completion date when the status is `done`.
    #[serde(default)]
    pub date_column: Option<u32>,
    /// What a text column of the task form holds, for the report.
    #[serde(default)]
    pub role: Option<ColumnRole>,
}

/// What a text column of the task form holds: the report lists results and gathers difficulties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnRole {
    /// Kết quả, sản phẩm.
    Result,
    /// Khó khăn, vướng mắc: gathered in the narrative report's section of difficulties.
    Difficulties,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowDef {
    pub code: String,
    pub label: String,
    #[serde(default)]
    pub unit: String,
    pub columns: Vec<u32>,
    /// Flow rows are counts of the period (summed over years); stock rows are levels at its end.
    #[serde(default)]
    pub flow: bool,
    /// Rows only territorial units report (population, people reached).
    #[serde(default)]
    pub territorial_only: bool,
    /// The largest plausible count in this row (e.g. a commune's population), below the form's own
    /// bound.
    #[serde(default)]
    pub max: Option<i64>,
}

/// A validation rule of a form, declared in its catalog file.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FormRule {
    /// In each of `rows`: column `total` = sum of `parts`, when all are filled.
    Sum {
        rows: Vec<String>,
        total: u32,
        parts: Vec<u32>,
    },
    /// Row `part` ≤ row `whole`, in every column both have.
    PartOf { part: String, whole: String },
    /// Column `part` ≤ column `whole`, in every row that has both.
    ColumnPartOf { part: u32, whole: u32 },
    /// A warning when a value moves by more than `factor` against the unit's previous period.
    Jump { factor: f64 },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Form {
    pub id: String,
    /// The code printed on the form: `01/CĐS-PBGDPL`.
    pub code: String,
    pub title: String,
    /// Sheet name used by templates and reports.
    pub sheet: String,
    #[serde(deserialize_with = "de_kinds")]
    pub filed_by: Vec<UnitKind>,
    #[serde(deserialize_with = "de_period_kinds")]
    pub periods: Vec<PeriodKind>,
    pub columns: Vec<ColumnDef>,
    #[serde(default)]
    pub rows: Vec<RowDef>,
    #[serde(default)]
    pub rules: Vec<FormRule>,
    /// The rows are the tasks of the plan in force (form 03).
    #[serde(default)]
    pub rows_from_plan: bool,
    /// A sheet of this form must list every row (values may be blank): a missing row usually means a
    /// retyped form that lost one.
    #[serde(default)]
    pub require_all_rows: bool,
    /// The heading of the narrative report's section that sets out this form's totals (forms without
    /// one are shown through their indicators only).
    #[serde(default)]
    pub report_section: Option<String>,
    /// The largest plausible count in any cell: a bound against typos and against numbers that would
    /// overflow the sums up the unit tree.
    #[serde(default = "default_max_count")]
    pub max_count: i64,
    #[serde(skip)]
    pub file: String,
}

fn default_max_count() -> i64 {
    1_000_000_000
}

fn de_kinds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<UnitKind>, D::Error> {
    let names = Vec::<String>::deserialize(d)?;
    names
        .iter()
        .map(|n| UnitKind::parse(n).ok_or_else(|| serde::de::Error::custom(format!("unknown unit kind `{n}`"))))
        .collect()
}

fn de_period_kinds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<PeriodKind>, D::Error> {
    let names = Vec::<String>::deserialize(d)?;
    names
        .iter()
        .map(|n| match n.as_str() {
            "semiannual" => Ok(PeriodKind::Semiannual),
            "preliminary" => Ok(PeriodKind::Preliminary),
            "official" => Ok(PeriodKind::Official),
            _ => Err(serde::de::Error::custom(format!("unknown period kind `{n}`"))),
        })
        .collect()
}

impl Form {
    /// The largest plausible count in a row: the row's own bound, else the form's.
    pub fn max_of(&self, row: &RowDef) -> i64 {
        row.max.unwrap_or(self.max_count).min(self.max_count)
    }

    pub(crate) fn parse(file: &str, text: &str, _cal: &PeriodCalendar, issues: &mut Issues) -> Option<Form> {
        let mut form: Form = parse_toml(file, text, issues)?;
        form.file = file.to_owned();
        let line_of = |needle: &str| text.find(needle).map(|o| super::line_at(text, o));
        let mut seen = std::collections::BTreeSet::new();
        for c in &form.columns {
            if !seen.insert(c.number) {
                issues.push(
                    file,
                    line_of(&format!("number = {}", c.number)),
                    format!("column ({}) is defined twice", c.number),
                );
            }
            if c.kind == ColumnType::Status && c.choices.is_empty() {
                issues.push(
                    file,
                    line_of(&c.label),
                    format!("status column ({}) has no choices", c.number),
                );
            }
        }
        // A group header is merged over its columns, so they must stand side by side.
        let mut closed = std::collections::BTreeSet::new();
        for (i, c) in form.columns.iter().enumerate() {
            let Some(g) = &c.group else { continue };
            let continues = i > 0 && form.columns[i - 1].group.as_ref() == Some(g);
            if !continues && !closed.insert(g.clone()) {
                issues.push(
                    file,
                    line_of(&format!("number = {}", c.number)),
                    format!(
                        "the columns of group `{g}` must be adjacent; column ({}) is apart",
                        c.number
                    ),
                );
            }
        }
        let mut seen_rows = std::collections::BTreeSet::new();
        for r in &form.rows {
            let line = line_of(&format!("code = \"{}\"", r.code));
            if !seen_rows.insert(r.code.clone()) {
                issues.push(file, line, format!("row `{}` is defined twice", r.code));
            }
            for c in &r.columns {
                if form.column(*c).is_none() {
                    issues.push(
                        file,
                        line,
                        format!("row `{}` uses column ({c}) that the form does not define", r.code),
                    );
                }
            }
        }
        for rule in &form.rules {
            let check_row = |code: &str, issues: &mut Issues| {
                if !form.rows_from_plan && form.row(code).is_none() {
                    issues.push(
                        file,
                        line_of(&format!("\"{code}\"")),
                        format!("rule names row `{code}` that the form does not define"),
                    );
                }
            };
            match rule {
                FormRule::Sum { rows, total, parts } => {
                    rows.iter().for_each(|r| check_row(r, issues));
                    for c in parts.iter().chain([total]) {
                        if form.column(*c).is_none() {
                            issues.push(
                                file,
                                line_of("kind = \"sum\""),
                                format!("rule names column ({c}) that the form does not define"),
                            );
                        }
                    }
                }
                FormRule::PartOf { part, whole } => {
                    check_row(part, issues);
                    check_row(whole, issues);
                }
                FormRule::ColumnPartOf { part, whole } => {
                    for c in [part, whole] {
                        if form.column(*c).is_none() {
                            issues.push(
                                file,
                                line_of("column_part_of"),
                                format!("rule names column ({c}) that the form does not define"),
                            );
                        }
                    }
                }
                FormRule::Jump { factor } => {
                    if *factor <= 1.0 {
                        issues.push(file, line_of("kind = \"jump\""), "the jump factor must be above 1");
                    }
                }
            }
        }
        Some(form)
    }

    pub fn column(&self, number: u32) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.number == number)
    }

    /// The task status column of a form whose rows are a plan's tasks (F03): its `done` choice and
    /// `date_column` say what counts as done and when.
    pub fn status_column(&self) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.kind == ColumnType::Status)
    }

    pub fn row(&self, code: &str) -> Option<&RowDef> {
        self.rows.iter().find(|r| r.code == code)
    }

    /// Finds the catalog row for a Mã số as users write it (`1`, `01`, `'01`, `nv3`).
    pub fn match_row(&self, raw: &str) -> Option<&RowDef> {
        let code = normalize_row_code(raw)?;
        self.rows.iter().find(|r| r.code.eq_ignore_ascii_case(&code))
    }

    /// Whether a sheet's form-code label names this form (`Biểu số 01/CĐS-PBGDPL`).
    pub fn matches_code_label(&self, label: &str) -> bool {
        let label = fold(label).replace(' ', "");
        let code = fold(&self.code).replace(' ', "");
        label.contains(&code)
    }

    /// Whether every row in the form holds counts only.
    pub fn is_numeric(&self) -> bool {
        self.columns.iter().all(|c| c.kind == ColumnType::Count)
    }
}

/// The row id for a Mã số cell: numbers are zero-padded to two digits, task codes upper-cased and
/// zero-padded (`NV3` → `NV03`), paths (`II/1`) kept.
pub fn normalize_row_code(raw: &str) -> Option<String> {
    let s = clean(raw);
    let s = s.trim_start_matches('\'').trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(f) = s.parse::<f64>() {
        if f.fract() == 0.0 && (0.0..1000.0).contains(&f) {
            return Some(format!("{:02}", f as u32));
        }
        return None;
    }
    let upper = s.to_uppercase();
    let letters: String = upper.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    let rest = &upper[letters.len()..];
    if !letters.is_empty() && !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit()) {
        return rest.parse::<u32>().ok().map(|n| format!("{letters}{n:02}"));
    }
    Some(upper)
}

#[cfg(test)]
mod tests {
    use super::normalize_row_code;

    #[test]
    fn row_codes_as_users_write_them() {
        for (raw, want) in [
            ("1", "01"),
            ("01", "01"),
            ("'01", "01"),
            ("1.0", "01"),
            (" 9 ", "09"),
            ("nv3", "NV03"),
            ("NV12", "NV12"),
            ("II/1", "II/1"),
        ] {
            assert_eq!(normalize_row_code(raw).as_deref(), Some(want), "{raw}");
        }
        assert_eq!(normalize_row_code(""), None);
        assert_eq!(normalize_row_code("1.5"), None);
    }
}
