//! The catalog: units, periods, forms, indicators and plans, loaded from data files an administrator
//! edits (one file per form, indicator and plan). Loading checks everything and reports every mistake
//! with its file and line, not just the first.

mod form;
mod indicator;
mod period;
mod plan;
mod survey;
mod units;

pub use form::{ColumnDef, ColumnRole, ColumnType, Form, FormRule, RowDef, normalize_row_code};
pub use indicator::{Due, Indicator, IndicatorKind, Term};
pub use period::{Period, PeriodCalendar, PeriodKind, PeriodKindDef, PeriodSpec, SenderLevel, is_late};
pub use plan::{DoneRule, Phase, Plan, Target, Task, TaskDue};
pub use survey::{Survey, SurveyEstimate, column_matches};
pub use units::{Area, Tree, Unit, UnitKind, Units, present};

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;

use crate::{Error, Result, io_err};

/// A catalog mistake, with the file and line it is on.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogIssue {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for CatalogIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

pub(crate) fn format_issues(issues: &[CatalogIssue]) -> String {
    issues.iter().map(|i| format!("  {i}")).collect::<Vec<_>>().join("\n")
}

/// The catalog's files as text, by path relative to the catalog folder. The bundled catalog is compiled
/// into the binary; `--catalog DIR` reads a folder. Parsing never touches the file system.
#[derive(Debug, Clone, Default)]
pub struct CatalogSource {
    pub files: BTreeMap<String, String>,
}

impl CatalogSource {
    /// Reads `catalog.toml`, `periods.toml`, the unit list and every `forms/`, `indicators/` and `plans/`
    /// file of a catalog folder.
    pub fn from_dir(dir: &Path) -> Result<CatalogSource> {
        let mut files = BTreeMap::new();
        for name in ["catalog.toml", "periods.toml"] {
            let path = dir.join(name);
            files.insert(name.to_owned(), std::fs::read_to_string(&path).map_err(io_err(path))?);
        }
        let head: CatalogFile = toml::from_str(&files["catalog.toml"]).unwrap_or_default();
        let units_name = head.units.file.clone();
        let path = dir.join(&units_name);
        files.insert(units_name, std::fs::read_to_string(&path).map_err(io_err(path))?);
        for sub in ["forms", "indicators", "plans", "surveys"] {
            let sub_dir = dir.join(sub);
            if sub == "surveys" && !sub_dir.exists() {
                continue; // a catalog without surveys
            }
            let entries = std::fs::read_dir(&sub_dir).map_err(io_err(&sub_dir))?;
            for entry in entries {
                let path = entry.map_err(io_err(&sub_dir))?.path();
                if path.extension().is_some_and(|e| e == "toml") {
                    let name = format!("{sub}/{}", path.file_name().unwrap_or_default().to_string_lossy());
                    files.insert(name, std::fs::read_to_string(&path).map_err(io_err(&path))?);
                }
            }
        }
        Ok(CatalogSource { files })
    }

    /// Replaces the unit list (`--units FILE.csv`), keeping everything else.
    pub fn with_units(mut self, name: &str, csv_text: String) -> CatalogSource {
        self.files.insert(format!("@units:{name}"), csv_text);
        self
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    province: ProvinceInfo,
    #[serde(default)]
    units: UnitsSettings,
}

/// The province the catalog describes.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ProvinceInfo {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub short_name: String,
    #[serde(default)]
    pub receiver: String,
    #[serde(default)]
    pub place: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitsSettings {
    #[serde(default = "default_units_file")]
    file: String,
    #[serde(default)]
    special_zone_area: Option<String>,
}

impl Default for UnitsSettings {
    fn default() -> Self {
        UnitsSettings {
            file: default_units_file(),
            special_zone_area: None,
        }
    }
}

fn default_units_file() -> String {
    "units.csv".to_owned()
}

/// Everything the engine needs to know about the domain, checked and cross-referenced.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub province: ProvinceInfo,
    pub units: Units,
    pub periods: PeriodCalendar,
    pub forms: Vec<Form>,
    pub indicators: Vec<Indicator>,
    pub plans: Vec<Plan>,
    /// Citizen surveys and the indicators they estimate.
    pub surveys: Vec<Survey>,
}

