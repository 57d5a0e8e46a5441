//! Survey definitions: how a citizen survey's export (Kobo, ODK, Google Forms; one row per respondent)
//! is read, and which answers estimate which indicator. One file per survey under `surveys/`.
//!
//! Columns are found by their header label, any of the names given, compared folded (`text::fold`),
//! because every collection tool names them its own way (`Mã xã`, `ma_xa`, `group_a/ma_xa`).

use serde::Deserialize;

use super::{Area, Issues, parse_toml};
use crate::text::fold;

/// One survey: its columns, the estimates it feeds and when an estimate may be published.
#[derive(Debug, Clone, PartialEq)]
pub struct Survey {
    pub code: String,
    pub name: String,
    /// The column naming each respondent's commune or ward (its code, or its name).
    pub unit_column: Vec<String>,
    /// A respondent id for messages and duplicates (Kobo's `_id`, `_uuid`).
    pub respondent_column: Vec<String>,
    /// Urban/rural of the respondent's residence, for post-stratification and area domains.
    pub area_column: Vec<String>,
    /// The answers of the area column that mean urban, and rural.
    pub urban: Vec<String>,
    pub rural: Vec<String>,
    /// Design weights, when the file has them; otherwise weights are post-stratified to each
    /// commune's population by area (form 01 row 01).
    pub weight_column: Vec<String>,
    /// When the respondent answered; an answer outside the survey's period is refused.
    pub date_column: Vec<String>,
    /// Below either threshold a unit's estimate is shown as too small to publish.
    pub min_respondents: u32,
    pub min_effective_sample: f64,
    pub estimates: Vec<SurveyEstimate>,
    pub file: String,
}

/// One indicator estimated from one question: the share (weighted) of respondents whose answer
/// counts, among those in the area domain who answered.
#[derive(Debug, Clone, PartialEq)]
pub struct SurveyEstimate {
    pub indicator: String,
    pub column: Vec<String>,
    /// Every admissible answer (anything else is `survey_bad_answer`).
    pub answers: Vec<String>,
    /// The answers that count (e.g. 4 and 5 on a 1–5 satisfaction scale).
    pub counts: Vec<String>,
    /// Only respondents of this area are in the estimate (CDS-1 urban, CDS-2 rural).
    pub area: Option<Area>,
    /// A blank answer is refused instead of leaving the respondent out of this estimate.
    pub required: bool,
}

impl SurveyEstimate {
    /// The admissible answer `raw` matches, by folded comparison, as the catalog spells it.
    pub fn answer<'a>(&'a self, raw: &str) -> Option<&'a str> {
        let f = fold(raw);
        self.answers.iter().find(|a| fold(a) == f).map(String::as_str)
    }

    /// Whether an admissible answer (as the catalog spells it) counts.
    pub fn counts(&self, answer: &str) -> bool {
        self.counts.iter().any(|c| c == answer)
    }
}

impl Survey {
    /// The area an answer of the area column stands for.
    pub fn area_of(&self, raw: &str) -> Option<Area> {
        let f = fold(raw);
        if self.urban.iter().any(|a| fold(a) == f) {
            Some(Area::Urban)
        } else if self.rural.iter().any(|a| fold(a) == f) {
            Some(Area::Rural)
        } else {
            None
        }
    }
}

