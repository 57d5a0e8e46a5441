//! The effective values of a period (official else preliminary per unit and form; for a phase,
//! flows summed and stocks from each unit's last year) as the forms show them: summed over a unit's
//! subtree for the report's form sheets, or unit by unit for its per-unit sheets.

use std::collections::BTreeMap;

use pbgdpl_catalog::PeriodSpec;

use crate::indicators::{col_i64, col_strings, period_session, q, run};
use crate::{Engine, Error, Result};

/// A form cell: (form, row, column).
pub type CellKey = (String, String, u32);

/// Whole-number cells by (form, row, column).
pub type Cells = BTreeMap<CellKey, i64>;

async fn query(engine: &Engine, spec: &PeriodSpec, unit: &str, per_unit: bool) -> Result<BTreeMap<String, Cells>> {
    if engine.catalog().units.get(unit).is_none() {
        return Err(Error::UnknownUnit(unit.to_owned()));
    }
    let ctx = period_session(engine, spec).await?;
    let (select, group) = if per_unit {
        ("e.unit AS unit", "e.unit, ")
    } else {
        ("t.ancestor AS unit", "t.ancestor, ")
    };
    let sql = format!(
        "SELECT {select}, e.form, e.row_code, e.col, SUM(e.num) AS num \
         FROM eff e JOIN tree t ON e.unit = t.descendant \
         WHERE t.ancestor = {} AND e.num IS NOT NULL GROUP BY {group}e.form, e.row_code, e.col",
        q(unit)
    );
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

/// Every whole-number cell summed over `unit` and the units under it.
pub(crate) async fn form_totals(engine: &Engine, spec: &PeriodSpec, unit: &str) -> Result<Cells> {
    Ok(query(engine, spec, unit, false).await?.remove(unit).unwrap_or_default())
}

/// Each unit's own whole-number cells, for `unit` and every unit under it that reported any.
pub(crate) async fn unit_values(engine: &Engine, spec: &PeriodSpec, unit: &str) -> Result<BTreeMap<String, Cells>> {
    query(engine, spec, unit, true).await
}

/// The cells of one form, by (row, column).
pub fn of_form<'a>(cells: &'a Cells, form: &str) -> BTreeMap<(&'a str, u32), i64> {
    cells
        .iter()
        .filter(|((f, _, _), _)| f == form)
        .map(|((_, r, c), n)| ((r.as_str(), *c), *n))
        .collect()
}
