//! Who owes which return for a period, and who sent it on time: the facts behind BC-1/BC-2, the
//! submissions page and the report's completeness sheet.

use chrono::NaiveDate;

use crate::arrow_tables::local_date;
use crate::catalog::{Catalog, Form, Period, Unit};
use crate::store::ReturnRecord;

/// One return a unit owes.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    pub unit: &'a Unit,
    pub form: &'a Form,
    pub deadline: Option<NaiveDate>,
    /// The local (UTC+7) date the first version arrived.
    pub received: Option<NaiveDate>,
    /// The latest version stored.
    pub version: Option<i64>,
}

impl Expected<'_> {
    pub fn late(&self) -> bool {
        matches!((self.received, self.deadline), (Some(r), Some(d)) if r > d)
    }

    /// `Chưa gửi`, `Gửi muộn` or `Đúng hạn`.
    pub fn status_label(&self) -> &'static str {
        match self.received {
            None => "Chưa gửi",
            Some(_) if self.late() => "Gửi muộn",
            Some(_) => "Đúng hạn",
        }
    }
}

/// Every return due from `root` and the units under it for a period, with what arrived.
pub fn expected_returns<'a>(
    catalog: &'a Catalog,
    root: &str,
    period: &Period,
    returns: &[ReturnRecord],
) -> Vec<Expected<'a>> {
    let mut out = Vec::new();
    for unit in catalog.units.subtree(root) {
        for form in catalog.forms_due(unit, period) {
            let versions: Vec<&ReturnRecord> = returns
                .iter()
                .filter(|r| r.unit == unit.code && r.form == form.id && r.period == period.code())
                .collect();
            let received = versions
                .iter()
                .map(|r| local_date(&r.received_at))
                .min()
                .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
            out.push(Expected {
                unit,
                form,
                deadline: catalog.deadline(&unit.code, period),
                received,
                version: versions.iter().map(|r| r.version).max(),
            });
        }
    }
    out
}
