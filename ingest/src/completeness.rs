//! Who owes which return for a period, and who sent it on time: the facts behind BC-1/BC-2, the
//! submissions page and the report's completeness sheet.

use std::collections::HashMap;

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

/// The local (UTC+7) date of a stored `received_at` timestamp.
pub fn received_on(received_at: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&local_date(received_at), "%Y-%m-%d").ok()
}

/// Whether something received on `received` missed `deadline`: the deadline day itself is on time.
pub fn is_late(received: NaiveDate, deadline: NaiveDate) -> bool {
    received > deadline
}

impl Expected<'_> {
    pub fn late(&self) -> bool {
        matches!((self.received, self.deadline), (Some(r), Some(d)) if is_late(r, d))
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
    // First receipt and latest version per (unit, form), in one pass over the returns: the pages ask
    // for this on every view, over every unit of the province.
    let code = period.code();
    let mut arrived: HashMap<(&str, &str), (Option<NaiveDate>, i64)> = HashMap::new();
    for r in returns.iter().filter(|r| r.period == code) {
        let e = arrived
            .entry((r.unit.as_str(), r.form.as_str()))
            .or_insert((None, r.version));
        if let Some(on) = received_on(&r.received_at) {
            e.0 = Some(e.0.map_or(on, |d: NaiveDate| d.min(on)));
        }
        e.1 = e.1.max(r.version);
    }
    let mut out = Vec::new();
    for unit in catalog.units.subtree(root) {
        for form in catalog.forms_due(unit, period) {
            let got = arrived.get(&(unit.code.as_str(), form.id.as_str()));
            out.push(Expected {
                unit,
                form,
                deadline: catalog.deadline(&unit.code, period),
                received: got.and_then(|g| g.0),
                version: got.map(|g| g.1),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_day_is_on_time_in_vietnamese_time() {
        let deadline = NaiveDate::from_ymd_opt(2026, 6, 20).unwrap();
        // 23:30 on the deadline day in Hà Nội is 16:30 UTC: on time.
        let on_time = received_on("2026-06-20T16:30:00Z").unwrap();
        assert_eq!(on_time, deadline);
        assert!(!is_late(on_time, deadline));
        // 00:30 the next day in Hà Nội is still the 20th in UTC: late.
        let next_day = received_on("2026-06-20T17:30:00Z").unwrap();
        assert_eq!(next_day, deadline.succ_opt().unwrap());
        assert!(is_late(next_day, deadline));
        // A timestamp with its own offset means the same instant.
        assert_eq!(received_on("2026-06-21T00:30:00+07:00"), Some(next_day));
    }
}
