//! Reporting periods (`2026S1`, `2026P`, `2026`) and the calendar that gives their dates and deadlines.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::Deserialize;

use super::{Issues, UnitKind, parse_toml};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeriodKind {
    /// 6 tháng (01/01–30/06).
    Semiannual,
    /// Năm, sơ bộ: the year with actual figures to 31/10, the rest estimated.
    Preliminary,
    /// Năm, chính thức.
    Official,
}

impl PeriodKind {
    pub fn id(self) -> &'static str {
        match self {
            PeriodKind::Semiannual => "semiannual",
            PeriodKind::Preliminary => "preliminary",
            PeriodKind::Official => "official",
        }
    }
    fn from_id(s: &str) -> Option<PeriodKind> {
        Some(match s {
            "semiannual" => PeriodKind::Semiannual,
            "preliminary" => PeriodKind::Preliminary,
            "official" => PeriodKind::Official,
            _ => return None,
        })
    }
    pub fn is_annual(self) -> bool {
        self != PeriodKind::Semiannual
    }
}

/// One reporting period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    pub year: i32,
    pub kind: PeriodKind,
}

impl Period {
    /// Parses a period code: `2026S1`, `2026P` or `2026`.
    pub fn parse(code: &str) -> Option<Period> {
        let code = code.trim();
        let (year, kind) = if let Some(y) = code.strip_suffix("S1") {
            (y, PeriodKind::Semiannual)
        } else if let Some(y) = code.strip_suffix('P') {
            (y, PeriodKind::Preliminary)
        } else {
            (code, PeriodKind::Official)
        };
        if year.len() != 4 || !year.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let year: i32 = year.parse().ok()?;
        (1990..=2100).contains(&year).then_some(Period { year, kind })
    }

    pub fn code(&self) -> String {
        self.to_string()
    }

    pub fn start(&self, cal: &PeriodCalendar) -> NaiveDate {
        cal.def(self.kind)
            .map(|d| d.date_in(self.year, &d.start))
            .unwrap_or_else(|| ymd(self.year, 1, 1))
    }

    pub fn end(&self, cal: &PeriodCalendar) -> NaiveDate {
        let fallback = match self.kind {
            PeriodKind::Semiannual => ymd(self.year, 6, 30),
            _ => ymd(self.year, 12, 31),
        };
        cal.def(self.kind)
            .map(|d| d.date_in(self.year, &d.end))
            .unwrap_or(fallback)
    }

    /// The deadline for a sender level; departments and districts have the communes' unless the
    /// calendar says otherwise.
    pub fn deadline(&self, cal: &PeriodCalendar, level: SenderLevel) -> Option<NaiveDate> {
        let def = cal.def(self.kind)?;
        let md = def.deadlines.get(level.id()).or_else(|| {
            matches!(level, SenderLevel::Department | SenderLevel::District)
                .then(|| def.deadlines.get("commune"))
                .flatten()
        })?;
        Some(def.date_in(self.year + def.deadline_year_offset, md))
    }

    /// Vietnamese label, as printed on forms: "6 tháng đầu năm 2026", "Năm 2026 (sơ bộ)".
    pub fn label(&self) -> String {
        match self.kind {
            PeriodKind::Semiannual => format!("6 tháng đầu năm {}", self.year),
            PeriodKind::Preliminary => format!("Năm {} (sơ bộ)", self.year),
            PeriodKind::Official => format!("Năm {} (chính thức)", self.year),
        }
    }

    /// The same kind of period a year earlier (for the `jump` check and year-on-year comparisons).
    pub fn previous_year(&self) -> Period {
        Period {
            year: self.year - 1,
            kind: self.kind,
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            PeriodKind::Semiannual => write!(f, "{}S1", self.year),
            PeriodKind::Preliminary => write!(f, "{}P", self.year),
            PeriodKind::Official => write!(f, "{}", self.year),
        }
    }
}

/// Whether something received on `received` missed `deadline`: the deadline day itself is on time.
pub fn is_late(received: NaiveDate, deadline: NaiveDate) -> bool {
    received > deadline
}

