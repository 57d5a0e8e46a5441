//! Who owes which return for a period, and who sent it on time: the one rule behind BC-1/BC-2, the
//! submissions page, the overview and the report's completeness sheet.

use std::collections::HashMap;

use chrono::NaiveDate;
use pbgdpl_catalog::{Form, Period, Unit, is_late, local_day};

use crate::Engine;
use crate::view::View;

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
        matches!((self.received, self.deadline), (Some(r), Some(d)) if is_late(r, d))
    }

    /// Received by the deadline (a return with no deadline is on time when it arrives).
    pub fn on_time(&self) -> bool {
        self.received.is_some() && !self.late()
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

/// Every return due for a period from the units (of that period) whose figures go to `root` in the
/// view, with what arrived: the root's subtree first in tree order, then the units that have since
/// ended, in list order.
pub(crate) fn expected_returns<'a>(
    engine: &'a Engine,
    root: &str,
    period: &Period,
    view: View,
) -> crate::Result<Vec<Expected<'a>>> {
    let catalog = engine.catalog();
    let Some(target) = view.unit(catalog, root) else {
        return Ok(Vec::new());
    };
    let scope = engine.scope(view)?;
    // First receipt and latest version per (unit, form), in one pass over the returns: the pages ask
    // for this on every view, over every unit of the province.
    let code = period.code();
    let mut arrived: HashMap<(&str, &str), (Option<NaiveDate>, i64)> = HashMap::new();
    for r in engine.returns_of(&code)? {
        let e = arrived
            .entry((r.unit.as_str(), r.form.as_str()))
            .or_insert((None, r.version));
        if let Some(on) = local_day(&r.received_at) {
            e.0 = Some(e.0.map_or(on, |d: NaiveDate| d.min(on)));
        }
        e.1 = e.1.max(r.version);
    }
    let end = period.end(&catalog.periods);
    let order: HashMap<&str, usize> = scope
        .tree()
        .subtree(&target.key)
        .into_iter()
        .enumerate()
        .map(|(i, u)| (u.key.as_str(), i))
        .collect();
    let mut units: Vec<(usize, usize, &Unit)> = catalog
        .units
        .list
        .iter()
        .enumerate()
        .filter(|(_, u)| u.valid_on(end))
        .filter(|(_, u)| order.contains_key(u.key.as_str()) || scope.destinations(u).contains(&target.key.as_str()))
        .map(|(i, u)| (order.get(u.key.as_str()).copied().unwrap_or(usize::MAX), i, u))
        .collect();
    units.sort_by_key(|(o, i, _)| (*o, *i));
    let mut out = Vec::new();
    for (_, _, unit) in units {
        for form in catalog.forms_due(unit, period) {
            let got = arrived.get(&(unit.key.as_str(), form.id.as_str()));
            out.push(Expected {
                unit,
                form,
                deadline: catalog.deadline_of(&unit.key, form, period),
                received: got.and_then(|g| g.0),
                version: got.map(|g| g.1),
            });
        }
    }
    Ok(out)
}