/// Whether a header label is one of a column's names (folded; a Kobo group prefix `grp/` ignored).
pub fn column_matches(names: &[String], header: &str) -> bool {
    let h = fold(header);
    let bare = h.rsplit('/').next().unwrap_or(&h).to_owned();
    names.iter().any(|n| {
        let n = fold(n);
        n == h || n == bare
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SurveyFile {
    code: String,
    name: String,
    unit_column: Vec<String>,
    #[serde(default)]
    respondent_column: Vec<String>,
    #[serde(default)]
    area_column: Vec<String>,
    #[serde(default)]
    areas: AreasFile,
    #[serde(default)]
    weight_column: Vec<String>,
    #[serde(default)]
    date_column: Vec<String>,
    min_respondents: u32,
    min_effective_sample: f64,
    #[serde(default)]
    estimates: Vec<EstimateFile>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AreasFile {
    #[serde(default)]
    urban: Vec<String>,
    #[serde(default)]
    rural: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EstimateFile {
    indicator: String,
    column: Vec<String>,
    answers: Vec<String>,
    counts: Vec<String>,
    #[serde(default)]
    area: Option<String>,
    #[serde(default)]
    required: bool,
}

impl Survey {
    pub(crate) fn parse(
        file: &str,
        text: &str,
        indicators: &[super::Indicator],
        issues: &mut Issues,
    ) -> Option<Survey> {
        let f: SurveyFile = parse_toml(file, text, issues)?;
        let line_of = |needle: &str| text.find(needle).map(|o| super::line_at(text, o));
        let clean = |v: Vec<String>| v.iter().map(|s| crate::text::clean(s)).collect::<Vec<_>>();
        if f.unit_column.is_empty() {
            issues.push(
                file,
                line_of("unit_column"),
                "unit_column needs at least one column name",
            );
        }
        if f.estimates.is_empty() {
            issues.push(file, None, "a survey needs at least one [[estimates]]");
        }
        let mut estimates = Vec::new();
        for e in f.estimates {
            let line = line_of(&format!("\"{}\"", e.indicator));
            let known = indicators.iter().find(|i| i.code == e.indicator);
            match known {
                None => issues.push(file, line, format!("estimate of unknown indicator `{}`", e.indicator)),
                Some(i) if i.kind != super::IndicatorKind::Ratio || i.unit != "%" => issues.push(
                    file,
                    line,
                    format!("`{}` is not a percentage: a survey estimates shares", e.indicator),
                ),
                Some(_) => {}
            }
            let answers = clean(e.answers);
            let counts = clean(e.counts);
            for c in &counts {
                if !answers.contains(c) {
                    issues.push(file, line, format!("counted answer `{c}` is not among the answers"));
                }
            }
            if counts.is_empty() {
                issues.push(file, line, "an estimate needs at least one counted answer");
            }
            let area = match e.area.as_deref() {
                None => None,
                Some("urban") => Some(Area::Urban),
                Some("rural") => Some(Area::Rural),
                Some(other) => {
                    issues.push(file, line, format!("area `{other}` is neither urban nor rural"));
                    None
                }
            };
            if area.is_some() && f.area_column.is_empty() {
                issues.push(file, line, "an estimate for an area needs the survey's area_column");
            }
            if estimates.iter().any(|x: &SurveyEstimate| x.indicator == e.indicator) {
                issues.push(file, line, format!("`{}` is estimated twice", e.indicator));
            }
            estimates.push(SurveyEstimate {
                indicator: e.indicator,
                column: clean(e.column),
                answers,
                counts,
                area,
                required: e.required,
            });
        }
        if !f.area_column.is_empty() && (f.areas.urban.is_empty() || f.areas.rural.is_empty()) {
            issues.push(
                file,
                line_of("area_column"),
                "area_column needs [areas] urban and rural answers",
            );
        }
        if f.min_effective_sample < 1.0 {
            issues.push(
                file,
                line_of("min_effective_sample"),
                "min_effective_sample must be at least 1",
            );
        }
        Some(Survey {
            code: crate::text::clean(&f.code),
            name: crate::text::clean(&f.name),
            unit_column: clean(f.unit_column),
            respondent_column: clean(f.respondent_column),
            area_column: clean(f.area_column),
            urban: clean(f.areas.urban),
            rural: clean(f.areas.rural),
            weight_column: clean(f.weight_column),
            date_column: clean(f.date_column),
            min_respondents: f.min_respondents,
            min_effective_sample: f.min_effective_sample,
            estimates,
            file: file.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_match_folded_and_without_a_kobo_group() {
        let names = vec!["Mã xã".to_owned(), "ma_xa".to_owned()];
        assert!(column_matches(&names, "MÃ XÃ"));
        assert!(column_matches(&names, "thong_tin/ma_xa"));
        assert!(column_matches(&names, " Ma  xa "));
        assert!(!column_matches(&names, "Mã huyện"));
    }
}
