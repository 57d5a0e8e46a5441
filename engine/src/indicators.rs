//! Indicator computation: the period's effective values, the urban/rural derivation, then one query
//! per catalog indicator, for a unit and its children at once.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::SessionContext;
use pbgdpl_ingest::catalog::{
    Catalog, Due, FormRule, Indicator, IndicatorKind, PeriodKind, SenderLevel, TaskDue, Term,
};
use serde::Serialize;

use crate::tables::{batch, put, strings};
use crate::{Engine, Error, PeriodSpec, Result};

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
}

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn in_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.map(q).collect::<Vec<_>>().join(", ")
}

/// Column of a result as strings, whatever string type the plan produced.
fn col_strings(b: &RecordBatch, name: &str) -> Result<Vec<Option<String>>> {
    let c = b
        .column_by_name(name)
        .ok_or_else(|| Error::Input(format!("no column {name}")))?;
    let c: ArrayRef = cast(c, &DataType::Utf8)?;
    let s = c
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| Error::Input(format!("column {name} is not text")))?;
    Ok((0..s.len())
        .map(|i| (!s.is_null(i)).then(|| s.value(i).to_owned()))
        .collect())
}

fn col_i64(b: &RecordBatch, name: &str) -> Result<Vec<Option<i64>>> {
    let c = b
        .column_by_name(name)
        .ok_or_else(|| Error::Input(format!("no column {name}")))?;
    let c: ArrayRef = cast(c, &DataType::Int64)?;
    let a = c
        .as_any()
        .downcast_ref::<datafusion::arrow::array::Int64Array>()
        .ok_or_else(|| Error::Input(format!("column {name} is not a number")))?;
    Ok((0..a.len()).map(|i| (!a.is_null(i)).then(|| a.value(i))).collect())
}

async fn run(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    Ok(ctx.sql(sql).await?.collect().await?)
}

/// The period's values: one view `eff (unit, form, row_code, col, num, txt, src)`.
fn eff_sql(spec: &PeriodSpec) -> Vec<String> {
    let annual = |y: i32, with_year: bool| {
        let (o, p) = (q(&y.to_string()), q(&format!("{y}P")));
        let yr = if with_year {
            format!(", {y} AS yr")
        } else {
            String::new()
        };
        format!(
            "SELECT v.unit, v.form, v.row_code, v.col, v.num, v.txt, \
             CASE WHEN v.period = {o} THEN 'official' ELSE 'preliminary' END AS src{yr} \
             FROM vals v JOIN (SELECT unit, form, MIN(CASE WHEN period = {o} THEN 0 ELSE 1 END) AS pref \
                               FROM vals WHERE period IN ({o}, {p}) GROUP BY unit, form) pk \
               ON v.unit = pk.unit AND v.form = pk.form \
             WHERE v.period IN ({o}, {p}) AND (CASE WHEN v.period = {o} THEN 0 ELSE 1 END) = pk.pref"
        )
    };
    match spec {
        PeriodSpec::Single(p) => match p.kind {
            PeriodKind::Official => vec![format!("CREATE VIEW eff AS {}", annual(p.year, false))],
            kind => {
                let src = if kind == PeriodKind::Semiannual {
                    "semiannual"
                } else {
                    "preliminary"
                };
                vec![format!(
                    "CREATE VIEW eff AS SELECT unit, form, row_code, col, num, txt, '{src}' AS src FROM vals WHERE period = {}",
                    q(&p.code())
                )]
            }
        },
        // A phase: flows are summed over the years, stocks are each unit's last reported year.
        PeriodSpec::Years { from, to } => {
            let years: Vec<String> = (*from..=*to).map(|y| annual(y, true)).collect();
            vec![
                format!("CREATE VIEW annual AS {}", years.join(" UNION ALL ")),
                "CREATE VIEW eff AS \
                 SELECT a.unit, a.form, a.row_code, a.col, SUM(a.num) AS num, MAX(a.txt) AS txt, \
                        CASE WHEN MIN(a.src) = MAX(a.src) THEN MIN(a.src) ELSE 'mixed' END AS src \
                 FROM annual a JOIN rowkinds k ON a.form = k.form AND a.row_code = k.row_code \
                 WHERE k.flow GROUP BY a.unit, a.form, a.row_code, a.col \
                 UNION ALL \
                 SELECT a.unit, a.form, a.row_code, a.col, a.num, a.txt, a.src \
                 FROM annual a JOIN rowkinds k ON a.form = k.form AND a.row_code = k.row_code \
                 JOIN (SELECT unit, form, MAX(yr) AS yr FROM annual GROUP BY unit, form) l \
                   ON a.unit = l.unit AND a.form = l.form AND a.yr = l.yr \
                 WHERE NOT k.flow"
                    .to_owned(),
            ]
        }
    }
}