/// Collects issues while a catalog is being loaded.
#[derive(Default)]
pub(crate) struct Issues(pub(crate) Vec<CatalogIssue>);

impl Issues {
    pub(crate) fn push(&mut self, file: &str, line: Option<usize>, message: impl Into<String>) {
        self.0.push(CatalogIssue {
            file: file.to_owned(),
            line,
            message: message.into(),
        });
    }
}

/// The 1-based line of a byte offset in a text.
pub(crate) fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(file: &str, text: &str, issues: &mut Issues) -> Option<T> {
    match toml::from_str(text) {
        Ok(v) => Some(v),
        Err(e) => {
            let line = e.span().map(|s| line_at(text, s.start));
            issues.push(file, line, e.message().trim().to_owned());
            None
        }
    }
}

impl Catalog {
    /// Reads a catalog folder (`--catalog DIR`).
    pub fn load_dir(dir: &Path) -> Result<Catalog> {
        Catalog::from_source(&CatalogSource::from_dir(dir)?)
    }

    /// Parses and checks a catalog. Every mistake found is reported, with its file and line.
    pub fn from_source(src: &CatalogSource) -> Result<Catalog> {
        let mut issues = Issues::default();
        let head_text = src.files.get("catalog.toml").map(String::as_str).unwrap_or("");
        let head: Option<CatalogFile> = parse_toml("catalog.toml", head_text, &mut issues);
        let head = head.unwrap_or_default();
        let special_zone_area = match head.units.special_zone_area.as_deref() {
            None | Some("") => None,
            Some(s) => match Area::parse(s) {
                Some(a) => Some(a),
                None => {
                    issues.push(
                        "catalog.toml",
                        None,
                        format!("units.special_zone_area `{s}` is not urban|rural|mixed"),
                    );
                    None
                }
            },
        };
        let (units_file, units_text) = match src.files.iter().find(|(k, _)| k.starts_with("@units:")) {
            Some((k, v)) => (k.trim_start_matches("@units:").to_owned(), v.clone()),
            None => (
                head.units.file.clone(),
                src.files.get(&head.units.file).cloned().unwrap_or_else(|| {
                    issues.push(
                        "catalog.toml",
                        None,
                        format!("unit list `{}` not found", head.units.file),
                    );
                    String::new()
                }),
            ),
        };
        let units = Units::parse(&units_file, &units_text, special_zone_area, &mut issues);
        if units.root().is_none() && !units.is_empty() {
            issues.push(
                &units_file,
                None,
                "the unit list has no unit of kind `nation` or `province` without a parent",
            );
        }
        let mut province = head.province.clone();
        // The catalog describes its province when the list has it today; another list (`--units`)
        // describes its own root — another province, or the nation — whose name then replaces the
        // catalog's everywhere.
        let describes_own = units
            .get(&province.code)
            .is_some_and(|u| u.valid_to.is_none() && u.kind == UnitKind::Province);
        if !describes_own && let Some(root) = units.root() {
            let short = root
                .name
                .trim_start_matches("Tỉnh ")
                .trim_start_matches("Thành phố ")
                .to_owned();
            province.code = root.code.clone();
            province.name = root.name.clone();
            province.receiver = if root.kind == UnitKind::Nation {
                "Bộ Tư pháp".to_owned()
            } else {
                format!("Sở Tư pháp {}", root.name)
            };
            province.place = short.clone();
            province.short_name = short;
        }
        let periods = match src.files.get("periods.toml") {
            Some(text) => PeriodCalendar::parse("periods.toml", text, &mut issues),
            None => {
                issues.push("periods.toml", None, "missing");
                PeriodCalendar::default()
            }
        };
        let mut plans = Vec::new();
        for (name, text) in src.files.range("plans/".to_owned()..) {
            if !name.starts_with("plans/") {
                break;
            }
            if let Some(plan) = Plan::parse(name, text, &units, &mut issues) {
                plans.push(plan);
            }
        }
        // One plan in force for a province at a time: its tasks are that province's form 03 rows.
        for (i, a) in plans.iter().enumerate() {
            for b in &plans[i + 1..] {
                if a.province == b.province && a.from <= b.to && b.from <= a.to {
                    issues.push(
                        &b.file,
                        None,
                        format!("in force for province {} on the same dates as {}", b.province, a.file),
                    );
                }
            }
        }
        let mut forms = Vec::new();
        for (name, text) in src.files.range("forms/".to_owned()..) {
            if !name.starts_with("forms/") {
                break;
            }
            if let Some(form) = Form::parse(name, text, &periods, &mut issues) {
                forms.push(form);
            }
        }
        // Forms whose rows are a plan's tasks (F03): every plan's task codes are rows the reader knows;
        // which of them a return may hold is the plan in force for its unit and period
        // (`Catalog::rows_of`).
        for form in forms.iter_mut().filter(|f| f.rows_from_plan) {
            let mut rows: Vec<RowDef> = Vec::new();
            for t in plans.iter().flat_map(|p| &p.tasks) {
                if !rows.iter().any(|r| r.code == t.code) {
                    rows.push(task_row(form, t));
                }
            }
            form.rows = rows;
        }
        let mut seen = std::collections::BTreeSet::new();
        for f in &forms {
            if !seen.insert(f.id.clone()) {
                issues.push(
                    &format!("forms/{}.toml", f.id),
                    None,
                    format!("form `{}` is defined twice", f.id),
                );
            }
        }
        let mut indicators = Vec::new();
        for (name, text) in src.files.range("indicators/".to_owned()..) {
            if !name.starts_with("indicators/") {
                break;
            }
            if let Some(ind) = Indicator::parse(name, text, &forms, &mut issues) {
                indicators.push(ind);
            }
        }
        indicators.sort_by_key(|i| indicator_order(&i.code));
        for plan in &plans {
            for t in &plan.targets {
                if !indicators.iter().any(|i| i.code == t.indicator) {
                    issues.push(
                        &plan.file,
                        t.line,
                        format!("target for unknown indicator `{}`", t.indicator),
                    );
                }
            }
        }
        let mut surveys: Vec<Survey> = Vec::new();
        for (name, text) in src.files.range("surveys/".to_owned()..) {
            if !name.starts_with("surveys/") {
                break;
            }
            if let Some(s) = Survey::parse(name, text, &indicators, &mut issues) {
                if surveys.iter().any(|o| o.code == s.code) {
                    issues.push(name, None, format!("survey `{}` is defined twice", s.code));
                }
                for e in &s.estimates {
                    if let Some(o) = surveys
                        .iter()
                        .find(|o| o.estimates.iter().any(|x| x.indicator == e.indicator))
                    {
                        issues.push(
                            name,
                            None,
                            format!("`{}` is already estimated by survey `{}`", e.indicator, o.code),
                        );
                    }
                }
                surveys.push(s);
            }
        }
        if !issues.0.is_empty() {
            return Err(Error::Catalog(issues.0));
        }
        Ok(Catalog {
            province,
            units,
            periods,
            forms,
            indicators,
            plans,
            surveys,
        })
    }

