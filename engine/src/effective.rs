//! A period's effective values, `eff`, as every computation reads them, built in Rust from the
//! stored batches: per unit and form the official return where there is one, else the preliminary
//! one; for a phase, flows summed over its years and stocks from each unit and form's last year.
//!
//! This was a SQL view materialised on every request, with `derived` (urban/rural attribution)
//! over it: for a period before 07/2025 at national size the two took half of the indicators' time
//! (BENCHMARKS.md). Here eff is a filter of the stored batches, their columns shared; the
//! attribution is part of the cell fold (`indicators::Split`); the SQL computations (the forms'
//! totals, each unit's figures) see eff as the table `eff`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int32Array, Int32Builder, Int64Array, Int64Builder, RecordBatch,
    StringArray, StringBuilder,
};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Int64Type, Schema, SchemaRef};
use pbgdpl_catalog::{Catalog, PeriodKind, PeriodSpec};

use crate::{Engine, Error, Result};

/// The columns of a stored values batch (`snapshot::values_schema`) that eff keeps, in its order.
const UNIT: usize = 0;
const FORM: usize = 1;
const ROW: usize = 3;
const COL: usize = 4;
const NUM: usize = 5;
const TXT: usize = 6;

/// Where each value of a period comes from: `semiannual`, `preliminary`, `official` (a phase's
/// flows summed over years of both editions are `mixed`).
type Basis = &'static str;

/// `eff (unit, form, row_code, col, num, txt, src)`.
pub(crate) fn eff_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("unit", DataType::Utf8, false),
        Field::new("form", DataType::Utf8, false),
        Field::new("row_code", DataType::Utf8, false),
        Field::new("col", DataType::Int32, false),
        Field::new("num", DataType::Int64, true),
        Field::new("txt", DataType::Utf8, true),
        Field::new("src", DataType::Utf8, false),
    ]))
}

/// The text column `i` of a stored values batch or of eff.
fn text(b: &RecordBatch, i: usize) -> Result<&StringArray> {
    b.column(i)
        .as_string_opt::<i32>()
        .ok_or_else(|| Error::Internal(format!("column {i} of a values batch is not text")))
}

fn ints(b: &RecordBatch, i: usize) -> Result<&Int32Array> {
    b.column(i)
        .as_primitive_opt::<Int32Type>()
        .ok_or_else(|| Error::Internal(format!("column {i} of a values batch is not an Int32")))
}

fn nums(b: &RecordBatch, i: usize) -> Result<&Int64Array> {
    b.column(i)
        .as_primitive_opt::<Int64Type>()
        .ok_or_else(|| Error::Internal(format!("column {i} of a values batch is not an Int64")))
}

/// A stored values batch as eff rows of one basis (the columns are shared, not copied).
fn with_basis(b: &RecordBatch, src: Basis) -> Result<RecordBatch> {
    let src: ArrayRef = Arc::new(StringArray::from_iter_values(std::iter::repeat_n(src, b.num_rows())));
    let cols = [UNIT, FORM, ROW, COL, NUM, TXT]
        .iter()
        .map(|&i| b.column(i).clone())
        .chain([src])
        .collect();
    Ok(RecordBatch::try_new(eff_schema(), cols)?)
}

/// A year's figures, per unit and form the official return where there is one, else the
/// preliminary one: the stored batches that hold them (rows of returns superseded filtered out),
/// each with its basis.
fn annual(values: &BTreeMap<String, RecordBatch>, year: i32) -> Result<Vec<(RecordBatch, Basis)>> {
    let mut out = Vec::with_capacity(2);
    let mut official: HashSet<(&str, &str)> = HashSet::new();
    if let Some(o) = values.get(&year.to_string()) {
        let (units, forms) = (text(o, UNIT)?, text(o, FORM)?);
        official.extend((0..o.num_rows()).map(|i| (units.value(i), forms.value(i))));
        out.push((o.clone(), "official"));
    }
    if let Some(p) = values.get(&format!("{year}P")) {
        let (units, forms) = (text(p, UNIT)?, text(p, FORM)?);
        let keep = BooleanArray::from_iter(
            (0..p.num_rows()).map(|i| Some(!official.contains(&(units.value(i), forms.value(i))))),
        );
        out.push((filter_record_batch(p, &keep)?, "preliminary"));
    }
    Ok(out)
}