/// `derived`: eff plus the urban/rural cells of units that filled only the total, attributed by the
/// unit's own area (the other area gets 0: a rural commune has no urban population). Which columns
/// split by area is read from the forms' `sum` rules over columns that carry an `area`.
fn derived_sql(catalog: &Catalog) -> String {
    let mut parts = vec!["SELECT unit, form, row_code, col, num, txt, src FROM eff".to_owned()];
    for form in &catalog.forms {
        for rule in &form.rules {
            let FormRule::Sum {
                rows,
                total,
                parts: cols,
            } = rule
            else {
                continue;
            };
            let areas: Vec<(u32, String)> = cols
                .iter()
                .filter_map(|c| form.column(*c).and_then(|d| d.area.clone()).map(|a| (*c, a)))
                .collect();
            if areas.len() != cols.len() || areas.is_empty() {
                continue;
            }
            let values = areas
                .iter()
                .map(|(c, a)| format!("({c}, {})", q(a)))
                .collect::<Vec<_>>()
                .join(", ");
            let split_cols = areas.iter().map(|(c, _)| c.to_string()).collect::<Vec<_>>().join(", ");
            let (f, rows) = (q(&form.id), in_list(rows.iter().map(String::as_str)));
            parts.push(format!(
                "SELECT e.unit, e.form, e.row_code, CAST(c.col AS INT) AS col, \
                        CASE WHEN c.area = u.area THEN e.num ELSE 0 END AS num, e.txt, e.src \
                 FROM eff e JOIN units u ON e.unit = u.code \
                 CROSS JOIN (VALUES {values}) AS c(col, area) \
                 LEFT JOIN (SELECT DISTINCT unit, form, row_code FROM eff WHERE form = {f} AND col IN ({split_cols})) s \
                   ON e.unit = s.unit AND e.form = s.form AND e.row_code = s.row_code \
                 WHERE e.form = {f} AND e.row_code IN ({rows}) AND e.col = {total} \
                   AND u.area IN ('urban', 'rural') AND s.unit IS NULL"
            ));
        }
    }
    format!("CREATE VIEW derived AS {}", parts.join(" UNION ALL "))
}

