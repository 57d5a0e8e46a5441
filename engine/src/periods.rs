//! What an indicator can be asked for: one period, or a phase of several years.

use std::fmt;

use pbgdpl_ingest::catalog::{Period, PeriodKind};

/// A period code (`2026S1`, `2026P`, `2026`) or a range of years (`2025-2027`, a phase).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodSpec {
    Single(Period),
    Years { from: i32, to: i32 },
}

impl PeriodSpec {
    pub fn parse(s: &str) -> Option<PeriodSpec> {
        if let Some((a, b)) = s.split_once('-') {
            let (from, to) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            return ((1990..=2100).contains(&from) && from <= to && to <= 2100)
                .then_some(PeriodSpec::Years { from, to });
        }
        Period::parse(s).map(PeriodSpec::Single)
    }

    /// The year whose targets apply.
    pub fn target_year(&self) -> i32 {
        match self {
            PeriodSpec::Single(p) => p.year,
            PeriodSpec::Years { to, .. } => *to,
        }
    }

    /// The period that decides which units are due (the last official year of a range).
    pub fn reference_period(&self) -> Period {
        match self {
            PeriodSpec::Single(p) => *p,
            PeriodSpec::Years { to, .. } => Period {
                year: *to,
                kind: PeriodKind::Official,
            },
        }
    }
}

impl fmt::Display for PeriodSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeriodSpec::Single(p) => write!(f, "{p}"),
            PeriodSpec::Years { from, to } => write!(f, "{from}-{to}"),
        }
    }
}