    pub fn form(&self, id: &str) -> Option<&Form> {
        self.forms.iter().find(|f| f.id == id)
    }

    /// The form whose rows are the tasks of the plan in force (F03).
    pub fn task_form(&self) -> Option<&Form> {
        self.forms.iter().find(|f| f.rows_from_plan)
    }

    /// The years the catalog's programmes cover, first and last: indicators are asked for inside
    /// them, so that a request costs what the data costs, not the width of a range someone typed.
    pub fn years(&self) -> (i32, i32) {
        use chrono::Datelike;
        let years = self
            .plans
            .iter()
            .flat_map(|p| p.phases.iter().flat_map(|ph| [ph.from, ph.to]).chain([p.issued.year()]));
        let (lo, hi) = years.fold((i32::MAX, i32::MIN), |(lo, hi), y| (lo.min(y), hi.max(y)));
        if lo > hi { (2019, 2030) } else { (lo, hi) }
    }

    /// Parses a period or a range of years (`2026S1`, `2026P`, `2026`, `2025-2027`) inside the years
    /// of the catalog's programmes, or says in Vietnamese what is wrong with it.
    pub fn period_spec(&self, text: &str) -> std::result::Result<PeriodSpec, String> {
        let (lo, hi) = self.years();
        let spec = PeriodSpec::parse(text.trim()).ok_or_else(|| {
            format!("Kỳ báo cáo \"{text}\" không hợp lệ (ví dụ 2026S1, 2026P, 2026 hoặc giai đoạn 2025-2027)")
        })?;
        let (from, to) = spec.years();
        if from < lo || to > hi {
            return Err(format!(
                "Kỳ \"{text}\" nằm ngoài các năm của các chương trình trong danh mục ({lo}–{hi})"
            ));
        }
        Ok(spec)
    }

