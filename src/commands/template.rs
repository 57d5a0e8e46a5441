//! `pbgdpl template`: a blank return ready to fill, or every unit's workbooks zipped.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use pbgdpl_catalog::Period;

use super::{Context, Usage};

pub(crate) fn run(
    ctx: &Context,
    form: Option<&str>,
    unit: Option<&str>,
    period: &Period,
    all: bool,
    output: &Path,
) -> anyhow::Result<ExitCode> {
    let catalog = &ctx.catalog;
    let bytes = if all {
        pbgdpl_reports::template::bulk_zip(catalog, period)?
    } else {
        let (form, unit) = (form.unwrap_or_default(), unit.unwrap_or_default());
        let form = catalog
            .form(form)
            .ok_or_else(|| Usage(format!("biểu mẫu `{form}` không có trong danh mục")))?;
        let unit = catalog
            .units
            .get(unit)
            .ok_or_else(|| Usage(format!("đơn vị `{unit}` không có trong danh sách")))?;
        pbgdpl_reports::template::return_workbook(catalog, unit, period, &[(form, None)])?
    };
    std::fs::write(output, bytes).with_context(|| format!("{}", output.display()))?;
    println!("{}", output.display());
    Ok(ExitCode::SUCCESS)
}
