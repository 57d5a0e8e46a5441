//! The progress of the plan's tasks as their leads report it on the task form (F03): one rule for
//! the report's task sheet, the narrative and NV-1.

use chrono::NaiveDate;
use pbgdpl_catalog::{ColumnRole, DoneRule, PeriodSpec};

use datafusion::arrow::array::{Array, RecordBatch};

use crate::indicators::{col_i64, text_column as text};
use crate::view::View;
use crate::{Engine, Error, Result};

/// One lead's progress on one task.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskProgress {
    /// The plan's id (`137/KH-UBND`).
    pub plan: String,
    /// The task code (`NV03`).
    pub task: String,
    /// The lead unit's key.
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
    /// When the task counts as done for NV-1 (every lead, or a share of them).
    pub done_rule: DoneRule,
}

impl TaskProgress {
    /// Due by the end of the period and not completed on time.
    pub fn overdue(&self) -> bool {
        self.due.is_some() && !self.on_time
    }
}

/// Every (task, lead) of the plans in force at the end of the period, for the leads whose figures go
/// to `unit` in the view, plan by plan in plan order.
pub(crate) fn tasks(engine: &Engine, spec: &PeriodSpec, unit: &str, view: View) -> Result<Vec<TaskProgress>> {
    let eff = crate::effective::eff_of(engine, spec)?;
    tasks_in(engine, &eff, spec, unit, view)
}

/// [`tasks`] over the period's effective values already built (NV-1 beside the other indicators,
/// whose request has built them once already).
pub(crate) fn tasks_in(
    engine: &Engine,
    eff: &[RecordBatch],
    spec: &PeriodSpec,
    unit: &str,
    view: View,
) -> Result<Vec<TaskProgress>> {
    let catalog = engine.catalog();
    let target = view
        .unit(catalog, unit)
        .ok_or_else(|| Error::UnknownUnit(unit.to_owned()))?;
    let Some(form) = catalog.task_form() else {
        return Ok(Vec::new());
    };
    let period = spec.reference_period();
    let end = period.end(&catalog.periods);
    let scope = engine.scope(view)?;
    let status_col = form.status_column();
    let column = |role: ColumnRole| form.columns.iter().find(|c| c.role == Some(role)).map(|c| c.number);
    let (date_col, result_col, difficulties_col) = (
        status_col.and_then(|c| c.date_column),
        column(ColumnRole::Result),
        column(ColumnRole::Difficulties),
    );
    let mut cells: std::collections::HashMap<(String, String, u32), String> = Default::default();
    for b in eff {
        let (units, forms, rows) = (text(b, "unit")?, text(b, "form")?, text(b, "row_code")?);
        let (cols, txts) = (col_i64(b, "col")?, text(b, "txt")?);
        for (i, col) in cols.iter().enumerate() {
            if forms.is_null(i) || forms.value(i) != form.id || units.is_null(i) || rows.is_null(i) || txts.is_null(i) {
                continue;
            }
            if let Some(c) = col {
                cells.insert(
                    (units.value(i).to_owned(), rows.value(i).to_owned(), *c as u32),
                    txts.value(i).to_owned(),
                );
            }
        }
    }
    let done_choice = status_col.and_then(|c| c.done.as_deref());
    let mut out = Vec::new();
    for plan in catalog.plans.iter().filter(|p| p.in_force_on(end)) {
        for task in &plan.tasks {
            let due = task.due_by(&period, &catalog.periods);
            for code in &task.leads {
                let Some(lead) = catalog.units.at(code, end) else {
                    continue;
                };
                if !scope.destinations(lead).contains(&target.key.as_str()) {
                    continue;
                }
                let get =
                    |col: Option<u32>| col.and_then(|c| cells.get(&(lead.key.clone(), task.code.clone(), c)).cloned());
                let status = get(status_col.map(|c| c.number));
                let done_on = get(date_col).and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
                let done = status.is_some() && status.as_deref() == done_choice;
                let on_time = done && matches!((done_on, due), (Some(d), Some(by)) if d <= by);
                let reported = form
                    .columns
                    .iter()
                    .any(|c| cells.contains_key(&(lead.key.clone(), task.code.clone(), c.number)));
                out.push(TaskProgress {
                    plan: plan.id.clone(),
                    task: task.code.clone(),
                    lead: lead.key.clone(),
                    status,
                    done_on,
                    result: get(result_col),
                    difficulties: get(difficulties_col),
                    due,
                    done,
                    on_time,
                    reported,
                    done_rule: task.done_rule,
                });
            }
        }
    }
    Ok(out)
}
