//! Plans (kế hoạch): a province's plan for a Prime Minister's programme (or a provincial resolution),
//! in force over its dates — its phases and targets, its tasks with their lead (chủ trì) and
//! coordinating (phối hợp) agencies and when each is due, the rule that says when a task led by many
//! is done, and its own report deadline. The tasks are the rows of form 03 for the returns of that
//! province and those dates.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use super::{Issues, UnitKind, Units, parse_toml, units::present};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub id: u32,
    pub name: String,
    pub from: i32,
    pub to: i32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub indicator: String,
    pub phase: u32,
    /// The value reached counts as "Đạt" when it is at least this.
    pub min: f64,
    /// Who states the target: a decision cited by number and date, or the plan.
    pub source: String,
    #[serde(skip)]
    pub line: Option<usize>,
}

/// When a task is due.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskDue {
    /// On a date (a quarter's last day when the plan says "Quý III/2021").
    Date(NaiveDate),
    /// 31/12 of each year from `from`, counted in annual periods.
    Yearly { from: i32 },
    /// Shown with its status, left out of NV-1.
    Ongoing,
    /// "Theo hướng dẫn của Bộ Tư pháp": shown, left out of NV-1 like an ongoing task.
    Guidance,
}

impl TaskDue {
    /// As printed in reports: `31/12/2027`, `Hằng năm`, `Thường xuyên`, `Theo hướng dẫn của Bộ Tư pháp`.
    pub fn label(&self) -> String {
        match self {
            TaskDue::Date(d) => d.format("%d/%m/%Y").to_string(),
            TaskDue::Yearly { .. } => "Hằng năm".into(),
            TaskDue::Ongoing => "Thường xuyên".into(),
            TaskDue::Guidance => "Theo hướng dẫn của Bộ Tư pháp".into(),
        }
    }
}

/// When a task with several leads counts as done for NV-1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DoneRule {
    /// Every lead completed it.
    All,
    /// At least this share of the leads completed it (a task of every department and commune).
    Share(f64),
}