/// A period code (`2026S1`, `2026P`, `2026`) or a range of years (`2025-2027`, a phase): what an
/// indicator can be asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeriodSpec {
    Single(Period),
    Years { from: i32, to: i32 },
}

impl PeriodSpec {
    /// Parses a period code or a range of years, without bounds (see [`super::Catalog::period_spec`]
    /// for the bounds of the catalog's programmes).
    pub fn parse(s: &str) -> Option<PeriodSpec> {
        if let Some((a, b)) = s.split_once('-') {
            let (from, to) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            return ((1990..=2100).contains(&from) && from <= to && to <= 2100)
                .then_some(PeriodSpec::Years { from, to });
        }
        Period::parse(s).map(PeriodSpec::Single)
    }

    /// The years the request spans.
    pub fn years(&self) -> (i32, i32) {
        match self {
            PeriodSpec::Single(p) => (p.year, p.year),
            PeriodSpec::Years { from, to } => (*from, *to),
        }
    }

    /// The year whose targets apply.
    pub fn target_year(&self) -> i32 {
        self.years().1
    }

    /// The codes of the stored periods whose values the request reads: the period itself; for an
    /// official year its preliminary figures too (a unit's official return where it sent one, else
    /// its preliminary one); for a range, both of each year. One home for this rule: the engine
    /// reads only these periods' values, and a cache of results is stale only when a return of
    /// one of them arrives.
    pub fn stored_periods(&self) -> Vec<String> {
        let annual = |y: i32| [y.to_string(), format!("{y}P")];
        match self {
            PeriodSpec::Single(p) if p.kind == PeriodKind::Official => annual(p.year).to_vec(),
            PeriodSpec::Single(p) => vec![p.code()],
            PeriodSpec::Years { from, to } => (*from..=*to).flat_map(annual).collect(),
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

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

/// Who sends a return, for deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderLevel {
    Commune,
    /// The districts' justice offices (Phòng Tư pháp), before 07/2025: deadlines of their own.
    District,
    Department,
    Province,
}

impl SenderLevel {
    pub fn of(kind: UnitKind) -> SenderLevel {
        match kind {
            UnitKind::Department => SenderLevel::Department,
            UnitKind::Province | UnitKind::Nation => SenderLevel::Province,
            UnitKind::District => SenderLevel::District,
            _ => SenderLevel::Commune,
        }
    }
    fn id(self) -> &'static str {
        match self {
            SenderLevel::Commune => "commune",
            SenderLevel::District => "district",
            SenderLevel::Department => "department",
            SenderLevel::Province => "province",
        }
    }
}

/// One kind of period as the calendar file defines it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodKindDef {
    pub id: String,
    pub suffix: String,
    pub name: String,
    pub start: String,
    pub end: String,
    #[serde(default)]
    pub deadline_year_offset: i32,
    #[serde(default)]
    pub deadlines: BTreeMap<String, String>,
    #[serde(skip)]
    kind: Option<PeriodKind>,
}

impl PeriodKindDef {
    fn date_in(&self, year: i32, md: &str) -> NaiveDate {
        parse_md(md)
            .and_then(|(m, d)| NaiveDate::from_ymd_opt(year, m, d))
            .unwrap_or_else(|| ymd(year, 12, 31))
    }
}

fn parse_md(s: &str) -> Option<(u32, u32)> {
    let (m, d) = s.split_once('-')?;
    let (m, d) = (m.parse().ok()?, d.parse().ok()?);
    NaiveDate::from_ymd_opt(2024, m, d).map(|_| (m, d))
}

/// The statistical calendar (`periods.toml`).
#[derive(Debug, Clone, Default)]
pub struct PeriodCalendar {
    pub kinds: Vec<PeriodKindDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    kinds: Vec<PeriodKindDef>,
}

