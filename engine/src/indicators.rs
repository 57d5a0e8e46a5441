//! Indicator computation: one fold over the period's effective values ([`crate::effective`]) for
//! every cell-based catalog indicator, with the urban/rural attribution of totals filled alone, for
//! a unit and its children at once;
//! the reporting and task indicators from the one rule each of [`crate::completeness`] and
//! [`crate::tasks`].

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Int32Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::SessionContext;
use pbgdpl_catalog::{Catalog, Due, FormRule, Indicator, IndicatorKind, PeriodKind, PeriodSpec, Term, Unit};
use serde::Serialize;
use tracing::debug_span;

use crate::view::{Scope, View};
use crate::{Engine, Error, Result};

/// Whether a target is reached.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = TargetStatus))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Dat,
    ChuaDat,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Dat => "Đạt",
            Status::ChuaDat => "Chưa đạt",
        }
    }

    /// The id of `interfaces.md`: `dat` or `chua_dat`.
    pub fn id(self) -> &'static str {
        match self {
            Status::Dat => "dat",
            Status::ChuaDat => "chua_dat",
        }
    }
}

/// One indicator for one unit and period (the `indicators --format json` shape, plus context).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorValue {
    pub indicator: String,
    pub unit: String,
    pub period: String,
    /// Percent, per 1,000 (HĐ-2) or a count; `None` when there is no data.
    pub value: Option<f64>,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    pub target: Option<f64>,
    pub status: Option<Status>,
    /// Share (0–1) of the units due that reported the numerator.
    pub coverage: Option<f64>,
    /// Where the figures came from: `semiannual`, `official`, `preliminary` or `mixed`.
    pub basis: Option<String>,
    pub name: String,
    pub unit_name: String,
    /// `%`, `‰`, or the unit of a count.
    pub measure: String,
    /// value − target, in percentage points.
    pub gap: Option<f64>,
    /// Points per year needed to reach the target by the end of the phase.
    pub pace: Option<f64>,
    pub phase: Option<String>,
    pub target_source: Option<String>,
    pub reporting: i64,
    pub due: i64,
    /// For an indicator a catalog survey estimates: `survey` where the estimate replaced form 01's
    /// figures, `form` where there was no survey estimate. Absent for other indicators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The survey estimate behind `value` (when `source` is `survey`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub survey: Option<SurveyFigure>,
}

/// The normal quantile of a two-sided 95 % interval (a survey estimate's margin is `Z95 × se`).
pub const Z95: f64 = 1.959_963_984_540_054;

/// A survey estimate as the engine shows it: the value is `IndicatorValue::value`; here its
/// precision and sample (`numerator`/`denominator` are then respondents counted / answered).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyFigure {
    pub survey: String,
    /// Standard error, in the value's unit (percentage points); none when the sample is one cluster.
    pub se: Option<f64>,
    /// Half-width of the 95 % confidence interval (1.96 × se).
    pub margin: Option<f64>,
    /// The interval, clamped to 0–100 %.
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub respondents: i64,
    /// The sample size a simple random sample would need for the same precision.
    pub effective: Option<f64>,
    /// Clusters (communes, or respondents within a single commune) behind the variance.
    pub clusters: i64,
    /// False when the sample is below the survey's thresholds: shown, but not to be published.
    pub publishable: bool,
    /// Communes whose population was unknown, their respondents weighted 1.
    pub unweighted_communes: i64,
}

/// One row of the estimates batch (see `pbgdpl_surveys::COLUMNS`), kept by the engine.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Estimate {
    pub(crate) survey: String,
    pub(crate) respondents: i64,
    pub(crate) counted: i64,
    pub(crate) communes: i64,
    pub(crate) estimate: Option<f64>,
    pub(crate) se: Option<f64>,
    pub(crate) effective: Option<f64>,
    pub(crate) publishable: bool,
    pub(crate) unweighted_communes: i64,
    pub(crate) clusters: i64,
}

/// Estimates by (indicator, unit key, period code).
pub(crate) type Estimates = std::collections::HashMap<(String, String, String), Estimate>;