impl DoneRule {
    fn parse(s: &str) -> Option<DoneRule> {
        match s.trim() {
            "all" => Some(DoneRule::All),
            s => s
                .strip_prefix("share:")
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| *v > 0.0 && *v <= 1.0)
                .map(DoneRule::Share),
        }
    }

    /// Whether `done` of `leads` leads is done enough.
    pub fn met(self, done: usize, leads: usize) -> bool {
        match self {
            DoneRule::All => leads > 0 && done == leads,
            DoneRule::Share(s) => leads > 0 && done as f64 >= s * leads as f64 - 1e-9,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Task {
    pub code: String,
    pub title: String,
    /// Lead agencies as the plan names them.
    pub lead_names: Vec<String>,
    /// Lead unit codes, resolved from the names against the unit list on the plan's dates.
    pub leads: Vec<String>,
    /// Coordinating agencies as the plan names them (phối hợp).
    pub coordinators: Vec<String>,
    pub due: TaskDue,
    /// The plan's own words for when ("Từ năm 2026-2030", "Quý III/2021"), shown beside the due.
    pub timing: String,
    pub done_rule: DoneRule,
}

impl Task {
    /// When the task is due if it falls due by the end of `period`: a dated task once its date has
    /// come, a yearly task on 31/12 of an annual period's year from its first year; ongoing tasks and
    /// tasks done "per the Ministry's guidance" never (they are shown with their status and left out
    /// of NV-1).
    pub fn due_by(&self, period: &super::Period, cal: &super::PeriodCalendar) -> Option<NaiveDate> {
        match self.due {
            TaskDue::Date(d) if d <= period.end(cal) => Some(d),
            TaskDue::Yearly { from } if period.kind.is_annual() && period.year >= from => {
                NaiveDate::from_ymd_opt(period.year, 12, 31)
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub id: String,
    pub name: String,
    pub issued: NaiveDate,
    /// The programme it implements, cited by number and date.
    pub programme: String,
    /// The code of the province whose plan it is.
    pub province: String,
    /// In force from (the issue date unless the plan says otherwise) to (the end of its last year).
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The plan's own deadline for the annual report of its tasks (`MM-DD`), where it sets one.
    pub report_deadline: Option<(u32, u32)>,
    pub phases: Vec<Phase>,
    pub targets: Vec<Target>,
    pub tasks: Vec<Task>,
    pub file: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    id: String,
    name: String,
    issued: String,
    #[serde(default)]
    programme: String,
    province: String,
    #[serde(default)]
    from: Option<String>,
    to: String,
    #[serde(default)]
    report_deadline: Option<String>,
    #[serde(default = "all")]
    done_rule: String,
    #[serde(default)]
    phases: Vec<Phase>,
    #[serde(default)]
    targets: Vec<Target>,
    #[serde(default)]
    agencies: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    tasks: Vec<TaskFile>,
}

fn all() -> String {
    "all".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskFile {
    code: String,
    title: String,
    leads: Vec<String>,
    #[serde(default)]
    coordinators: Vec<String>,
    due: String,
    #[serde(default)]
    from: Option<i32>,
    #[serde(default)]
    timing: String,
    #[serde(default)]
    done_rule: Option<String>,
}

/// `Q3/2021` (also `Quý III/2021`): the last day of that quarter.
fn quarter_end(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let (q, year) = s
        .strip_prefix("Quý ")
        .or_else(|| s.strip_prefix('Q'))
        .and_then(|r| r.split_once('/'))?;
    let q = match q.trim() {
        "1" | "I" => 1,
        "2" | "II" => 2,
        "3" | "III" => 3,
        "4" | "IV" => 4,
        _ => return None,
    };
    let year: i32 = year.trim().parse().ok()?;
    let first_of_next = if q == 4 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, 3 * q + 1, 1)
    }?;
    first_of_next.pred_opt()
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

impl Plan {
    pub(crate) fn parse(file: &str, text: &str, units: &Units, issues: &mut Issues) -> Option<Plan> {
        let p: PlanFile = parse_toml(file, text, issues)?;
        let line_of = |needle: &str| text.find(needle).map(|o| super::line_at(text, o));
        let mut bad_date = |key: &str, v: &str| {
            issues.push(file, line_of(key), format!("{key} `{v}` is not a YYYY-MM-DD date"));
        };
        let issued = date(&p.issued).unwrap_or_else(|| {
            bad_date("issued", &p.issued);
            NaiveDate::default()
        });
        let from = match &p.from {
            Some(f) => date(f).unwrap_or_else(|| {
                bad_date("from", f);
                issued
            }),
            None => issued,
        };
        let to = date(&p.to).unwrap_or_else(|| {
            bad_date("to", &p.to);
            present()
        });
        let report_deadline = p.report_deadline.as_deref().and_then(|md| {
            let parsed = md
                .split_once('-')
                .and_then(|(m, d)| Some((m.parse::<u32>().ok()?, d.parse::<u32>().ok()?)))
                .filter(|&(m, d)| NaiveDate::from_ymd_opt(2024, m, d).is_some());
            if parsed.is_none() {
                issues.push(
                    file,
                    line_of("report_deadline"),
                    format!("report_deadline `{md}` is not MM-DD"),
                );
            }
            parsed
        });
        // The province and the agencies are found among the units valid while the plan is in force.
        let on = to.min(present());
        // A plan of a province this unit list does not have is not this catalog's (one catalog of
        // plans serves a province and the Ministry's whole country alike).
        units.get(&p.province)?;
        let Some(province) = units.at(&p.province, from).or_else(|| units.at(&p.province, on)) else {
            issues.push(
                file,
                line_of("province"),
                format!("province `{}` is not in the unit list on the plan's dates", p.province),
            );
            return None;
        };
        let province_tree = units.tree(from.max(province.valid_from.unwrap_or(from)));
        let in_province: Vec<&super::Unit> = province_tree.subtree(&province.key);
        let plan_rule = DoneRule::parse(&p.done_rule).unwrap_or_else(|| {
            issues.push(
                file,
                line_of("done_rule"),
                format!("done_rule `{}` is not `all` or `share:0.9`", p.done_rule),
            );
            DoneRule::All
        });
        let mut tasks = Vec::new();
        for t in p.tasks {
            let line = line_of(&format!("code = \"{}\"", t.code));
            let due = match t.due.as_str() {
                "yearly" => TaskDue::Yearly {
                    from: t.from.unwrap_or(from.year()),
                },
                "ongoing" => TaskDue::Ongoing,
                "guidance" => TaskDue::Guidance,
                d => match date(d).or_else(|| quarter_end(d)) {
                    Some(day) => TaskDue::Date(day),
                    None => {
                        issues.push(
                            file,
                            line,
                            format!(
                                "task {}: due `{d}` is not a date, a quarter (Q3/2021), `yearly`, `ongoing` or `guidance`",
                                t.code
                            ),
                        );
                        TaskDue::Ongoing
                    }
                },
            };
            let mut leads = Vec::new();
            for name in &t.leads {
                let Some(codes) = p.agencies.get(name) else {
                    issues.push(
                        file,
                        line,
                        format!("task {}: lead `{name}` is not in [agencies]", t.code),
                    );
                    continue;
                };
                for code in codes {
                    let found: Vec<String> = match code.as_str() {
                        "@department" => in_province
                            .iter()
                            .filter(|u| u.kind == UnitKind::Department)
                            .map(|u| u.code.clone())
                            .collect(),
                        "@territorial" => in_province
                            .iter()
                            .filter(|u| u.kind.is_territorial() && u.kind != UnitKind::District)
                            .map(|u| u.code.clone())
                            .collect(),
                        "@district" => in_province
                            .iter()
                            .filter(|u| u.kind == UnitKind::District)
                            .map(|u| u.code.clone())
                            .collect(),
                        // A code the unit list lacks is an agency this province does not have.
                        c => in_province
                            .iter()
                            .filter(|u| u.code == c)
                            .map(|u| u.code.clone())
                            .collect(),
                    };
                    for f in found {
                        if !leads.contains(&f) {
                            leads.push(f);
                        }
                    }
                }
            }
            let done_rule = match t.done_rule.as_deref() {
                None => plan_rule,
                Some(r) => DoneRule::parse(r).unwrap_or_else(|| {
                    issues.push(
                        file,
                        line,
                        format!("task {}: done_rule `{r}` is not `all` or `share:0.9`", t.code),
                    );
                    plan_rule
                }),
            };
            tasks.push(Task {
                code: t.code,
                title: t.title,
                lead_names: t.leads,
                leads,
                coordinators: t.coordinators,
                due,
                timing: t.timing,
                done_rule,
            });
        }
        let mut targets = p.targets;
        for t in &mut targets {
            t.line = line_of(&format!("indicator = \"{}\"", t.indicator));
            if !p.phases.iter().any(|ph| ph.id == t.phase) {
                issues.push(
                    file,
                    t.line,
                    format!("target for {}: phase {} is not defined", t.indicator, t.phase),
                );
            }
        }
        Some(Plan {
            id: p.id,
            name: p.name,
            issued,
            programme: p.programme,
            province: province.code.clone(),
            from,
            to,
            report_deadline,
            phases: p.phases,
            targets,
            tasks,
            file: file.to_owned(),
        })
    }

    pub fn task(&self, code: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.code == code)
    }

    pub fn in_force_on(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }

    /// The plan's annual report deadline for a year, where it sets one (Quảng Ninh: before 15/11).
    pub fn report_deadline_in(&self, year: i32) -> Option<NaiveDate> {
        self.report_deadline
            .and_then(|(m, d)| NaiveDate::from_ymd_opt(year, m, d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_and_rules() {
        assert_eq!(quarter_end("Q3/2021"), NaiveDate::from_ymd_opt(2021, 9, 30));
        assert_eq!(quarter_end("Quý II/2021"), NaiveDate::from_ymd_opt(2021, 6, 30));
        assert_eq!(quarter_end("Q4/2021"), NaiveDate::from_ymd_opt(2021, 12, 31));
        assert_eq!(quarter_end("Q5/2021"), None);
        assert!(DoneRule::Share(0.9).met(9, 10) && !DoneRule::Share(0.9).met(8, 10));
        assert!(DoneRule::All.met(3, 3) && !DoneRule::All.met(2, 3) && !DoneRule::All.met(0, 0));
        assert_eq!(DoneRule::parse("share:0.9"), Some(DoneRule::Share(0.9)));
        assert_eq!(DoneRule::parse("most"), None);
    }
}
