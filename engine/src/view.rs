//! Views of time: the hierarchy figures are shown in. Today's (the default) counts the history of
//! every unit that no longer exists in its successors, with their shares; a date's shows the tree as
//! it stood then.

use chrono::NaiveDate;
use pbgdpl_catalog::{Catalog, Period, Unit, present};

/// Which hierarchy the figures are shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum View {
    /// Today's units: a 2020 figure of a commune merged in 2025 counts in the commune it became.
    #[default]
    Present,
    /// The tree as it stood on a date (`--as-of`): the units of then, under their parents of then.
    AsOf(NaiveDate),
}

impl View {
    pub fn date(self) -> NaiveDate {
        match self {
            View::Present => present(),
            View::AsOf(d) => d,
        }
    }

    /// The unit a request names in this view: the unit holding the code on the view's date, else the
    /// unit of that key (or the latest holder of the code).
    pub fn unit<'c>(self, catalog: &'c Catalog, key_or_code: &str) -> Option<&'c Unit> {
        catalog
            .units
            .at(key_or_code, self.date())
            .or_else(|| catalog.units.get(key_or_code))
    }

    /// The view a unit's figures are shown in: this one, unless the unit is not in its tree (a
    /// commune merged away, asked for by key in today's view) — then the tree as it last stood
    /// while the unit existed, or first stood once it began.
    pub fn settle(self, catalog: &Catalog, key_or_code: &str) -> View {
        match self.unit(catalog, key_or_code) {
            Some(u) if !u.valid_on(self.date()) => View::AsOf(u.clamp(self.date())),
            _ => self,
        }
    }
}

/// The key of the unit that held `code` at the end of `period` (the code itself when none did, so
/// that nothing stored is lost from sight).
pub(crate) fn unit_key(catalog: &Catalog, code: &str, period: &str) -> String {
    let Some(p) = Period::parse(period) else {
        return code.to_owned();
    };
    catalog
        .units
        .at(code, p.end(&catalog.periods))
        .map(|u| u.key.clone())
        .unwrap_or_else(|| code.to_owned())
}

/// A view's tree and where each unit's figures go in it.
pub(crate) struct Scope<'c> {
    catalog: &'c Catalog,
    view: View,
    tree: pbgdpl_catalog::Tree<'c>,
}

impl<'c> Scope<'c> {
    pub(crate) fn new(catalog: &'c Catalog, view: View) -> Scope<'c> {
        Scope {
            catalog,
            view,
            tree: catalog.units.tree(view.date()),
        }
    }

    pub(crate) fn view(&self) -> View {
        self.view
    }

    pub(crate) fn tree(&self) -> &pbgdpl_catalog::Tree<'c> {
        &self.tree
    }

    /// The keys of every unit of the view that a unit's figures count in: the units they go to (the
    /// unit itself, or its successors) and each of their ancestors.
    pub(crate) fn destinations(&self, src: &Unit) -> Vec<&'c str> {
        let mut out: Vec<&'c str> = Vec::new();
        for (to, _) in self
            .catalog
            .units
            .forward(self.catalog.units.get(&src.key).unwrap_or(src), self.view.date())
        {
            for a in self.tree.ancestors(&to.key) {
                if !out.contains(&a.key.as_str()) {
                    out.push(a.key.as_str());
                }
            }
        }
        out
    }
}
