//! Catalog facts as Arrow tables, so that indicator SQL can join them: units, the unit tree, row kinds.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::SessionContext;
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

/// Replaces a registered table.
pub(crate) fn put(ctx: &SessionContext, name: &str, b: RecordBatch) -> Result<()> {
    let _ = ctx.deregister_table(name)?;
    ctx.register_batch(name, b)?;
    Ok(())
}

/// The catalog's tables (units, the unit tree's closure, row kinds), built once per engine: a
/// session registers them by reference, since Arrow arrays are shared, not copied.
pub(crate) fn catalog_tables(catalog: &Catalog) -> Result<Vec<(&'static str, RecordBatch)>> {
    let units = &catalog.units.list;
    let mut out = Vec::with_capacity(3);
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
                strings(units.iter().map(|u| u.code.as_str())),
                strings(units.iter().map(|u| u.kind.id())),
                Arc::new(StringArray::from_iter(units.iter().map(|u| u.area.map(|a| a.id())))),
                Arc::new(BooleanArray::from_iter(
                    units.iter().map(|u| Some(u.kind.is_territorial())),
                )),
            ],
        )?,
    ));
    // The closure of the tree: every unit with each of its ancestors, itself included.
    let mut anc = Vec::new();
    let mut desc = Vec::new();
    for u in units {
        for a in catalog.units.ancestors(&u.code) {
            anc.push(a.code.as_str());
            desc.push(u.code.as_str());
        }
    }
    out.push((
        "tree",
        batch(
            &[("ancestor", DataType::Utf8), ("descendant", DataType::Utf8)],
            vec![strings(anc.into_iter()), strings(desc.into_iter())],
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