    /// The survey whose estimates are `indicator`'s source, if any.
    pub fn survey_for(&self, indicator: &str) -> Option<(&Survey, &SurveyEstimate)> {
        self.surveys
            .iter()
            .find_map(|s| s.estimates.iter().find(|e| e.indicator == indicator).map(|e| (s, e)))
    }

    pub fn survey(&self, code: &str) -> Option<&Survey> {
        self.surveys.iter().find(|s| s.code == code)
    }

    pub fn indicator(&self, code: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.code == code)
    }

    /// The plan in force for a unit's province on a date: its tasks are the unit's form 03 rows and
    /// its targets apply.
    pub fn plan_for(&self, unit: &str, date: chrono::NaiveDate) -> Option<&Plan> {
        // Up the parents (not through a whole tree: this runs once per unit in bulk work).
        let mut u = self.units.at(unit, date).or_else(|| self.units.get(unit))?;
        let mut depth = 0;
        while u.kind != UnitKind::Province {
            u = self.units.parent_of(u, date)?;
            depth += 1;
            if depth > 8 {
                return None;
            }
        }
        let province = u;
        self.plans
            .iter()
            .find(|p| p.province == province.code && p.in_force_on(date))
    }

    /// The rows a return of a form holds for a unit and period: the form's own, or for a form of a
    /// plan's tasks (F03) the tasks of the plan in force for the unit then.
    pub fn rows_of(&self, form: &Form, unit: &str, period: &Period) -> Vec<RowDef> {
        if !form.rows_from_plan {
            return form.rows.clone();
        }
        self.plan_for(unit, period.end(&self.periods))
            .map(|p| p.tasks.iter().map(|t| task_row(form, t)).collect())
            .unwrap_or_default()
    }

    /// The target of an indicator for a unit in the phase that contains `year`, with that phase: the
    /// target of the plan in force for the unit's province at the end of that year.
    pub fn target(&self, indicator: &str, unit: &str, year: i32) -> Option<(&Phase, &Target)> {
        let plan = self.plan_for(unit, chrono::NaiveDate::from_ymd_opt(year, 12, 31)?)?;
        let phase = plan.phases.iter().find(|p| p.from <= year && year <= p.to)?;
        let target = plan
            .targets
            .iter()
            .find(|t| t.indicator == indicator && t.phase == phase.id)?;
        Some((phase, target))
    }

    /// The deadline of a unit's returns for a period (by the unit's sender level).
    pub fn deadline(&self, unit: &str, period: &Period) -> Option<chrono::NaiveDate> {
        let unit = self
            .units
            .at(unit, period.end(&self.periods))
            .or_else(|| self.units.get(unit))?;
        period.deadline(&self.periods, SenderLevel::of(unit.kind))
    }

    /// The deadline of one return: a plan's own report deadline for the form of its tasks in the
    /// preliminary annual period (the year-end report; Quảng Ninh: before 15/11) where the plan sets
    /// one, else the calendar's by sender level.
    pub fn deadline_of(&self, unit: &str, form: &Form, period: &Period) -> Option<chrono::NaiveDate> {
        if form.rows_from_plan
            && period.kind == PeriodKind::Preliminary
            && let Some(d) = self
                .plan_for(unit, period.end(&self.periods))
                .and_then(|p| p.report_deadline_in(period.year))
        {
            return Some(d);
        }
        self.deadline(unit, period)
    }

    /// Forms a unit must send for a period: F01/F02 from every territorial unit and department valid
    /// then, forms of a plan's tasks only from the units that lead one of the tasks of the plan in
    /// force for them.
    pub fn forms_due(&self, unit: &Unit, period: &Period) -> Vec<&Form> {
        let date = period.end(&self.periods);
        if !unit.valid_on(date) {
            return Vec::new();
        }
        let leads = |u: &Unit| {
            self.plan_for(&u.key, date)
                .is_some_and(|p| p.tasks.iter().any(|t| t.leads.contains(&u.code)))
        };
        self.forms
            .iter()
            .filter(|f| f.periods.contains(&period.kind) && f.filed_by.contains(&unit.kind))
            .filter(|f| !f.rows_from_plan || leads(unit))
            .collect()
    }
}

