//! The effective values of a period (official else preliminary per unit and form; for a phase,
//! flows summed and stocks from each unit's last year) as the forms show them: summed over a unit's
//! subtree for the report's form sheets, or unit by unit for its per-unit sheets.

use std::collections::BTreeMap;

use pbgdpl_catalog::PeriodSpec;

use crate::indicators::{col_i64, col_strings, period_session, q, run};
use crate::view::View;
use crate::{Engine, Error, Result};

/// A form cell: (form, row, column).
pub type CellKey = (String, String, u32);

/// Whole-number cells by (form, row, column).
pub type Cells = BTreeMap<CellKey, i64>;

async fn query(
    engine: &Engine,
    spec: &PeriodSpec,
    unit: &str,
    per_unit: bool,
    view: View,
) -> Result<BTreeMap<String, Cells>> {
    let target = view
        .unit(engine.catalog(), unit)
        .ok_or_else(|| Error::UnknownUnit(unit.to_owned()))?;
    let ctx = period_session(engine, spec, view).await?;
    let under = q(&target.key);
    let sql = if per_unit {
        // Each unit of the period whose figures go to the target, with its own figures whole.
        format!(
            "SELECT e.unit AS unit, e.form, e.row_code, e.col, MAX(e.num) AS num FROM eff e \
             WHERE e.num IS NOT NULL AND e.unit IN \
               (SELECT f.src FROM fwd f JOIN tree t ON f.dst = t.descendant WHERE t.ancestor = {under}) \
             GROUP BY e.unit, e.form, e.row_code, e.col"
        )
    } else {
        // The sum over those units, a divided unit by its share (rounded to whole people at the end).
        format!(
            "SELECT t.ancestor AS unit, e.form, e.row_code, e.col, CAST(ROUND(SUM(e.num * f.share)) AS BIGINT) AS num \
             FROM eff e JOIN fwd f ON e.unit = f.src JOIN tree t ON f.dst = t.descendant \
             WHERE t.ancestor = {under} AND e.num IS NOT NULL GROUP BY t.ancestor, e.form, e.row_code, e.col"
        )
    };
    let mut out: BTreeMap<String, Cells> = BTreeMap::new();
    for b in run(&ctx, &sql).await? {
        let units = col_strings(&b, "unit")?;
        let forms = col_strings(&b, "form")?;
        let rows = col_strings(&b, "row_code")?;
        let cols = col_i64(&b, "col")?;
        let nums = col_i64(&b, "num")?;
        for i in 0..units.len() {
            let (Some(u), Some(f), Some(r), Some(c), Some(n)) = (&units[i], &forms[i], &rows[i], cols[i], nums[i])
            else {
                continue;
            };
            out.entry(u.clone())
                .or_default()
                .insert((f.clone(), r.clone(), c as u32), n);
        }
    }
    Ok(out)
}

/// Every whole-number cell summed over the units whose figures go to `unit`.
pub(crate) async fn form_totals(engine: &Engine, spec: &PeriodSpec, unit: &str, view: View) -> Result<Cells> {
    let key = view
        .unit(engine.catalog(), unit)
        .map(|u| u.key.clone())
        .unwrap_or_else(|| unit.to_owned());
    Ok(query(engine, spec, unit, false, view)
        .await?
        .remove(&key)
        .unwrap_or_default())
}

/// Each unit's own whole-number cells, for the units whose figures go to `unit` that reported any.
pub(crate) async fn unit_values(
    engine: &Engine,
    spec: &PeriodSpec,
    unit: &str,
    view: View,
) -> Result<BTreeMap<String, Cells>> {
    query(engine, spec, unit, true, view).await
}

/// The cells of one form, by (row, column).
pub fn of_form<'a>(cells: &'a Cells, form: &str) -> BTreeMap<(&'a str, u32), i64> {
    cells
        .iter()
        .filter(|((f, _, _), _)| f == form)
        .map(|((_, r, c), n)| ((r.as_str(), *c), *n))
        .collect()
}
