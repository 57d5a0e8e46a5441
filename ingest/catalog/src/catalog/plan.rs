//! Plans (kế hoạch): phases and targets, and the tasks whose progress form 03 reports.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use super::{Issues, UnitKind, Units, parse_toml};

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
    /// Who states the target (the Prime Minister's decision, or the plan).
    pub source: String,
    #[serde(skip)]
    pub line: Option<usize>,
}

/// When a task is due.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskDue {
    Date(NaiveDate),
    /// 31/12 of each year from `from`, counted in annual periods.
    Yearly {
        from: i32,
    },
    /// Shown with its status, left out of NV-1.
    Ongoing,
}

impl TaskDue {
    /// As printed in reports: `31/12/2027`, `Hằng năm`, `Thường xuyên`.
    pub fn label(&self) -> String {
        match self {
            TaskDue::Date(d) => d.format("%d/%m/%Y").to_string(),
            TaskDue::Yearly { .. } => "Hằng năm".into(),
            TaskDue::Ongoing => "Thường xuyên".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Task {
    pub code: String,
    pub title: String,
    /// Lead agencies as the plan names them.
    pub lead_names: Vec<String>,
    /// Lead unit codes, resolved from the names against the unit list.
    pub leads: Vec<String>,
    pub due: TaskDue,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub id: String,
    pub name: String,
    pub issued: NaiveDate,
    pub programme: String,
    pub in_force: bool,
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
    #[serde(default)]
    in_force: bool,
    #[serde(default)]
    phases: Vec<Phase>,
    #[serde(default)]
    targets: Vec<Target>,
    #[serde(default)]
    agencies: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    tasks: Vec<TaskFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskFile {
    code: String,
    title: String,
    leads: Vec<String>,
    due: String,
    #[serde(default)]
    from: Option<i32>,
}

impl Task {
    /// When the task is due if it falls due by the end of `period`: a dated task once its date has
    /// come, a yearly task on 31/12 of an annual period's year from its first year; ongoing tasks
    /// never (they are shown with their status and left out of NV-1).
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

impl Plan {
    pub(crate) fn parse(file: &str, text: &str, units: &Units, issues: &mut Issues) -> Option<Plan> {
        let p: PlanFile = parse_toml(file, text, issues)?;
        let line_of = |needle: &str| text.find(needle).map(|o| super::line_at(text, o));
        let issued = NaiveDate::parse_from_str(&p.issued, "%Y-%m-%d")
            .map_err(|_| {
                issues.push(
                    file,
                    line_of("issued"),
                    format!("issued `{}` is not a YYYY-MM-DD date", p.issued),
                )
            })
            .unwrap_or_default();
        let mut tasks = Vec::new();
        for t in p.tasks {
            let line = line_of(&format!("code = \"{}\"", t.code));
            let due = match t.due.as_str() {
                "yearly" => TaskDue::Yearly {
                    from: t.from.unwrap_or(issued.year()),
                },
                "ongoing" => TaskDue::Ongoing,
                d => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                    Ok(date) => TaskDue::Date(date),
                    Err(_) => {
                        issues.push(
                            file,
                            line,
                            format!("task {}: due `{d}` is not a date, `yearly` or `ongoing`", t.code),
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
                        "@department" => units
                            .list
                            .iter()
                            .filter(|u| u.kind == UnitKind::Department)
                            .map(|u| u.code.clone())
                            .collect(),
                        "@territorial" => units
                            .list
                            .iter()
                            .filter(|u| u.kind.is_territorial())
                            .map(|u| u.code.clone())
                            .collect(),
                        // A code the unit list lacks is a department this province does not have.
                        c => units.get(c).map(|u| u.code.clone()).into_iter().collect(),
                    };
                    for f in found {
                        if !leads.contains(&f) {
                            leads.push(f);
                        }
                    }
                }
            }
            tasks.push(Task {
                code: t.code,
                title: t.title,
                lead_names: t.leads,
                leads,
                due,
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
            in_force: p.in_force,
            phases: p.phases,
            targets,
            tasks,
            file: file.to_owned(),
        })
    }

    pub fn task(&self, code: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.code == code)
    }
}