impl PeriodCalendar {
    pub(crate) fn parse(file: &str, text: &str, issues: &mut Issues) -> PeriodCalendar {
        let Some(cal) = parse_toml::<CalendarFile>(file, text, issues) else {
            return PeriodCalendar::default();
        };
        let mut kinds = Vec::new();
        for mut def in cal.kinds {
            let line = text.find(&format!("\"{}\"", def.id)).map(|o| super::line_at(text, o));
            let Some(kind) = PeriodKind::from_id(&def.id) else {
                issues.push(
                    file,
                    line,
                    format!("period kind `{}` is not semiannual|preliminary|official", def.id),
                );
                continue;
            };
            for (what, md) in [("start", &def.start), ("end", &def.end)]
                .into_iter()
                .chain(def.deadlines.iter().map(|(k, v)| (k.as_str(), v)))
            {
                if parse_md(md).is_none() {
                    issues.push(file, line, format!("{}: {what} `{md}` is not a MM-DD date", def.id));
                }
            }
            for level in def.deadlines.keys() {
                if !["commune", "district", "department", "province"].contains(&level.as_str()) {
                    issues.push(
                        file,
                        line,
                        format!(
                            "{}: deadline level `{level}` is not commune|district|department|province",
                            def.id
                        ),
                    );
                }
            }
            def.kind = Some(kind);
            kinds.push(def);
        }
        PeriodCalendar { kinds }
    }

    pub fn def(&self, kind: PeriodKind) -> Option<&PeriodKindDef> {
        self.kinds.iter().find(|d| d.kind == Some(kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_codes_round_trip() {
        for code in ["2026S1", "2026P", "2026", "2019"] {
            assert_eq!(Period::parse(code).map(|p| p.to_string()).as_deref(), Some(code));
        }
        for bad in ["26S1", "2026S2", "abcd", "2026-S1", ""] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_request_reads_the_stored_periods_its_figures_come_from() {
        let codes = |s: &str| PeriodSpec::parse(s).unwrap().stored_periods();
        assert_eq!(codes("2026S1"), ["2026S1"]);
        assert_eq!(codes("2026P"), ["2026P"]);
        assert_eq!(codes("2026"), ["2026", "2026P"]);
        assert_eq!(codes("2025-2026"), ["2025", "2025P", "2026", "2026P"]);
    }

    #[test]
    fn the_deadline_day_is_on_time_in_vietnamese_time() {
        let deadline = NaiveDate::from_ymd_opt(2026, 6, 20).unwrap();
        // 23:30 on the deadline day in Hà Nội is 16:30 UTC: on time.
        let on_time = crate::local_day("2026-06-20T16:30:00Z").unwrap();
        assert_eq!(on_time, deadline);
        assert!(!is_late(on_time, deadline));
        // 00:30 the next day in Hà Nội is still the 20th in UTC: late.
        let next_day = crate::local_day("2026-06-20T17:30:00Z").unwrap();
        assert_eq!(next_day, deadline.succ_opt().unwrap());
        assert!(is_late(next_day, deadline));
        // A timestamp with its own offset means the same instant.
        assert_eq!(crate::local_day("2026-06-21T00:30:00+07:00"), Some(next_day));
    }

    #[test]
    fn deadlines_follow_the_calendar() {
        let text = r#"
[[kinds]]
id = "official"
suffix = ""
name = "Năm"
start = "01-01"
end = "12-31"
deadline_year_offset = 1
deadlines = { commune = "01-20", province = "02-20" }
"#;
        let mut issues = Issues::default();
        let cal = PeriodCalendar::parse("periods.toml", text, &mut issues);
        assert!(issues.0.is_empty(), "{:?}", issues.0);
        let p = Period::parse("2026").unwrap();
        assert_eq!(
            p.deadline(&cal, SenderLevel::Commune),
            NaiveDate::from_ymd_opt(2027, 1, 20)
        );
        // Departments fall back to the communes' deadline.
        assert_eq!(
            p.deadline(&cal, SenderLevel::Department),
            NaiveDate::from_ymd_opt(2027, 1, 20)
        );
        assert_eq!(
            p.deadline(&cal, SenderLevel::Province),
            NaiveDate::from_ymd_opt(2027, 2, 20)
        );
        assert_eq!(p.end(&cal), NaiveDate::from_ymd_opt(2026, 12, 31).unwrap());
    }
}
