//! `pbgdpl indicators` and `pbgdpl export`: the computed indicators and the stored values, as text,
//! JSON, CSV or Parquet.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use pbgdpl_catalog::{Period, PeriodSpec};
use pbgdpl_reports::text;

use super::{Context, Usage};
use crate::args::{ExportFormat, TableFormat};

pub(crate) fn indicators(
    ctx: &Context,
    spec: &PeriodSpec,
    unit: Option<&str>,
    view: pbgdpl_engine::View,
    format: TableFormat,
) -> anyhow::Result<ExitCode> {
    // A request costs what the data costs: inside the years of the catalog's programmes only.
    let spec = ctx.catalog.period_spec(&spec.to_string()).map_err(Usage)?;
    let unit = ctx.unit_in(unit, view)?;
    let store = ctx.store()?;
    let engine = ctx.engine(&*store, &spec.stored_periods())?;
    let values = ctx.rt.block_on(engine.indicators_in(&spec, &unit, view))?;
    super::out(text::indicators(&values, format.into())?)?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn export(
    ctx: &Context,
    period: &Period,
    unit: Option<&str>,
    format: ExportFormat,
    output: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let root = ctx.unit(unit)?;
    let units = &ctx.catalog.units;
    let code = units.get(&root).map_or(root.as_str(), |u| u.code.as_str());
    // The units under the root today and in its history: a 2020 export of a province holds its
    // communes of 2020, merged since, as well as today's (the store keeps codes as sent).
    let mut under: std::collections::HashMap<String, bool> = std::collections::HashMap::new();
    let store = ctx.store()?;
    let values: Vec<_> = store
        .latest_values(Some(&period.code()))?
        .into_iter()
        .filter(|v| {
            *under
                .entry(v.unit.clone())
                .or_insert_with(|| units.is_within(&v.unit, code))
        })
        .collect();
    let bytes = match format {
        ExportFormat::Json => text::values(&values, text::Format::Json)?.into_bytes(),
        ExportFormat::Csv => text::values(&values, text::Format::Csv)?.into_bytes(),
        ExportFormat::Parquet if output.is_none() => {
            return Err(Usage("--format parquet cần -o FILE".into()).into());
        }
        ExportFormat::Parquet => pbgdpl_engine::values_parquet(&values)?,
    };
    match output {
        Some(p) => std::fs::write(p, bytes).with_context(|| format!("{}", p.display()))?,
        None => std::io::stdout().lock().write_all(&bytes)?,
    }
    Ok(ExitCode::SUCCESS)
}
