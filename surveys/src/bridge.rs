//! polars → arrow-rs through the Arrow C Data Interface: polars has its own Arrow implementation
//! (polars-arrow), DataFusion uses arrow-rs, and no maintained conversion crate covers polars 0.55
//! with arrow 59. Both sides' C structs are `#[repr(C)]` with the layout of the specification, so
//! an exported array is moved across by value; buffers are not copied (the importer's release
//! callback frees them).
#![allow(unsafe_code)]

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, make_array};
use arrow::datatypes::{Field, Schema};
use arrow::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi};
use polars::prelude::{CompatLevel, DataFrame};

use crate::{Error, Result};

// The two sides must agree on the C layout: checked at compile time.
const _: () = assert!(std::mem::size_of::<polars_arrow::ffi::ArrowArray>() == std::mem::size_of::<FFI_ArrowArray>());
const _: () = assert!(std::mem::size_of::<polars_arrow::ffi::ArrowSchema>() == std::mem::size_of::<FFI_ArrowSchema>());

/// One polars column as an arrow-rs array.
fn column_to_arrow(df: &DataFrame, name: &str) -> Result<(Field, ArrayRef)> {
    let series = df.column(name)?.as_materialized_series().rechunk();
    let array = series.to_arrow(0, CompatLevel::newest());
    let field = polars_arrow::datatypes::Field::new(name.into(), array.dtype().clone(), true);
    let c_array = polars_arrow::ffi::export_array_to_c(array);
    let c_schema = polars_arrow::ffi::export_field_to_c(&field);
    // SAFETY: both structs follow the Arrow C Data Interface layout (`#[repr(C)]`, sizes asserted
    // above); ownership moves to arrow-rs, whose drop calls the exporter's release callback once.
    let (c_array, c_schema) = unsafe {
        (
            std::mem::transmute::<polars_arrow::ffi::ArrowArray, FFI_ArrowArray>(c_array),
            std::mem::transmute::<polars_arrow::ffi::ArrowSchema, FFI_ArrowSchema>(c_schema),
        )
    };
    // SAFETY: the array and schema were exported together just above and describe each other.
    let data = unsafe { from_ffi(c_array, &c_schema) }?;
    let array = make_array(data);
    let field = Field::try_from(&c_schema)?.with_name(name);
    Ok((field, array))
}

/// A polars frame as an arrow-rs batch, every column moved through the C Data Interface.
pub(crate) fn to_record_batch(df: &DataFrame) -> Result<RecordBatch> {
    let mut fields = Vec::new();
    let mut arrays = Vec::new();
    for name in df.get_column_names() {
        let (f, a) = column_to_arrow(df, name.as_str())?;
        fields.push(f);
        arrays.push(a);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, BooleanArray, Float64Array, Int64Array};
    use polars::prelude::Column;

    #[test]
    fn frames_cross_with_vietnamese_text_and_nulls() {
        let df = DataFrame::new_infer_height(vec![
            Column::new("unit".into(), &["Phường Cẩm Thành", "Xã Trà Bùi"]),
            Column::new("n".into(), &[Some(3i64), None]),
            Column::new("p".into(), &[Some(0.875f64), None]),
            Column::new("ok".into(), &[true, false]),
        ])
        .unwrap();
        let batch = to_record_batch(&df).unwrap();
        assert_eq!(batch.num_rows(), 2);
        let unit = arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8).unwrap();
        let unit = unit.as_any().downcast_ref::<arrow::array::StringArray>().unwrap();
        assert_eq!(unit.value(0), "Phường Cẩm Thành");
        let n = batch.column(1).as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!((n.value(0), n.is_null(1)), (3, true));
        let p = batch.column(2).as_any().downcast_ref::<Float64Array>().unwrap();
        assert_eq!((p.value(0), p.is_null(1)), (0.875, true));
        let ok = batch.column(3).as_any().downcast_ref::<BooleanArray>().unwrap();
        assert!(ok.value(0) && !ok.value(1));
    }
}
