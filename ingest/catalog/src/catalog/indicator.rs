//! Indicator definitions: what is divided by what, scaled how, and which units are due to report it.
//! Formulas are catalog text (`F01.02(2)`, `F02.03(1) + F02.04(1)`), never Rust match arms.

use serde::Deserialize;

use super::{Form, Issues, parse_toml};

/// How an indicator is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    /// `scale × Σ numerator / Σ denominator` (a ratio of sums).
    Ratio,
    /// `Σ numerator` (a count; no denominator).
    Count,
    /// Returns received / returns expected (BC-1).
    Reporting,
    /// Returns received by the deadline / returns expected (BC-2).
    Timeliness,
    /// Tasks done on time / tasks due (NV-1).
    TasksOnTime,
}

/// Which units are due to report an indicator's cells (the coverage denominator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Due {
    /// Communes, wards, special zones (and districts before 07/2025).
    Territorial,
    /// Every unit that files the form.
    #[default]
    Filers,
}

/// One cell reference of a formula: form, row and value column (`F01.02(2)`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Term {
    pub form: String,
    pub row: String,
    pub column: u32,
}

impl std::fmt::Display for Term {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}({})", self.form, self.row, self.column)
    }
}

impl Term {
    /// Parses a sum of cell references: `F02.03(1) + F02.04(1)`.
    pub fn parse_sum(s: &str) -> Result<Vec<Term>, String> {
        s.split('+').map(|t| Term::parse(t.trim())).collect()
    }

    fn parse(s: &str) -> Result<Term, String> {
        let err = || format!("`{s}` is not a cell reference like F01.02(2)");
        let (form, rest) = s.split_once('.').ok_or_else(err)?;
        let (row, col) = rest.strip_suffix(')').and_then(|r| r.split_once('(')).ok_or_else(err)?;
        let column = col.trim().parse().map_err(|_| err())?;
        if form.trim().is_empty() || row.trim().is_empty() {
            return Err(err());
        }
        Ok(Term {
            form: form.trim().to_owned(),
            row: row.trim().to_owned(),
            column,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorFile {
    code: String,
    name: String,
    kind: IndicatorKind,
    #[serde(default)]
    numerator: Option<String>,
    #[serde(default)]
    denominator: Option<String>,
    #[serde(default)]
    scale: Option<f64>,
    unit: String,
    #[serde(default)]
    due: Due,
    #[serde(default)]
    denominator_due: Option<Due>,
    #[serde(default)]
    group: String,
}

#[derive(Debug, Clone)]
pub struct Indicator {
    pub code: String,
    pub name: String,
    pub kind: IndicatorKind,
    pub numerator: Vec<Term>,
    pub denominator: Vec<Term>,
    pub scale: f64,
    /// Unit of the value: `%`, `‰`, or a count's unit.
    pub unit: String,
    pub due: Due,
    pub denominator_due: Due,
    pub group: String,
    pub file: String,
}

impl Indicator {
    pub(crate) fn parse(file: &str, text: &str, forms: &[Form], issues: &mut Issues) -> Option<Indicator> {
        let f: IndicatorFile = parse_toml(file, text, issues)?;
        let line_of = |key: &str| text.find(key).map(|o| super::line_at(text, o));
        let mut terms = |key: &str, formula: &Option<String>| -> Vec<Term> {
            let Some(formula) = formula else {
                return Vec::new();
            };
            match Term::parse_sum(formula) {
                Ok(terms) => {
                    for t in &terms {
                        let known = forms
                            .iter()
                            .find(|fm| fm.id == t.form)
                            .is_some_and(|fm| fm.row(&t.row).is_some_and(|r| r.columns.contains(&t.column)));
                        if !known {
                            issues.push(
                                file,
                                line_of(key),
                                format!("{key} `{t}` is not a cell of a catalog form"),
                            );
                        }
                    }
                    terms
                }
                Err(e) => {
                    issues.push(file, line_of(key), format!("{key}: {e}"));
                    Vec::new()
                }
            }
        };
        let numerator = terms("numerator", &f.numerator);
        let denominator = terms("denominator", &f.denominator);
        match f.kind {
            IndicatorKind::Ratio if f.numerator.is_none() || f.denominator.is_none() => {
                issues.push(file, line_of("kind"), "a ratio needs a numerator and a denominator");
            }
            IndicatorKind::Count if f.numerator.is_none() => {
                issues.push(file, line_of("kind"), "a count needs a numerator");
            }
            _ => {}
        }
        let code = crate::text::clean(&f.code);
        Some(Indicator {
            scale: f.scale.unwrap_or(1.0),
            denominator_due: f.denominator_due.unwrap_or(f.due),
            code,
            name: crate::text::clean(&f.name),
            kind: f.kind,
            numerator,
            denominator,
            unit: f.unit,
            due: f.due,
            group: f.group,
            file: file.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Term;

    #[test]
    fn formulas_parse_into_terms() {
        let t = Term::parse_sum("F02.03(1) + F02.04(1)").unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].to_string(), "F02.04(1)");
        assert!(Term::parse_sum("F02.03").is_err());
        assert!(Term::parse_sum("F02.03(x)").is_err());
    }
}
