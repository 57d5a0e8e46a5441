//! Both report files for a period and unit, from the store as it is: the workbook and the narrative.

use pbgdpl_engine::{Engine, PeriodSpec};
use pbgdpl_ingest::Store;
use pbgdpl_ingest::catalog::{Period, PeriodKind};
use pbgdpl_ingest::store::{ReturnRecord, StoredValue};

use crate::workbook::ReportInput;
use crate::{Error, Result};

/// What the report reads from the store for a period, read before the engine's awaits so that no
/// store handle is held across them.
pub struct StoreFacts {
    /// The period's latest values and its returns.
    pub values: Vec<StoredValue>,
    pub returns: Vec<ReturnRecord>,
    /// For an annual report, the year before's values: official, else preliminary.
    pub previous_values: Vec<StoredValue>,
}

/// The period an annual report compares with: the year before, official edition (the engine falls
/// back to the preliminary one by itself). None for a semiannual report.
fn year_before(period: &Period) -> Option<Period> {
    period.kind.is_annual().then(|| Period {
        year: period.year - 1,
        kind: PeriodKind::Official,
    })
}

impl StoreFacts {
    pub fn read(store: &Store, period: &Period) -> Result<StoreFacts> {
        let err = |e: pbgdpl_ingest::Error| Error::Input(format!("store: {e}"));
        let previous_values = match year_before(period) {
            Some(official) => {
                let v = store.latest_values(&official.code()).map_err(err)?;
                if v.is_empty() {
                    let preliminary = Period {
                        kind: PeriodKind::Preliminary,
                        ..official
                    };
                    store.latest_values(&preliminary.code()).map_err(err)?
                } else {
                    v
                }
            }
            None => Vec::new(),
        };
        Ok(StoreFacts {
            values: store.latest_values(&period.code()).map_err(err)?,
            returns: store.returns(Some(&period.code())).map_err(err)?,
            previous_values,
        })
    }
}

/// The report's files: (workbook .xlsx, narrative .docx). The annual report compares with the year
/// before (its official figures, else preliminary).
pub async fn report_files(
    engine: &Engine,
    facts: &StoreFacts,
    period: &Period,
    unit: &str,
    date: chrono::NaiveDate,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let engine_err = |e: pbgdpl_engine::Error| Error::Input(e.to_string());
    let indicators = engine
        .indicators(&PeriodSpec::Single(*period), unit)
        .await
        .map_err(engine_err)?;
    let previous = match year_before(period) {
        Some(before) => Some(
            engine
                .indicators(&PeriodSpec::Single(before), unit)
                .await
                .map_err(engine_err)?,
        ),
        None => None,
    };
    let input = ReportInput {
        catalog: engine.catalog(),
        period,
        unit,
        indicators: &indicators,
        values: &facts.values,
        returns: &facts.returns,
    };
    let xlsx = crate::workbook::report_workbook(&input)?;
    let previous = previous.as_deref().map(|indicators| crate::narrative::Previous {
        indicators,
        values: &facts.previous_values,
    });
    let blocks = crate::narrative::narrative(&input, date, previous);
    let docx = crate::narrative::to_docx(&blocks)?;
    Ok((xlsx, docx))
}

/// The file name stem of a report: `bao-cao-pbgdpl-UNIT-PERIOD`.
pub fn file_stem(unit: &str, period: &Period) -> String {
    format!("bao-cao-pbgdpl-{unit}-{}", period.code())
}