/// A plan's task as a row of the form that reports the tasks.
fn task_row(form: &Form, t: &Task) -> RowDef {
    RowDef {
        code: t.code.clone(),
        label: t.title.clone(),
        unit: String::new(),
        columns: form.columns.iter().map(|c| c.number).collect(),
        flow: false,
        territorial_only: false,
        max: None,
    }
}

/// Indicators in the order the spec lists them: CDS, HĐ, NV, BC, then anything else.
fn indicator_order(code: &str) -> (usize, String) {
    let group = ["CDS-", "HĐ-", "NV-", "BC-"]
        .iter()
        .position(|p| code.starts_with(p))
        .unwrap_or(9);
    (group, code.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> CatalogSource {
        CatalogSource::from_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/catalog")).unwrap()
    }

    fn issues_of(src: &CatalogSource) -> Vec<CatalogIssue> {
        match Catalog::from_source(src) {
            Err(Error::Catalog(issues)) => issues,
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("a broken catalog loaded"),
        }
    }

    #[test]
    fn every_mistake_is_reported_with_its_file_and_line() {
        let mut src = bundled();
        let f01 = src.files.get_mut("forms/F01.toml").unwrap();
        *f01 = f01.replacen("columns = [1]\nflow = false", "columns = [7]\nflow = false", 1);
        let cds1 = src.files.get_mut("indicators/CDS-1.toml").unwrap();
        *cds1 = cds1.replace("F01.02(2)", "F01.99(2)");
        let units = src.files.get_mut("units.csv").unwrap();
        units.push_str("99999,Xã Lạc,commune,00,\n21028,Trùng mã,ward,51,\n");
        let issues = issues_of(&src);
        let find = |file: &str, needle: &str| {
            issues
                .iter()
                .find(|i| i.file == file && i.message.contains(needle))
                .unwrap_or_else(|| panic!("no issue in {file} about {needle}: {issues:#?}"))
        };
        let row = find("forms/F01.toml", "column (7)");
        let f01 = &src.files["forms/F01.toml"];
        let row_03_line = f01.lines().position(|l| l == "code = \"03\"").map(|i| i + 1);
        assert_eq!(row.line, row_03_line, "the `code = \"03\"` line of row 03");
        assert!(find("indicators/CDS-1.toml", "F01.99(2)").line.is_some());
        let lines = src.files["units.csv"].lines().count();
        assert_eq!(find("units.csv", "parent `00`").line, Some(lines - 1));
        assert_eq!(find("units.csv", "appears twice").line, Some(lines));
        assert!(issues.len() >= 4);
    }

    #[test]
    fn a_header_group_must_be_adjacent() {
        let mut src = bundled();
        let f01 = src.files.get_mut("forms/F01.toml").unwrap();
        // Move the group from column (2) to column (1): (1) and (3) share it with (2) between them.
        *f01 = f01
            .replacen("area = \"urban\"\ngroup = \"Chia ra\"", "area = \"urban\"", 1)
            .replacen("label = \"Tổng số\"", "label = \"Tổng số\"\ngroup = \"Chia ra\"", 1);
        let issues = issues_of(&src);
        let i = issues
            .iter()
            .find(|i| i.message.contains("group `Chia ra`"))
            .unwrap_or_else(|| panic!("{issues:#?}"));
        assert!(i.message.contains("column (3)"), "{i}");
        let line = src.files["forms/F01.toml"]
            .lines()
            .position(|l| l == "number = 3")
            .map(|n| n + 1);
        assert_eq!(i.line, line);
    }

    #[test]
    fn a_syntax_error_names_the_line() {
        let mut src = bundled();
        src.files.insert(
            "plans/broken.toml".into(),
            "id = \"x\"\nname = \"y\"\nissued = 2025-13-01x\n".into(),
        );
        let issues = issues_of(&src);
        let i = issues.iter().find(|i| i.file == "plans/broken.toml").unwrap();
        assert_eq!(i.line, Some(3), "{i}");
    }
}