/// Reads the estimates batch the surveys crate hands over.
pub(crate) fn estimates_of(b: &RecordBatch) -> Result<Estimates> {
    let text = |n: &str| col_strings(b, n);
    let (survey, period, indicator, unit) = (text("survey")?, text("period")?, text("indicator")?, text("unit")?);
    let int = |n: &str| col_i64(b, n);
    let (respondents, counted, communes, unweighted, clusters) = (
        int("respondents")?,
        int("counted")?,
        int("communes")?,
        int("unweighted_communes")?,
        int("clusters")?,
    );
    let (estimate, se, effective) = (col_f64(b, "estimate")?, col_f64(b, "se")?, col_f64(b, "effective")?);
    let publishable = col_i64(b, "publishable")?;
    let mut out = Estimates::new();
    for i in 0..b.num_rows() {
        let key = (
            indicator[i].clone().unwrap_or_default(),
            unit[i].clone().unwrap_or_default(),
            period[i].clone().unwrap_or_default(),
        );
        out.insert(
            key,
            Estimate {
                survey: survey[i].clone().unwrap_or_default(),
                respondents: respondents[i].unwrap_or(0),
                counted: counted[i].unwrap_or(0),
                communes: communes[i].unwrap_or(0),
                estimate: estimate[i].filter(|v| v.is_finite()),
                se: se[i].filter(|v| v.is_finite()),
                effective: effective[i].filter(|v| v.is_finite()),
                publishable: publishable[i] == Some(1),
                unweighted_communes: unweighted[i].unwrap_or(0),
                clusters: clusters[i].unwrap_or(0),
            },
        );
    }
    Ok(out)
}

pub(crate) fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Column of a result as strings, whatever string type the plan produced.
pub(crate) fn col_strings(b: &RecordBatch, name: &str) -> Result<Vec<Option<String>>> {
    Ok(text_column(b, name)?.iter().map(|v| v.map(str::to_owned)).collect())
}

/// A text column of a batch as Arrow strings, whatever string type the plan produced.
pub(crate) fn text_column(b: &RecordBatch, name: &str) -> Result<StringArray> {
    let c = b
        .column_by_name(name)
        .ok_or_else(|| Error::Internal(format!("the query has no column {name}")))?;
    cast(c, &DataType::Utf8)?
        .as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .ok_or_else(|| Error::Internal(format!("column {name} is not text")))
}

pub(crate) fn col_f64(b: &RecordBatch, name: &str) -> Result<Vec<Option<f64>>> {
    let c = b
        .column_by_name(name)
        .ok_or_else(|| Error::Internal(format!("the query has no column {name}")))?;
    let c: ArrayRef = cast(c, &DataType::Float64)?;
    let a = c
        .as_any()
        .downcast_ref::<datafusion::arrow::array::Float64Array>()
        .ok_or_else(|| Error::Internal(format!("column {name} is not a number")))?;
    Ok((0..a.len()).map(|i| (!a.is_null(i)).then(|| a.value(i))).collect())
}

pub(crate) fn col_i64(b: &RecordBatch, name: &str) -> Result<Vec<Option<i64>>> {
    let c = b
        .column_by_name(name)
        .ok_or_else(|| Error::Internal(format!("the query has no column {name}")))?;
    let c: ArrayRef = cast(c, &DataType::Int64)?;
    let a = c
        .as_any()
        .downcast_ref::<datafusion::arrow::array::Int64Array>()
        .ok_or_else(|| Error::Internal(format!("column {name} is not a number")))?;
    Ok((0..a.len()).map(|i| (!a.is_null(i)).then(|| a.value(i))).collect())
}

pub(crate) async fn run(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    Ok(ctx.sql(sql).await?.collect().await?)
}

/// The (column, id) of the cells of one row that indicators read.
type RowIds = [(i32, i32)];

/// What the cell fold needs of one row of a form: the (column, id) of its cells that indicators
/// read, and the split it is a row of, if any.
#[derive(Debug, Default)]
struct RowPlan {
    cells: Vec<(i32, i32)>,
    split: Option<usize>,
}

/// A row of a form's `sum` rule over columns that each carry an area (F01 rows 01 and 02: total,
/// urban, rural): a unit whose own area is urban or rural may fill only the total, and its total
/// then counts in its area's column (the other area gets 0: a rural commune has no urban
/// population). The one home of that rule.
#[derive(Debug)]
struct Split {
    total: i32,
    /// (column, its area, the column's cell id when an indicator reads it).
    areas: Vec<(i32, String, Option<i32>)>,
}