/// A phase (the years `from` to `to`): flows summed over the years (the text the greatest, the basis
/// `mixed` where it differs), stocks as each unit and form last reported them. A row no form
/// declares (a plan's task row) has no kind and is left out, as the phase has no single plan.
fn phase(catalog: &Catalog, values: &BTreeMap<String, RecordBatch>, from: i32, to: i32) -> Result<Vec<RecordBatch>> {
    let flow: HashMap<(&str, &str), bool> = catalog
        .forms
        .iter()
        .flat_map(|f| f.rows.iter().map(move |r| ((f.id.as_str(), r.code.as_str()), r.flow)))
        .collect();
    let years: Vec<(i32, Vec<(RecordBatch, Basis)>)> = (from..=to)
        .map(|y| Ok((y, annual(values, y)?)))
        .collect::<Result<_>>()?;
    // Each unit and form's last year with any figure.
    let mut last: HashMap<(&str, &str), i32> = HashMap::new();
    for (y, parts) in &years {
        for (b, _) in parts {
            let (units, forms) = (text(b, UNIT)?, text(b, FORM)?);
            for i in 0..b.num_rows() {
                let e = last.entry((units.value(i), forms.value(i))).or_insert(*y);
                *e = (*e).max(*y);
            }
        }
    }
    /// A flow cell's sum so far: SQL's SUM and MAX (nulls ignored), and the lowest and highest basis.
    struct Acc<'a> {
        num: Option<i64>,
        txt: Option<&'a str>,
        lo: Basis,
        hi: Basis,
    }
    /// A cell of a unit's return: (unit, form, row, column).
    type Cell<'a> = (&'a str, &'a str, &'a str, i32);
    let mut slot: HashMap<Cell<'_>, usize> = HashMap::new();
    let mut flows: Vec<(Cell<'_>, Acc<'_>)> = Vec::new();
    let mut out = Vec::new();
    for (y, parts) in &years {
        for (b, src) in parts {
            let src = *src;
            let (units, forms, rows) = (text(b, UNIT)?, text(b, FORM)?, text(b, ROW)?);
            let (cols, num, txt) = (ints(b, COL)?, nums(b, NUM)?, text(b, TXT)?);
            let mut stock = Vec::with_capacity(b.num_rows());
            for i in 0..b.num_rows() {
                let (unit, form, row) = (units.value(i), forms.value(i), rows.value(i));
                match flow.get(&(form, row)) {
                    Some(true) => {
                        stock.push(false);
                        let key = (unit, form, row, cols.value(i));
                        let (v, t) = (
                            num.is_valid(i).then(|| num.value(i)),
                            txt.is_valid(i).then(|| txt.value(i)),
                        );
                        let k = *slot.entry(key).or_insert_with(|| {
                            flows.push((
                                key,
                                Acc {
                                    num: None,
                                    txt: None,
                                    lo: src,
                                    hi: src,
                                },
                            ));
                            flows.len() - 1
                        });
                        let acc = &mut flows[k].1;
                        acc.num = match (acc.num, v) {
                            (Some(a), Some(v)) => Some(a + v),
                            (a, v) => a.or(v),
                        };
                        acc.txt = acc.txt.max(t);
                        acc.lo = acc.lo.min(src);
                        acc.hi = acc.hi.max(src);
                    }
                    Some(false) => stock.push(last.get(&(unit, form)) == Some(y)),
                    None => stock.push(false),
                }
            }
            let keep = BooleanArray::from(stock);
            out.push(with_basis(&filter_record_batch(b, &keep)?, src)?);
        }
    }
    let mut rows = Rows::default();
    for ((unit, form, row, col), acc) in &flows {
        let src = if acc.lo == acc.hi { acc.lo } else { "mixed" };
        rows.push(unit, form, row, *col, acc.num, acc.txt, src);
    }
    out.insert(0, rows.finish()?);
    Ok(out)
}

/// eff rows built one by one (a phase's flows).
#[derive(Default)]
struct Rows {
    unit: StringBuilder,
    form: StringBuilder,
    row: StringBuilder,
    col: Int32Builder,
    num: Int64Builder,
    txt: StringBuilder,
    src: StringBuilder,
}

impl Rows {
    #[allow(clippy::too_many_arguments)] // one eff row, column by column
    fn push(&mut self, unit: &str, form: &str, row: &str, col: i32, num: Option<i64>, txt: Option<&str>, src: &str) {
        self.unit.append_value(unit);
        self.form.append_value(form);
        self.row.append_value(row);
        self.col.append_value(col);
        self.num.append_option(num);
        self.txt.append_option(txt);
        self.src.append_value(src);
    }

    fn finish(mut self) -> Result<RecordBatch> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.unit.finish()),
            Arc::new(self.form.finish()),
            Arc::new(self.row.finish()),
            Arc::new(self.col.finish()),
            Arc::new(self.num.finish()),
            Arc::new(self.txt.finish()),
            Arc::new(self.src.finish()),
        ];
        Ok(RecordBatch::try_new(eff_schema(), cols)?)
    }
}

/// The period's effective values.
fn eff(catalog: &Catalog, values: &BTreeMap<String, RecordBatch>, spec: &PeriodSpec) -> Result<Vec<RecordBatch>> {
    match spec {
        PeriodSpec::Single(p) => match p.kind {
            PeriodKind::Official => annual(values, p.year)?
                .iter()
                .map(|(b, src)| with_basis(b, src))
                .collect(),
            kind => {
                let src = if kind == PeriodKind::Semiannual {
                    "semiannual"
                } else {
                    "preliminary"
                };
                values.get(&p.code()).map(|b| with_basis(b, src)).into_iter().collect()
            }
        },
        PeriodSpec::Years { from, to } => phase(catalog, values, *from, *to),
    }
}

/// The period's `eff` (every stored period it reads must have been read).
pub(crate) fn eff_of(engine: &Engine, spec: &PeriodSpec) -> Result<Vec<RecordBatch>> {
    engine.check_read(&spec.stored_periods())?;
    eff(engine.catalog(), &engine.values, spec)
}
