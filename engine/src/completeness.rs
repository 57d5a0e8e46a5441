//! Who owes which return for a period, and who sent it on time: the one rule behind BC-1/BC-2, the
//! submissions page, the overview and the report's completeness sheet.

use std::collections::HashMap;

use chrono::NaiveDate;
use pbgdpl_catalog::{Catalog, Form, Period, Unit, is_late, local_day};

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

/// By form: for each unit of the catalog's list (by index), whether it owes the form (`Some`) and
/// is territorial (`Some(true)`).
pub(crate) type DueUnits = HashMap<String, Vec<Option<bool>>>;

/// Who owes which return for a period, by when: catalog facts, worked out once per period and kept
/// by the engine (`Engine::owed`). A request for the nation in a year before 07/2025 would
/// otherwise ask the plans and the calendar about each of 11,000 units.
pub(crate) struct Owed {
    /// What the cell indicators' coverage counts.
    pub(crate) by_form: DueUnits,
    /// Every unit that owes a return (valid at the period's end), by index in list order, with the
    /// forms it owes (by index in the catalog's forms) and their deadlines.
    pub(crate) returns: Vec<UnitOwes>,
}

/// A unit (by index) and the returns it owes: (form by index, deadline).
pub(crate) type UnitOwes = (usize, Vec<(usize, Option<NaiveDate>)>);

impl Owed {
    pub(crate) fn of(catalog: &Catalog, period: &Period) -> Owed {
        let list = &catalog.units.list;
        let mut owed = Owed {
            by_form: DueUnits::new(),
            returns: Vec::new(),
        };
        for (i, u) in list.iter().enumerate() {
            let forms: Vec<(usize, Option<NaiveDate>)> = catalog
                .forms_due(u, period)
                .into_iter()
                .filter_map(|f| {
                    owed.by_form
                        .entry(f.id.clone())
                        .or_insert_with(|| vec![None; list.len()])[i] = Some(u.kind.is_territorial());
                    let at = catalog.forms.iter().position(|g| std::ptr::eq(g, f))?;
                    Some((at, catalog.deadline_of(&u.key, f, period)))
                })
                .collect();
            if !forms.is_empty() {
                owed.returns.push((i, forms));
            }
        }
        owed
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
    let span = tracing::debug_span!("arrived").entered();
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
    drop(span);
    // The units of the view under the target, by index in the catalog's list: their place in the
    // subtree's order.
    let units = &catalog.units;
    let mut order = vec![usize::MAX; units.list.len()];
    for (at, u) in scope.tree().subtree(&target.key).into_iter().enumerate() {
        if let Some(i) = units.index(&u.key) {
            order[i] = at;
        }
    }
    let t = units.index(&target.key);
    let owed = engine.owed(period)?;
    // Units of the period that are in the subtree, or whose figures go to the target (ended since).
    let mut owing: Vec<&UnitOwes> = owed
        .returns
        .iter()
        .filter(|(i, _)| order[*i] != usize::MAX || scope.shares_at(*i).iter().any(|(j, _)| Some(*j) == t))
        .collect();
    owing.sort_by_key(|(i, _)| (order[*i], *i));
    let mut out = Vec::new();
    for (i, forms) in owing {
        let unit = &units.list[*i];
        for &(f, deadline) in forms {
            let form = &catalog.forms[f];
            let got = arrived.get(&(unit.key.as_str(), form.id.as_str()));
            out.push(Expected {
                unit,
                form,
                deadline,
                received: got.and_then(|g| g.0),
                version: got.map(|g| g.1),
            });
        }
    }
    Ok(out)
}