/// Integer ids of the cells the catalog's indicators read, and the rows split by area, built once
/// per engine. The cell fold looks up one integer per value, where SQL compared three strings per
/// term (a dozen per indicator for every value of the period: a third of the query's time,
/// BENCHMARKS.md).
#[derive(Debug, Default)]
pub(crate) struct TermIds {
    /// form → row → what the fold reads of it.
    by_cell: HashMap<String, HashMap<String, RowPlan>>,
    /// How many ids there are (they run from 0).
    count: usize,
    splits: Vec<Split>,
}

/// What a row no indicator reads and no split holds gives the fold: nothing.
static NO_PLAN: RowPlan = RowPlan {
    cells: Vec::new(),
    split: None,
};

impl TermIds {
    pub(crate) fn of(catalog: &Catalog) -> Self {
        let mut ids = Self::default();
        let mut next = 0;
        for t in catalog
            .indicators
            .iter()
            .flat_map(|i| i.numerator.iter().chain(&i.denominator))
        {
            let column = t.column as i32;
            let cols = &mut ids
                .by_cell
                .entry(t.form.clone())
                .or_default()
                .entry(t.row.clone())
                .or_default()
                .cells;
            if !cols.iter().any(|(c, _)| *c == column) {
                cols.push((column, next));
                next += 1;
            }
        }
        ids.count = next as usize;
        // Which columns split by area is read from the forms' `sum` rules over columns that carry one.
        for form in &catalog.forms {
            for rule in &form.rules {
                let FormRule::Sum { rows, total, parts } = rule else {
                    continue;
                };
                let areas: Vec<(i32, String)> = parts
                    .iter()
                    .filter_map(|c| form.column(*c).and_then(|d| d.area.clone()).map(|a| (*c as i32, a)))
                    .collect();
                if areas.len() != parts.len() || areas.is_empty() {
                    continue;
                }
                for row in rows {
                    let plan = ids
                        .by_cell
                        .entry(form.id.clone())
                        .or_default()
                        .entry(row.clone())
                        .or_default();
                    plan.split = Some(ids.splits.len());
                    ids.splits.push(Split {
                        total: *total as i32,
                        areas: areas
                            .iter()
                            .map(|(c, a)| (*c, a.clone(), Self::in_row(&plan.cells, *c)))
                            .collect(),
                    });
                }
            }
        }
        ids
    }

    /// What the fold reads of a row.
    fn row_plan(&self, form: &str, row: &str) -> &RowPlan {
        self.by_cell
            .get(form)
            .and_then(|rows| rows.get(row))
            .unwrap_or(&NO_PLAN)
    }

    fn in_row(cells: &RowIds, column: i32) -> Option<i32> {
        cells.iter().find(|(c, _)| *c == column).map(|(_, id)| *id)
    }

    fn id(&self, form: &str, row: &str, column: i32) -> Option<i32> {
        Self::in_row(&self.row_plan(form, row).cells, column)
    }

    /// The ids of the cells of `terms`, each once.
    fn of_terms(&self, terms: &[Term]) -> Vec<usize> {
        let mut ids: Vec<usize> = terms
            .iter()
            .filter_map(|t| self.id(&t.form, &t.row, t.column as i32))
            .map(|id| id as usize)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// A session with the period's `eff` (built by [`crate::effective`]) as a table, over the view's
/// `tree` and `fwd`: for the computations written in SQL.
pub(crate) async fn period_session(engine: &Engine, spec: &PeriodSpec, view: View) -> Result<SessionContext> {
    let ctx = engine.session_of(view, Some(&spec.stored_periods()))?;
    let eff = crate::effective::eff_of(engine, spec)?;
    let table = datafusion::datasource::MemTable::try_new(crate::effective::eff_schema(), vec![eff])?;
    ctx.register_table("eff", Arc::new(table))?;
    Ok(ctx)
}

/// Per requested unit: numerator, denominator (sums that carry the shares of divided units, so not
/// always whole), units reporting, units due, basis.
#[derive(Debug, Clone, Default)]
struct Row {
    numerator: Option<f64>,
    denominator: Option<f64>,
    reporting: i64,
    due: i64,
    basis: Option<String>,
}

/// The form whose due returns an indicator's coverage counts: its numerator's.
fn numerator_form(ind: &Indicator) -> &str {
    ind.numerator.first().map_or("", |t| t.form.as_str())
}

/// One cell indicator's figures for one unit: its own cells, or — for a unit asked for — the
/// cells of every unit whose figures go to it, each by its share.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    numerator: Option<f64>,
    denominator: Option<f64>,
    /// A unit's own: 1 when a numerator cell holds a number. Rolled up: the units due that did.
    reporting: i64,
    /// The lowest and highest basis (`src`) of the numerator cells, as indexes into the bases
    /// seen: equal when every cell has the same basis, which is all the basis shown needs.
    lo: Option<usize>,
    hi: Option<usize>,
}

impl Sums {
    fn add(to: &mut Option<f64>, v: Option<f64>, share: f64) {
        if let Some(v) = v {
            *to = Some(to.unwrap_or(0.0) + v * share);
        }
    }

