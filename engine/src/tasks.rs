//! The progress of the plan's tasks as their leads report it on the task form (F03): one rule for
//! the report's task sheet, the narrative and NV-1.

use chrono::NaiveDate;
use pbgdpl_catalog::{ColumnRole, PeriodSpec};

use crate::indicators::{col_i64, col_strings, period_session, q, run};
use crate::{Engine, Error, Result};

/// One lead's progress on one task.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskProgress {
    /// The task code (`NV03`).
    pub task: String,
    /// The lead unit's code.
    pub lead: String,
    /// The status as reported, in the catalog's spelling; `None` when the lead did not report it.
    pub status: Option<String>,
    pub done_on: Option<NaiveDate>,
    pub result: Option<String>,
    pub difficulties: Option<String>,
    /// When the task is due, if it is due by the end of the period (ongoing tasks and tasks due
    /// later are not).
    pub due: Option<NaiveDate>,
    /// The status is the form's "done" choice.
    pub done: bool,
    /// Done, with a completion date no later than the due date.
    pub on_time: bool,
    /// The lead sent anything for this task.
    pub reported: bool,
}

impl TaskProgress {
    /// Due by the end of the period and not completed on time.
    pub fn overdue(&self) -> bool {
        self.due.is_some() && !self.on_time
    }
}

/// Every (task, lead) of the plan in force, for the leads under `unit`, in plan order.
pub(crate) async fn tasks(engine: &Engine, spec: &PeriodSpec, unit: &str) -> Result<Vec<TaskProgress>> {
    let catalog = engine.catalog();
    if catalog.units.get(unit).is_none() {
        return Err(Error::UnknownUnit(unit.to_owned()));
    }
    let (Some(plan), Some(form)) = (catalog.plan_in_force(), catalog.task_form()) else {
        return Ok(Vec::new());
    };
    let status_col = form.status_column();
    let column = |role: ColumnRole| form.columns.iter().find(|c| c.role == Some(role)).map(|c| c.number);
    let (date_col, result_col, difficulties_col) = (
        status_col.and_then(|c| c.date_column),
        column(ColumnRole::Result),
        column(ColumnRole::Difficulties),
    );
    let ctx = period_session(engine, spec).await?;
    let sql = format!(
        "SELECT e.unit, e.row_code, e.col, e.txt FROM eff e JOIN tree t ON e.unit = t.descendant \
         WHERE t.ancestor = {} AND e.form = {}",
        q(unit),
        q(&form.id)
    );
    let mut cells: std::collections::HashMap<(String, String, u32), String> = Default::default();
    for b in run(&ctx, &sql).await? {
        let units = col_strings(&b, "unit")?;
        let rows = col_strings(&b, "row_code")?;
        let cols = col_i64(&b, "col")?;
        let txts = col_strings(&b, "txt")?;
        for i in 0..units.len() {
            if let (Some(u), Some(r), Some(c), Some(t)) = (&units[i], &rows[i], cols[i], &txts[i]) {
                cells.insert((u.clone(), r.clone(), c as u32), t.clone());
            }
        }
    }
    let period = spec.reference_period();
    let under: std::collections::HashSet<&str> = catalog.units.subtree(unit).iter().map(|u| u.code.as_str()).collect();
    let done_choice = status_col.and_then(|c| c.done.as_deref());
    let mut out = Vec::new();
    for task in &plan.tasks {
        let due = task.due_by(&period, &catalog.periods);
        for lead in task.leads.iter().filter(|l| under.contains(l.as_str())) {
            let get = |col: Option<u32>| col.and_then(|c| cells.get(&(lead.clone(), task.code.clone(), c)).cloned());
            let status = get(status_col.map(|c| c.number));
            let done_on = get(date_col).and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
            let done = status.is_some() && status.as_deref() == done_choice;
            let on_time = done && matches!((done_on, due), (Some(d), Some(by)) if d <= by);
            let reported = form
                .columns
                .iter()
                .any(|c| cells.contains_key(&(lead.clone(), task.code.clone(), c.number)));
            out.push(TaskProgress {
                task: task.code.clone(),
                lead: lead.clone(),
                status,
                done_on,
                result: get(result_col),
                difficulties: get(difficulties_col),
                due,
                done,
                on_time,
                reported,
            });
        }
    }
    Ok(out)
}
