//! The store as the engine sees it: the latest values and the stored versions, as Arrow record
//! batches for the SQL and as records for the rules written in Rust.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Int32Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use pbgdpl_catalog::local_date;
use pbgdpl_catalog::model::{ReturnRecord, StoredValue, Value};

use crate::Result;

/// What the engine computes from: the latest accepted values of every return, and every stored
/// version (for receipt dates and versions).
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub values: Vec<StoredValue>,
    pub returns: Vec<ReturnRecord>,
}

/// Schema of the long-form values table: one row per reported cell of the latest version of a return.
pub(crate) fn values_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("unit", DataType::Utf8, false),
        Field::new("form", DataType::Utf8, false),
        Field::new("period", DataType::Utf8, false),
        Field::new("row_code", DataType::Utf8, false),
        Field::new("col", DataType::Int32, false),
        Field::new("num", DataType::Int64, true),
        Field::new("txt", DataType::Utf8, true),
        Field::new("version", DataType::Int64, false),
    ]))
}

pub fn values_batch(values: &[StoredValue]) -> Result<RecordBatch> {
    values_batch_of(values.iter())
}

pub(crate) fn values_batch_of<'a>(values: impl Iterator<Item = &'a StoredValue> + Clone) -> Result<RecordBatch> {
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(values.clone().map(|v| v.unit.as_str()))),
        Arc::new(StringArray::from_iter_values(values.clone().map(|v| v.form.as_str()))),
        Arc::new(StringArray::from_iter_values(values.clone().map(|v| v.period.as_str()))),
        Arc::new(StringArray::from_iter_values(values.clone().map(|v| v.row.as_str()))),
        Arc::new(Int32Array::from_iter_values(values.clone().map(|v| v.column as i32))),
        Arc::new(Int64Array::from_iter(values.clone().map(|v| v.value.as_i64()))),
        Arc::new(StringArray::from_iter(values.clone().map(|v| match &v.value {
            Value::Text(t) => Some(t.as_str()),
            Value::Int(_) => None,
        }))),
        Arc::new(Int64Array::from_iter_values(values.map(|v| v.version))),
    ];
    Ok(RecordBatch::try_new(values_schema(), cols)?)
}

/// The rows of a values batch that belong to none of the returns `replaced` (unit key, form).
pub(crate) fn without_returns(batch: &RecordBatch, replaced: &HashSet<(&str, &str)>) -> Result<RecordBatch> {
    let text = |i: usize| {
        batch
            .column(i)
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| crate::Error::Internal(format!("the values batch has no text column {i}")))
    };
    let (units, forms) = (text(0)?, text(1)?);
    let keep = BooleanArray::from_iter(
        (0..batch.num_rows()).map(|i| Some(!replaced.contains(&(units.value(i), forms.value(i))))),
    );
    Ok(filter_record_batch(batch, &keep)?)
}

/// Schema of the returns table: one row per stored version.
pub(crate) fn returns_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("unit", DataType::Utf8, false),
        Field::new("form", DataType::Utf8, false),
        Field::new("period", DataType::Utf8, false),
        Field::new("version", DataType::Int64, false),
        Field::new("received_at", DataType::Utf8, false),
        Field::new("source", DataType::Utf8, false),
        // The receipt date in Vietnam (UTC+7, no daylight saving): deadlines are local dates.
        Field::new("received_date", DataType::Utf8, false),
    ]))
}

pub fn returns_batch(returns: &[ReturnRecord]) -> Result<RecordBatch> {
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(returns.iter().map(|r| r.unit.as_str()))),
        Arc::new(StringArray::from_iter_values(returns.iter().map(|r| r.form.as_str()))),
        Arc::new(StringArray::from_iter_values(returns.iter().map(|r| r.period.as_str()))),
        Arc::new(Int64Array::from_iter_values(returns.iter().map(|r| r.version))),
        Arc::new(StringArray::from_iter_values(
            returns.iter().map(|r| r.received_at.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(returns.iter().map(|r| r.source.as_str()))),
        Arc::new(StringArray::from_iter_values(
            returns.iter().map(|r| local_date(&r.received_at)),
        )),
    ];
    Ok(RecordBatch::try_new(returns_schema(), cols)?)
}

/// The values as a Parquet file (`pbgdpl export --format parquet`), for analysts.
pub fn values_parquet(values: &[StoredValue]) -> Result<Vec<u8>> {
    let batch = values_batch(values)?;
    let mut out = Vec::new();
    let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None)?;
    w.write(&batch)?;
    w.close()?;
    Ok(out)
}
