//! Views of time: the hierarchy figures are shown in. Today's (the default) counts the history of
//! every unit that no longer exists in its successors, with their shares; a date's shows the tree as
//! it stood then.

use std::sync::Arc;

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

/// Where every unit's figures go in one view, by the unit's index in the catalog's list: the units
/// of the view's tree they count in (the units they go to — the unit itself, or its successors — and
/// each of their ancestors), as indexes too, with the share each receives (the sum of the shares of
/// the successors under it). Built once per view of an engine: a request for the nation in a year
/// before 07/2025 asks this of each of 10,400 units several times over (coverage, BC-1/BC-2, cells).
pub(crate) type Shares = Vec<Vec<(usize, f64)>>;

/// Builds [`Shares`] for the tree of `date`.
pub(crate) fn shares_on(catalog: &Catalog, date: NaiveDate) -> Shares {
    let units = &catalog.units;
    let tree = units.tree(date);
    units
        .list
        .iter()
        .map(|u| {
            let mut out: Vec<(usize, f64)> = Vec::new();
            for (to, share) in units.forward(u, date) {
                for a in tree.ancestors(&to.key) {
                    let Some(i) = units.index(&a.key) else {
                        continue;
                    };
                    match out.iter_mut().find(|(j, _)| *j == i) {
                        Some((_, s)) => *s += share,
                        None => out.push((i, share)),
                    }
                }
            }
            out
        })
        .collect()
}

/// A view's tree and where each unit's figures go in it.
pub(crate) struct Scope<'c> {
    catalog: &'c Catalog,
    view: View,
    tree: pbgdpl_catalog::Tree<'c>,
    shares: Arc<Shares>,
}

impl<'c> Scope<'c> {
    /// The scope of `view`, with its [`Shares`] (see `Engine::scope`, which keeps them).
    pub(crate) fn new(catalog: &'c Catalog, view: View, shares: Arc<Shares>) -> Scope<'c> {
        Scope {
            catalog,
            view,
            tree: catalog.units.tree(view.date()),
            shares,
        }
    }

    pub(crate) fn catalog(&self) -> &'c Catalog {
        self.catalog
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
        let units = &self.catalog.units;
        let at = units.index(&src.key).map_or(&[][..], |i| self.shares_at(i));
        at.iter().map(|&(i, _)| units.list[i].key.as_str()).collect()
    }

    /// For each unit of the catalog's list (by index), its position among `asked` (the units a
    /// computation is for), if it is one of them: what [`Scope::shares_among`] reads.
    pub(crate) fn positions(&self, asked: &[&Unit]) -> Vec<Option<usize>> {
        let units = &self.catalog.units;
        let mut at = vec![None; units.list.len()];
        for (k, u) in asked.iter().enumerate() {
            if let Some(i) = units.index(&u.key) {
                at[i] = Some(k);
            }
        }
        at
    }

    /// Where the figures of the unit at index `i` of the catalog's list go, as indexes, with the
    /// share each receives: the sum of the shares of the successors under it (1 for the unit's own
    /// ancestors, or for a divided unit's province when all its parts stayed in it).
    pub(crate) fn shares_at(&self, i: usize) -> &[(usize, f64)] {
        self.shares.get(i).map(Vec::as_slice).unwrap_or(&[])
    }

    /// [`Scope::shares_at`] among the units asked for: (position in `asked`, share), with `wanted`
    /// from [`Scope::positions`] of `asked`.
    pub(crate) fn shares_among<'s>(
        &'s self,
        i: usize,
        wanted: &'s [Option<usize>],
    ) -> impl Iterator<Item = (usize, f64)> + 's {
        self.shares_at(i)
            .iter()
            .filter_map(|&(a, share)| wanted[a].map(|k| (k, share)))
    }
}
