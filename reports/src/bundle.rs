//! Both report files for a period and unit, from the store as it is: the workbook and the narrative.

use pbgdpl_engine::{Engine, PeriodSpec};
use pbgdpl_ingest::catalog::{Period, PeriodKind};
use pbgdpl_ingest::store::{ReturnRecord, StoredValue};

use crate::workbook::ReportInput;
use crate::{Error, Result};

/// The report's files: (workbook .xlsx, narrative .docx). The annual report compares with the year
/// before (its official figures, else preliminary).
/// `values` and `returns` are the period's (`Store::latest_values`, `Store::returns`), read before the
/// call so that no store handle is held across the engine's awaits.
pub async fn report_files(
    engine: &Engine,
    values: &[StoredValue],
    returns: &[ReturnRecord],
    period: &Period,
    unit: &str,
    date: chrono::NaiveDate,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let engine_err = |e: pbgdpl_engine::Error| Error::Input(e.to_string());
    let indicators = engine
        .indicators(&PeriodSpec::Single(*period), unit)
        .await
        .map_err(engine_err)?;
    let previous = if period.kind.is_annual() {
        let before = Period {
            year: period.year - 1,
            kind: PeriodKind::Official,
        };
        Some(
            engine
                .indicators(&PeriodSpec::Single(before), unit)
                .await
                .map_err(engine_err)?,
        )
    } else {
        None
    };
    let input = ReportInput {
        catalog: engine.catalog(),
        period,
        unit,
        indicators: &indicators,
        values,
        returns,
    };
    let xlsx = crate::workbook::report_workbook(&input)?;
    let blocks = crate::narrative::narrative(&input, date, previous.as_deref());
    let docx = crate::narrative::to_docx(&blocks)?;
    Ok((xlsx, docx))
}

/// The file name stem of a report: `bao-cao-pbgdpl-UNIT-PERIOD`.
pub fn file_stem(unit: &str, period: &Period) -> String {
    format!("bao-cao-pbgdpl-{unit}-{}", period.code())
}