    fn widen(&mut self, lo: Option<usize>, hi: Option<usize>) {
        self.lo = self.lo.into_iter().chain(lo).min();
        self.hi = self.hi.into_iter().chain(hi).max();
    }
}

/// One unit's split row in the fold: whether it filled a column of an area, and its total (number,
/// basis).
#[derive(Debug, Clone, Copy, Default)]
struct Filled {
    area_filled: bool,
    total: Option<(Option<f64>, Option<usize>)>,
}

/// Adds one value to a unit's own sums of the indicators its cell counts in: (indicator, in the
/// numerator, in the denominator).
fn add_cell(sums: &mut [Sums], cell: &[(usize, bool, bool)], num: Option<f64>, basis: Option<usize>) {
    for &(i, in_num, in_den) in cell {
        let s = &mut sums[i];
        if in_num {
            Sums::add(&mut s.numerator, num, 1.0);
            s.reporting = s.reporting.max(i64::from(num.is_some()));
            s.widen(basis, basis);
        }
        if in_den {
            Sums::add(&mut s.denominator, num, 1.0);
        }
    }
}

/// Every cell indicator of `inds` per requested unit, in one pass over the period's cells (`eff`)
/// and one over the units that have some (their totals filled alone attributed by area, then their
/// sums sent up the tree). The sums are folded here rather than in SQL: sixty CASE
/// aggregates grouped by unit text, then joined up the tree, took 111 ms of 2020S1's 195 for the
/// nation, the fold 11 ms (BENCHMARKS.md).
fn cell_indicators(
    eff: &[RecordBatch],
    ids: &TermIds,
    due: &crate::completeness::DueUnits,
    inds: &[&Indicator],
    requested: &[&Unit],
    scope: &Scope<'_>,
) -> Result<Vec<HashMap<String, Row>>> {
    if inds.is_empty() {
        return Ok(Vec::new());
    }
    let catalog = scope.catalog();
    let span = debug_span!("cells").entered();
    // What each cell id counts in: (indicator, in its numerator, in its denominator).
    let mut roles: Vec<Vec<(usize, bool, bool)>> = vec![Vec::new(); ids.count];
    for (i, ind) in inds.iter().enumerate() {
        let (num, den) = (ids.of_terms(&ind.numerator), ids.of_terms(&ind.denominator));
        let mut both: Vec<usize> = num.iter().chain(&den).copied().collect();
        both.sort_unstable();
        both.dedup();
        for id in both {
            roles[id].push((i, num.contains(&id), den.contains(&id)));
        }
    }
    // Each unit's own sums, by the unit's index in the catalog's list, in the order the units first
    // appear; `slot` finds a unit's place in `own`. Beside them, for each split row, whether the
    // unit filled a column of an area and what it put in the total: attributed after the pass.
    let list = &catalog.units.list;
    let mut own: Vec<(usize, Vec<Sums>)> = Vec::new();
    let mut split: Vec<Vec<Filled>> = Vec::new();
    let mut slot: Vec<Option<usize>> = vec![None; list.len()];
    let mut bases: Vec<String> = Vec::new();
    for b in eff {
        let (units, forms, rows, srcs) = (
            text_column(b, "unit")?,
            text_column(b, "form")?,
            text_column(b, "row_code")?,
            text_column(b, "src")?,
        );
        let nums = cast(
            b.column_by_name("num")
                .ok_or_else(|| Error::Internal("eff has no column num".into()))?,
            &DataType::Float64,
        )?;
        let nums = nums
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Float64Array>()
            .ok_or_else(|| Error::Internal("eff: num is not a number".into()))?;
        let cols = b
            .column_by_name("col")
            .and_then(|c| c.as_any().downcast_ref::<Int32Array>())
            .ok_or_else(|| Error::Internal("eff has no whole-number column col".into()))?;
        // A return's values come unit by unit and row by row: the unit and the row are looked up
        // when they change, not per value. Values of a code no unit of the catalog holds count
        // nowhere (they stay in the store).
        let mut unit_at: Option<(&str, Option<usize>)> = None;
        let mut row_at: Option<(&str, &str, &RowPlan)> = None;
        let mut basis_at: Option<(&str, usize)> = None;
        for r in 0..b.num_rows() {
            if units.is_null(r) || forms.is_null(r) || rows.is_null(r) || cols.is_null(r) {
                continue;
            }
            let (form, row) = (forms.value(r), rows.value(r));
            let plan = match row_at {
                Some((f, w, plan)) if f == form && w == row => plan,
                _ => {
                    let plan = ids.row_plan(form, row);
                    row_at = Some((form, row, plan));
                    plan
                }
            };
            let column = cols.value(r);
            let cell = TermIds::in_row(&plan.cells, column).and_then(|id| roles.get(id as usize));
            if cell.is_none_or(Vec::is_empty) && plan.split.is_none() {
                continue;
            }
            let unit = units.value(r);
            let k = match unit_at {
                Some((u, k)) if u == unit => k,
                _ => {
                    let k = catalog.units.index(unit).map(|ui| {
                        *slot[ui].get_or_insert_with(|| {
                            own.push((ui, vec![Sums::default(); inds.len()]));
                            split.push(vec![Filled::default(); ids.splits.len()]);
                            own.len() - 1
                        })
                    });
                    unit_at = Some((unit, k));
                    k
                }
            };
            let Some(k) = k else {
                continue;
            };
            let num = (!nums.is_null(r)).then(|| nums.value(r));
            let basis = (!srcs.is_null(r)).then(|| {
                let src = srcs.value(r);
                match basis_at {
                    Some((s, i)) if s == src => i,
                    _ => {
                        let i = bases.iter().position(|b| b == src).unwrap_or_else(|| {
                            bases.push(src.to_owned());
                            bases.len() - 1
                        });
                        basis_at = Some((src, i));
                        i
                    }
                }
            });
            if let Some(s) = plan.split {
                let f = &mut split[k][s];
                if ids.splits[s].areas.iter().any(|(c, _, _)| *c == column) {
                    f.area_filled = true;
                } else if column == ids.splits[s].total {
                    f.total = Some((num, basis));
                }
            }
            if let Some(cell) = cell {
                add_cell(&mut own[k].1, cell, num, basis);
            }
        }
    }
    // The totals of units that filled no column of an area go to their own area's column.
    for ((ui, sums), filled) in own.iter_mut().zip(&split) {
        let Some(area) = list[*ui]
            .area
            .map(|a| a.id())
            .filter(|a| matches!(*a, "urban" | "rural"))
        else {
            continue;
        };
        for (s, f) in filled.iter().enumerate() {
            let (false, Some((num, basis))) = (f.area_filled, f.total) else {
                continue;
            };
            for (_, of, id) in &ids.splits[s].areas {
                if let Some(cell) = id.and_then(|id| roles.get(id as usize)) {
                    add_cell(sums, cell, if of == area { num } else { Some(0.0) }, basis);
                }
            }
        }
    }
    // The units asked for, by index in the catalog's list: what each unit's shares are read against.
    let wanted = scope.positions(requested);
    // The numerator forms, whose units due are each indicator's coverage.
    let mut forms: Vec<&str> = inds.iter().map(|i| numerator_form(i)).collect();
    forms.sort_unstable();
    forms.dedup();
    let form_of: Vec<usize> = inds
        .iter()
        .map(|i| forms.iter().position(|f| *f == numerator_form(i)).unwrap_or(0))
        .collect();
    let owing: Vec<&[Option<bool>]> = forms
        .iter()
        .map(|f| due.get(*f).map(Vec::as_slice).unwrap_or(&[]))
        .collect();
    let mut up = vec![vec![Sums::default(); inds.len()]; requested.len()];
    for (ui, sums) in &own {
        let ui = *ui;
        let targets: Vec<(usize, f64)> = scope.shares_among(ui, &wanted).collect();
        let territorial = list[ui].kind.is_territorial();
        for (i, ind) in inds.iter().enumerate() {
            let s = sums[i];
            // The numerator of a territorial indicator counts territorial units only; so may its
            // denominator.
            let counts = ind.due != Due::Territorial || territorial;
            let den_counts = ind.denominator_due != Due::Territorial || territorial;
            let owed = owing[form_of[i]].get(ui).copied().flatten();
            let is_due = match ind.due {
                Due::Territorial => owed == Some(true),
                Due::Filers => owed.is_some(),
            };
            for &(k, share) in &targets {
                let t = &mut up[k][i];
                if counts {
                    Sums::add(&mut t.numerator, s.numerator, share);
                    t.widen(s.lo, s.hi);
                    t.reporting += i64::from(s.reporting > 0 && is_due);
                }
                if den_counts {
                    Sums::add(&mut t.denominator, s.denominator, share);
                }
            }
        }
    }
    drop(span);
    // Units due per (unit asked for, numerator form, territorial or not): a unit is one or the
    // other, so the two counts add up to every unit due.
    let mut due_counts = vec![vec![[0i64; 2]; forms.len()]; requested.len()];
    debug_span!("units_due").in_scope(|| {
        for (f, owes) in owing.iter().enumerate() {
            for (ui, territorial) in owes.iter().enumerate() {
                let Some(territorial) = territorial else {
                    continue;
                };
                for (k, _) in scope.shares_among(ui, &wanted) {
                    due_counts[k][f][usize::from(*territorial)] += 1;
                }
            }
        }
    });
    let mut out = Vec::with_capacity(inds.len());
    for (i, ind) in inds.iter().enumerate() {
        let f = form_of[i];
        let rows: HashMap<String, Row> = requested
            .iter()
            .enumerate()
            .map(|(k, u)| {
                let s = up[k][i];
                let [others, territorial] = due_counts[k][f];
                let due = territorial + if ind.due == Due::Territorial { 0 } else { others };
                let basis = match (s.lo, s.hi) {
                    (Some(a), Some(b)) if a == b => Some(bases[a].clone()),
                    (Some(_), Some(_)) => Some("mixed".to_owned()),
                    _ => None,
                };
                let row = Row {
                    numerator: s.numerator,
                    denominator: s.denominator,
                    reporting: s.reporting,
                    due,
                    basis,
                };
                (u.key.clone(), row)
            })
            .collect();
        out.push(rows);
    }
    Ok(out)
}

/// BC-1 and BC-2 per requested unit, from the completeness rule: every return due under the unit,
/// received (BC-1) or received by its deadline (BC-2) over expected; both from one pass over the
/// returns due.
fn reporting_indicators(
    engine: &Engine,
    spec: &PeriodSpec,
    root: &Unit,
    requested: &[&Unit],
    scope: &Scope<'_>,
) -> Result<[HashMap<String, Row>; 2]> {
    let PeriodSpec::Single(p) = spec else {
        return Ok([HashMap::new(), HashMap::new()]);
    };
    let units = &engine.catalog().units;
    let wanted = scope.positions(requested);
    let mut out = [
        vec![Row::default(); requested.len()],
        vec![Row::default(); requested.len()],
    ];
    // The returns come unit by unit: which units asked for a unit's figures go to is worked out
    // once per unit.
    let mut dests: (&str, Vec<usize>) = ("", Vec::new());
    for e in crate::completeness::expected_returns(engine, &root.key, p, scope.view())? {
        if dests.0 != e.unit.key {
            let to = units
                .index(&e.unit.key)
                .map_or_else(Vec::new, |i| scope.shares_among(i, &wanted).map(|(k, _)| k).collect());
            dests = (e.unit.key.as_str(), to);
        }
        for &k in &dests.1 {
            for (rows, counted) in out.iter_mut().zip([e.received.is_some(), e.on_time()]) {
                let row = &mut rows[k];
                row.due += 1;
                row.reporting += i64::from(e.received.is_some());
                *row.numerator.get_or_insert(0.0) += f64::from(u8::from(counted));
            }
        }
    }
    Ok(out.map(|rows| {
        requested
            .iter()
            .zip(rows)
            .map(|(u, mut row)| {
                row.denominator = Some(row.due as f64);
                row.numerator.get_or_insert(0.0);
                (u.key.clone(), row)
            })
            .collect()
    }))
}

/// NV-1 per requested unit, from the task rule: tasks due by the period's end that their leads under
/// the unit completed on time as the plan's rule for the task asks (every lead, or a share of them),
/// over tasks due; units due are the leads, reporting the leads that sent the task form.
fn tasks_indicator(
    engine: &Engine,
    eff: &[RecordBatch],
    spec: &PeriodSpec,
    root: &Unit,
    requested: &[&Unit],
    scope: &Scope<'_>,
) -> Result<HashMap<String, Row>> {
    let progress = crate::tasks::tasks_in(engine, eff, spec, &root.key, scope.view())?;
    let units = &engine.catalog().units;
    // Where each lead's figures go, worked out once.
    let dests: Vec<Vec<&str>> = progress
        .iter()
        .map(|p| units.get(&p.lead).map(|l| scope.destinations(l)).unwrap_or_default())
        .collect();
    let mut out = HashMap::new();
    for u in requested {
        let mine: Vec<_> = progress
            .iter()
            .zip(&dests)
            .filter(|(p, d)| p.due.is_some() && d.contains(&u.key.as_str()))
            .map(|(p, _)| p)
            .collect();
        if mine.is_empty() {
            continue;
        }
        // (plan, task) → (leads, leads on time, the plan's rule)
        let mut tasks: HashMap<(&str, &str), (usize, usize, pbgdpl_catalog::DoneRule)> = HashMap::new();
        for p in &mine {
            let t = tasks
                .entry((p.plan.as_str(), p.task.as_str()))
                .or_insert((0, 0, p.done_rule));
            t.0 += 1;
            t.1 += usize::from(p.on_time);
        }
        let mut leads: Vec<&str> = mine.iter().map(|p| p.lead.as_str()).collect();
        leads.sort_unstable();
        leads.dedup();
        let mut reporting: Vec<&str> = mine.iter().filter(|p| p.reported).map(|p| p.lead.as_str()).collect();
        reporting.sort_unstable();
        reporting.dedup();
        out.insert(
            u.key.clone(),
            Row {
                numerator: Some(tasks.values().filter(|(n, done, rule)| rule.met(*done, *n)).count() as f64),
                denominator: Some(tasks.len() as f64),
                reporting: reporting.len() as i64,
                due: leads.len() as i64,
                basis: None,
            },
        );
    }
    Ok(out)
}

#[tracing::instrument(name = "indicators", level = "debug", skip_all, fields(%spec, unit))]
pub(crate) async fn compute(engine: &Engine, spec: &PeriodSpec, unit: &str, view: View) -> Result<Vec<IndicatorValue>> {
    let catalog = engine.catalog();
    let root = view
        .unit(catalog, unit)
        .ok_or_else(|| Error::UnknownUnit(unit.to_owned()))?;
    let scope = engine.scope(view)?;
    let mut requested = vec![root];
    requested.extend(scope.tree().children(&root.key));
    let eff = debug_span!("eff", %spec).in_scope(|| crate::effective::eff_of(engine, spec))?;
    let year = spec.target_year();
    let mut out = Vec::new();
    let cells: Vec<&Indicator> = catalog
        .indicators
        .iter()
        .filter(|i| matches!(i.kind, IndicatorKind::Ratio | IndicatorKind::Count))
        .collect();
    let due = debug_span!("due", %spec).in_scope(|| engine.owed(&spec.reference_period()))?;
    let mut cell_rows = cell_indicators(&eff, &engine.term_ids, &due.by_form, &cells, &requested, &scope)?.into_iter();
    let mut results = Vec::new();
    // BC-1 and BC-2 come from the same pass over the returns due.
    let reporting = catalog
        .indicators
        .iter()
        .any(|i| matches!(i.kind, IndicatorKind::Reporting | IndicatorKind::Timeliness));
    let [received, on_time] = if reporting {
        debug_span!("reporting").in_scope(|| reporting_indicators(engine, spec, root, &requested, &scope))?
    } else {
        Default::default()
    };
    for ind in &catalog.indicators {
        let rows = match ind.kind {
            IndicatorKind::Ratio | IndicatorKind::Count => cell_rows.next().unwrap_or_default(),
            IndicatorKind::Reporting => received.clone(),
            IndicatorKind::Timeliness => on_time.clone(),
            IndicatorKind::TasksOnTime => {
                debug_span!("tasks").in_scope(|| tasks_indicator(engine, &eff, spec, root, &requested, &scope))?
            }
        };
        results.push((ind, rows));
    }
    for u in &requested {
        for (ind, rows) in &results {
            let Row {
                numerator: mut num,
                denominator: mut den,
                mut reporting,
                due,
                mut basis,
            } = rows.get(&u.key).cloned().unwrap_or_default();
            // A survey that estimates this indicator is its source where it has respondents.
            let estimated = match spec {
                PeriodSpec::Single(p) if catalog.survey_for(&ind.code).is_some() => Some(
                    engine
                        .estimates
                        .get(&(ind.code.clone(), u.key.clone(), p.code()))
                        .filter(|e| e.estimate.is_some()),
                ),
                _ => None,
            };
            let survey = estimated.flatten().map(|e| {
                num = Some(e.counted as f64);
                den = Some(e.respondents as f64);
                reporting = e.communes;
                basis = Some("survey".into());
                let p = e.estimate.unwrap_or(0.0) * ind.scale;
                let se = e.se.map(|s| s * ind.scale);
                let margin = se.map(|s| s * Z95);
                (
                    p,
                    SurveyFigure {
                        survey: e.survey.clone(),
                        se,
                        margin,
                        low: margin.map(|m| (p - m).max(0.0)),
                        high: margin.map(|m| (p + m).min(ind.scale)),
                        respondents: e.respondents,
                        effective: e.effective,
                        clusters: e.clusters,
                        publishable: e.publishable,
                        unweighted_communes: e.unweighted_communes,
                    },
                )
            });
            let source = estimated.map(|e| if e.is_some() { "survey" } else { "form" }.to_owned());
            let value = match ind.kind {
                _ if survey.is_some() => survey.as_ref().map(|(p, _)| *p),
                IndicatorKind::Count => num.filter(|_| reporting > 0),
                // A rate whose denominator is 0 or missing is "no data", never 0% and never an error.
                // The value is of the exact sums; the numerator and denominator shown are whole.
                _ => match (num, den) {
                    (Some(n), Some(d)) if d > 0.0 => Some(ind.scale * n / d),
                    _ => None,
                },
            };
            let (num, den) = (num.map(|n| n.round() as i64), den.map(|d| d.round() as i64));
            let coverage = match ind.kind {
                IndicatorKind::Reporting | IndicatorKind::Timeliness => None,
                _ => (due > 0).then(|| (reporting as f64 / due as f64).min(1.0)),
            };
            let target = catalog.target(&ind.code, &u.key, year);
            let status = match (value, target) {
                (Some(v), Some((_, t))) => Some(if v >= t.min { Status::Dat } else { Status::ChuaDat }),
                _ => None,
            };
            let gap = match (value, target) {
                (Some(v), Some((_, t))) => Some(v - t.min),
                _ => None,
            };
            let pace = match (gap, target, spec) {
                (Some(g), Some((phase, _)), PeriodSpec::Single(p)) if g < 0.0 => {
                    // Annual periods still to come in the phase, this year's included unless this is
                    // already the year's official figure.
                    let left = phase.to - p.year + i32::from(p.kind != PeriodKind::Official);
                    (left > 0).then(|| -g / f64::from(left))
                }
                _ => None,
            };
            out.push(IndicatorValue {
                indicator: ind.code.clone(),
                unit: u.key.clone(),
                period: spec.to_string(),
                value,
                numerator: num,
                denominator: if ind.kind == IndicatorKind::Count { None } else { den },
                target: target.map(|(_, t)| t.min),
                status,
                coverage,
                basis: basis.or_else(|| match spec {
                    PeriodSpec::Single(p) if p.kind == PeriodKind::Semiannual => Some("semiannual".into()),
                    _ => None,
                }),
                name: ind.name.clone(),
                unit_name: u.name.clone(),
                measure: ind.unit.clone(),
                gap,
                pace,
                phase: target.map(|(p, _)| p.name.clone()),
                target_source: target.map(|(_, t)| t.source.clone()),
                reporting,
                due,
                source,
                survey: survey.map(|(_, f)| f),
            });
        }
    }
    Ok(out)
}
