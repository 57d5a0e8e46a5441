//! Everything a report is made of, computed by the engine for a period and unit: the indicators,
//! the forms' totals, each unit's figures, the tasks' progress, who reported, and for an annual
//! report the year before. The workbook and the narrative only format it.

use std::collections::BTreeMap;

use pbgdpl_catalog::{Catalog, Period, PeriodKind, PeriodSpec};
use pbgdpl_engine::{Cells, Engine, Expected, IndicatorValue, TaskProgress, View};

use crate::Result;

/// One report's facts.
pub struct Report<'e> {
    pub catalog: &'e Catalog,
    pub period: Period,
    /// The unit the report is for (the province by default), by key.
    pub unit: String,
    /// The hierarchy the figures are shown in (today's by default).
    pub view: View,
    /// The unit and its children.
    pub indicators: Vec<IndicatorValue>,
    /// Whole-number cells summed over the unit and every unit under it.
    pub totals: Cells,
    /// Each unit's own whole-number cells.
    pub unit_values: BTreeMap<String, Cells>,
    /// Every task lead's progress under the unit.
    pub tasks: Vec<TaskProgress>,
    /// Every return due under the unit, with what arrived.
    pub completeness: Vec<Expected<'e>>,
    /// For an annual report, the year before.
    pub previous: Option<Previous>,
}

/// The year before, for the annual report's comparisons: its figures as the engine gives them
/// (official, else preliminary, unit by unit and form by form).
#[derive(Debug, Clone)]
pub struct Previous {
    pub indicators: Vec<IndicatorValue>,
    pub totals: Cells,
}

/// The period an annual report compares with: the year before, official edition (the engine falls
/// back to the preliminary one, unit by unit). None for a semiannual report.
fn year_before(period: &Period) -> Option<Period> {
    period.kind.is_annual().then(|| Period {
        year: period.year - 1,
        kind: PeriodKind::Official,
    })
}

impl<'e> Report<'e> {
    /// The stored periods a report of `period` reads (its own and the one it compares with): what
    /// an engine must have read before [`Report::compute`].
    pub fn periods(period: Period) -> Vec<String> {
        let mut out = PeriodSpec::Single(period).stored_periods();
        if let Some(before) = year_before(&period) {
            out.extend(PeriodSpec::Single(before).stored_periods());
        }
        out
    }

    /// Computes a report's facts in today's hierarchy.
    pub async fn compute(engine: &'e Engine, period: Period, unit: &str) -> Result<Report<'e>> {
        Report::compute_in(engine, period, unit, View::Present).await
    }

    /// Computes a report's facts in a chosen view of time.
    pub async fn compute_in(engine: &'e Engine, period: Period, unit: &str, view: View) -> Result<Report<'e>> {
        let spec = PeriodSpec::Single(period);
        let previous = match year_before(&period) {
            Some(before) => {
                let spec = PeriodSpec::Single(before);
                Some(Previous {
                    indicators: engine.indicators_in(&spec, unit, view).await?,
                    totals: engine.form_totals_in(&spec, unit, view).await?,
                })
            }
            None => None,
        };
        let key = view
            .unit(engine.catalog(), unit)
            .map(|u| u.key.clone())
            .unwrap_or_else(|| unit.to_owned());
        Ok(Report {
            catalog: engine.catalog(),
            period,
            indicators: engine.indicators_in(&spec, unit, view).await?,
            totals: engine.form_totals_in(&spec, unit, view).await?,
            unit_values: engine.unit_values_in(&spec, unit, view).await?,
            tasks: engine.tasks_in(&spec, unit, view).await?,
            completeness: engine.completeness_in(&period, unit, view)?,
            unit: key,
            view,
            previous,
        })
    }

    /// The report's unit's name.
    pub fn unit_name(&self) -> String {
        self.catalog
            .units
            .get(&self.unit)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| self.unit.clone())
    }

    /// The plans whose tasks the report lists, in catalog order: those in force at the end of the
    /// period with a task lead under the report's unit.
    pub fn plans(&self) -> Vec<&'e pbgdpl_catalog::Plan> {
        self.catalog
            .plans
            .iter()
            .filter(|p| self.tasks.iter().any(|t| t.plan == p.id))
            .collect()
    }
}

/// The report's files: (workbook .xlsx, narrative .docx), dated `date`.
pub async fn report_files(
    engine: &Engine,
    period: Period,
    unit: &str,
    view: View,
    date: chrono::NaiveDate,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let report = Report::compute_in(engine, period, unit, view).await?;
    let xlsx = crate::workbook::report_workbook(&report)?;
    let docx = crate::narrative::to_docx(&crate::narrative::narrative(&report, date))?;
    Ok((xlsx, docx))
}

/// The file name stem of a report: `bao-cao-pbgdpl-UNIT-PERIOD`, with the unit's key, so that the
/// report of old Quảng Ngãi (`51@2025-06-30`) and today's (`51`) on the same year never overwrite
/// each other.
pub fn file_stem(unit: &str, period: &Period) -> String {
    format!("bao-cao-pbgdpl-{unit}-{}", period.code())
}