fn terms_cond(terms: &[Term]) -> String {
    if terms.is_empty() {
        return "FALSE".to_owned();
    }
    terms
        .iter()
        .map(|t| {
            format!(
                "(d.form = {} AND d.row_code = {} AND d.col = {})",
                q(&t.form),
                q(&t.row),
                t.column
            )
        })
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// Registers `due (unit, form, territorial, deadline)`: the returns each unit owes for the period.
fn register_due(ctx: &SessionContext, catalog: &Catalog, spec: &PeriodSpec) -> Result<()> {
    let period = spec.reference_period();
    let (mut units, mut forms, mut terr, mut deadlines) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for u in &catalog.units.list {
        for f in catalog.forms_due(u, &period) {
            units.push(u.code.as_str());
            forms.push(f.id.as_str());
            terr.push(Some(u.kind.is_territorial()));
            deadlines.push(
                period
                    .deadline(&catalog.periods, SenderLevel::of(u.kind))
                    .map(|d| d.format("%Y-%m-%d").to_string()),
            );
        }
    }
    put(
        ctx,
        "due",
        batch(
            &[
                ("unit", DataType::Utf8),
                ("form", DataType::Utf8),
                ("territorial", DataType::Boolean),
                ("deadline", DataType::Utf8),
            ],
            vec![
                strings(units.into_iter()),
                strings(forms.into_iter()),
                Arc::new(datafusion::arrow::array::BooleanArray::from_iter(terr)),
                Arc::new(StringArray::from_iter(deadlines)),
            ],
        )?,
    )
}

/// Registers `tasks (task, lead, due_date)`: plan tasks due by the end of the period, one row per lead.
fn register_tasks(ctx: &SessionContext, catalog: &Catalog, spec: &PeriodSpec) -> Result<()> {
    let period = spec.reference_period();
    let end = period.end(&catalog.periods);
    let (mut task, mut lead, mut due) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(plan) = catalog.plan_in_force() {
        for t in &plan.tasks {
            let due_date = match t.due {
                TaskDue::Date(d) if d <= end => Some(d),
                // Yearly tasks are counted in annual periods only.
                TaskDue::Yearly { from } if period.kind.is_annual() && period.year >= from => {
                    NaiveDate::from_ymd_opt(period.year, 12, 31)
                }
                _ => None,
            };
            let Some(d) = due_date else { continue };
            for l in &t.leads {
                task.push(t.code.as_str());
                lead.push(l.as_str());
                due.push(d.format("%Y-%m-%d").to_string());
            }
        }
    }
    put(
        ctx,
        "tasks",
        batch(
            &[
                ("task", DataType::Utf8),
                ("lead", DataType::Utf8),
                ("due_date", DataType::Utf8),
            ],
            vec![
                strings(task.into_iter()),
                strings(lead.into_iter()),
                strings(due.iter().map(String::as_str)),
            ],
        )?,
    )
}

/// Per requested unit: (numerator, denominator, reporting, due, basis).
type Row = (Option<i64>, Option<i64>, i64, i64, Option<String>);

async fn cell_indicator(ctx: &SessionContext, ind: &Indicator, list: &str) -> Result<HashMap<String, Row>> {
    let terr = |due: Due| {
        if due == Due::Territorial {
            " AND u.territorial"
        } else {
            ""
        }
    };
    let (nc, dc) = (terms_cond(&ind.numerator), terms_cond(&ind.denominator));
    let (nt, dt) = (terr(ind.due), terr(ind.denominator_due));
    let num_form = ind.numerator.first().map(|t| q(&t.form)).unwrap_or_else(|| "''".into());
    let due_terr = if ind.due == Due::Territorial {
        " AND territorial"
    } else {
        ""
    };
    let sql = format!(
        "SELECT t.ancestor AS unit, \
                SUM(CASE WHEN ({nc}){nt} THEN d.num END) AS numerator, \
                SUM(CASE WHEN ({dc}){dt} THEN d.num END) AS denominator, \
                COUNT(DISTINCT CASE WHEN ({nc}){nt} AND d.num IS NOT NULL AND du.unit IS NOT NULL THEN d.unit END) AS reporting, \
                MIN(CASE WHEN ({nc}){nt} THEN d.src END) AS src_min, \
                MAX(CASE WHEN ({nc}){nt} THEN d.src END) AS src_max \
         FROM derived d JOIN tree t ON d.unit = t.descendant JOIN units u ON d.unit = u.code \
         LEFT JOIN (SELECT DISTINCT unit FROM due WHERE form = {num_form}{due_terr}) du ON du.unit = d.unit \
         WHERE t.ancestor IN ({list}) GROUP BY t.ancestor"
    );
    let due_sql = format!(
        "SELECT t.ancestor AS unit, COUNT(DISTINCT d.unit) AS due FROM due d JOIN tree t ON d.unit = t.descendant \
         WHERE d.form = {num_form}{} AND t.ancestor IN ({list}) GROUP BY t.ancestor",
        if ind.due == Due::Territorial {
            " AND d.territorial"
        } else {
            ""
        }
    );
    let mut due_by_unit = HashMap::new();
    for b in run(ctx, &due_sql).await? {
        for (u, n) in col_strings(&b, "unit")?.into_iter().zip(col_i64(&b, "due")?) {
            due_by_unit.insert(u.unwrap_or_default(), n.unwrap_or(0));
        }
    }
    let mut out = HashMap::new();
    for b in run(ctx, &sql).await? {
        let units = col_strings(&b, "unit")?;
        let nums = col_i64(&b, "numerator")?;
        let dens = col_i64(&b, "denominator")?;
        let reps = col_i64(&b, "reporting")?;
        let mins = col_strings(&b, "src_min")?;
        let maxs = col_strings(&b, "src_max")?;
        for i in 0..units.len() {
            let unit = units[i].clone().unwrap_or_default();
            let basis = match (&mins[i], &maxs[i]) {
                (Some(a), Some(b)) if a == b => Some(a.clone()),
                (Some(_), Some(_)) => Some("mixed".to_owned()),
                _ => None,
            };
            let due = due_by_unit.get(&unit).copied().unwrap_or(0);
            out.insert(unit, (nums[i], dens[i], reps[i].unwrap_or(0), due, basis));
        }
    }
    for (u, due) in due_by_unit {
        out.entry(u).or_insert((None, None, 0, due, None));
    }
    Ok(out)
}

async fn reporting_indicator(
    ctx: &SessionContext,
    spec: &PeriodSpec,
    list: &str,
    on_time: bool,
) -> Result<HashMap<String, Row>> {
    let PeriodSpec::Single(p) = spec else {
        return Ok(HashMap::new());
    };
    let sql = format!(
        "SELECT t.ancestor AS unit, COUNT(*) AS expected, COUNT(r.unit) AS received, \
                SUM(CASE WHEN r.first_date <= d.deadline THEN 1 ELSE 0 END) AS on_time \
         FROM due d JOIN tree t ON d.unit = t.descendant \
         LEFT JOIN (SELECT unit, form, MIN(received_date) AS first_date FROM returns WHERE period = {} GROUP BY unit, form) r \
           ON r.unit = d.unit AND r.form = d.form \
         WHERE t.ancestor IN ({list}) GROUP BY t.ancestor",
        q(&p.code())
    );
    let mut out = HashMap::new();
    for b in run(ctx, &sql).await? {
        let units = col_strings(&b, "unit")?;
        let expected = col_i64(&b, "expected")?;
        let got = col_i64(&b, if on_time { "on_time" } else { "received" })?;
        let received = col_i64(&b, "received")?;
        for i in 0..units.len() {
            let exp = expected[i].unwrap_or(0);
            out.insert(
                units[i].clone().unwrap_or_default(),
                (
                    Some(got[i].unwrap_or(0)),
                    Some(exp),
                    received[i].unwrap_or(0),
                    exp,
                    None,
                ),
            );
        }
    }
    Ok(out)
}

async fn tasks_indicator(ctx: &SessionContext, catalog: &Catalog, list: &str) -> Result<HashMap<String, Row>> {
    let Some(form) = catalog.forms.iter().find(|f| f.rows_from_plan) else {
        return Ok(HashMap::new());
    };
    let Some(status) = form.status_column() else {
        return Ok(HashMap::new());
    };
    let (done, date_col) = (status.done.clone().unwrap_or_default(), status.date_column.unwrap_or(0));
    let sql = format!(
        "WITH st AS (SELECT unit, row_code, MAX(CASE WHEN col = {sc} THEN txt END) AS status, \
                            MAX(CASE WHEN col = {date_col} THEN txt END) AS done_date \
                     FROM eff WHERE form = {f} GROUP BY unit, row_code), \
              ld AS (SELECT k.task, k.lead, \
                            CASE WHEN s.status = {done} AND s.done_date <= k.due_date THEN 1 ELSE 0 END AS ok, \
                            CASE WHEN s.unit IS NULL THEN 0 ELSE 1 END AS reported \
                     FROM tasks k LEFT JOIN st s ON s.unit = k.lead AND s.row_code = k.task), \
              per_task AS (SELECT t.ancestor AS unit, ld.task, MIN(ld.ok) AS ok \
                           FROM ld JOIN tree t ON ld.lead = t.descendant WHERE t.ancestor IN ({list}) \
                           GROUP BY t.ancestor, ld.task), \
              leads AS (SELECT t.ancestor AS unit, COUNT(DISTINCT ld.lead) AS leads, \
                               COUNT(DISTINCT CASE WHEN ld.reported = 1 THEN ld.lead END) AS reporting \
                        FROM ld JOIN tree t ON ld.lead = t.descendant WHERE t.ancestor IN ({list}) GROUP BY t.ancestor) \
         SELECT p.unit, COUNT(*) AS due, SUM(p.ok) AS done, MAX(l.leads) AS leads, MAX(l.reporting) AS reporting \
         FROM per_task p JOIN leads l ON p.unit = l.unit GROUP BY p.unit",
        sc = status.number,
        f = q(&form.id),
        done = q(&done),
    );
    let mut out = HashMap::new();
    for b in run(ctx, &sql).await? {
        let units = col_strings(&b, "unit")?;
        let due = col_i64(&b, "due")?;
        let done = col_i64(&b, "done")?;
        let leads = col_i64(&b, "leads")?;
        let reporting = col_i64(&b, "reporting")?;
        for i in 0..units.len() {
            out.insert(
                units[i].clone().unwrap_or_default(),
                (done[i], due[i], reporting[i].unwrap_or(0), leads[i].unwrap_or(0), None),
            );
        }
    }
    Ok(out)
}

pub(crate) async fn compute(engine: &Engine, spec: &PeriodSpec, unit: &str) -> Result<Vec<IndicatorValue>> {
    let catalog = engine.catalog();
    let root = catalog
        .units
        .get(unit)
        .ok_or_else(|| Error::Input(format!("unknown unit `{unit}`")))?;
    let mut requested = vec![root];
    requested.extend(catalog.units.children(unit));
    let list = in_list(requested.iter().map(|u| u.code.as_str()));
    let ctx = engine.session()?;
    for stmt in eff_sql(spec) {
        run(&ctx, &stmt).await?;
    }
    run(&ctx, &derived_sql(catalog)).await?;
    register_due(&ctx, catalog, spec)?;
    register_tasks(&ctx, catalog, spec)?;
    let year = spec.target_year();
    let mut out = Vec::new();
    let mut results = Vec::new();
    for ind in &catalog.indicators {
        let rows = match ind.kind {
            IndicatorKind::Ratio | IndicatorKind::Count => cell_indicator(&ctx, ind, &list).await?,
            IndicatorKind::Reporting => reporting_indicator(&ctx, spec, &list, false).await?,
            IndicatorKind::Timeliness => reporting_indicator(&ctx, spec, &list, true).await?,
            IndicatorKind::TasksOnTime => tasks_indicator(&ctx, catalog, &list).await?,
        };
        results.push((ind, rows));
    }
    for u in &requested {
        for (ind, rows) in &results {
            let (num, den, reporting, due, basis) = rows.get(&u.code).cloned().unwrap_or((None, None, 0, 0, None));
            let value = match ind.kind {
                IndicatorKind::Count => num.filter(|_| reporting > 0).map(|n| n as f64),
                // A rate whose denominator is 0 or missing is "no data", never 0% and never an error.
                _ => match (num, den) {
                    (Some(n), Some(d)) if d > 0 => Some(ind.scale * n as f64 / d as f64),
                    _ => None,
                },
            };
            let coverage = match ind.kind {
                IndicatorKind::Reporting | IndicatorKind::Timeliness => None,
                _ => (due > 0).then(|| (reporting as f64 / due as f64).min(1.0)),
            };
            let target = catalog.target(&ind.code, year);
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
                unit: u.code.clone(),
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
            });
        }
    }
    Ok(out)
}
