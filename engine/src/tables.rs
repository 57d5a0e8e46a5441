//! Catalog facts as Arrow tables, so that indicator SQL can join them: units and row kinds once per
//! engine, and per view of time the unit tree of that date and `fwd`, where each unit's figures go in
//! it (itself, or its successors with their shares when it ended before).

use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use pbgdpl_catalog::Catalog;

use crate::Result;

pub(crate) fn batch(fields: &[(&str, DataType)], cols: Vec<ArrayRef>) -> Result<RecordBatch> {
    let schema = Schema::new(
        fields
            .iter()
            .map(|(n, t)| Field::new(*n, t.clone(), true))
            .collect::<Vec<_>>(),
    );
    Ok(RecordBatch::try_new(Arc::new(schema), cols)?)
}

pub(crate) fn strings<'a>(it: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(it))
}

/// The catalog's tables that do not depend on the view (units by key, row kinds), built once per
/// engine: a session registers them by reference, since Arrow arrays are shared, not copied.
pub(crate) fn catalog_tables(catalog: &Catalog) -> Result<Vec<(&'static str, RecordBatch)>> {
    let units = &catalog.units.list;
    let mut out = Vec::with_capacity(2);
    out.push((
        "units",
        batch(
            &[
                ("code", DataType::Utf8),
                ("kind", DataType::Utf8),
                ("area", DataType::Utf8),
                ("territorial", DataType::Boolean),
            ],
            vec![
                strings(units.iter().map(|u| u.key.as_str())),
                strings(units.iter().map(|u| u.kind.id())),
                Arc::new(StringArray::from_iter(units.iter().map(|u| u.area.map(|a| a.id())))),
                Arc::new(BooleanArray::from_iter(
                    units.iter().map(|u| Some(u.kind.is_territorial())),
                )),
            ],
        )?,
    ));
    let mut forms = Vec::new();
    let mut rows = Vec::new();
    let mut flows = Vec::new();
    for f in &catalog.forms {
        for r in &f.rows {
            forms.push(f.id.as_str());
            rows.push(r.code.as_str());
            flows.push(Some(r.flow));
        }
    }
    out.push((
        "rowkinds",
        batch(
            &[
                ("form", DataType::Utf8),
                ("row_code", DataType::Utf8),
                ("flow", DataType::Boolean),
            ],
            vec![
                strings(forms.into_iter()),
                strings(rows.into_iter()),
                Arc::new(BooleanArray::from_iter(flows)),
            ],
        )?,
    ));
    Ok(out)
}

/// The tables of one view of time: `tree (ancestor, descendant)`, the closure of the tree on `date`
/// (every unit with each of its ancestors, itself included), and `fwd (src, dst, share)`, where every
/// unit's figures go in that tree.
pub(crate) fn view_tables(catalog: &Catalog, date: NaiveDate) -> Result<Vec<(&'static str, RecordBatch)>> {
    let units = &catalog.units;
    let tree = units.tree(date);
    let (mut anc, mut desc) = (Vec::new(), Vec::new());
    for u in units.list.iter().filter(|u| u.valid_on(date)) {
        for a in tree.ancestors(&u.key) {
            anc.push(a.key.as_str());
            desc.push(u.key.as_str());
        }
    }
    let (mut src, mut dst, mut share) = (Vec::new(), Vec::new(), Vec::new());
    for u in &units.list {
        for (to, s) in units.forward(u, date) {
            src.push(u.key.as_str());
            dst.push(to.key.as_str());
            share.push(s);
        }
    }
    Ok(vec![
        (
            "tree",
            batch(
                &[("ancestor", DataType::Utf8), ("descendant", DataType::Utf8)],
                vec![strings(anc.into_iter()), strings(desc.into_iter())],
            )?,
        ),
        (
            "fwd",
            batch(
                &[
                    ("src", DataType::Utf8),
                    ("dst", DataType::Utf8),
                    ("share", DataType::Float64),
                ],
                vec![
                    strings(src.into_iter()),
                    strings(dst.into_iter()),
                    Arc::new(Float64Array::from(share)),
                ],
            )?,
        ),
    ])
}
