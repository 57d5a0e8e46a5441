//! The units through time, loaded from the administrator's CSV list: the Ministry's root, provinces,
//! districts (before 01/07/2025), communes, wards and special zones, and the departments. A unit is
//! valid from one date to another; a code names different units at different times (95 of today's 96
//! Quảng Ngãi codes were older units' codes), so a unit is found by code and date, and known inside
//! pbgdpl by its key (`21025` today, `21025@2025-06-30` for the ward that had the code before). A unit
//! that ends names its successors with shares: where its history goes.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::Issues;
use crate::text::clean;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// The Ministry's view: the root above the provinces.
    Nation,
    Province,
    District,
    Commune,
    Ward,
    SpecialZone,
    Department,
}

impl UnitKind {
    const ALL: [UnitKind; 7] = [
        UnitKind::Nation,
        UnitKind::Province,
        UnitKind::District,
        UnitKind::Commune,
        UnitKind::Ward,
        UnitKind::SpecialZone,
        UnitKind::Department,
    ];

    pub fn parse(s: &str) -> Option<UnitKind> {
        UnitKind::ALL.into_iter().find(|k| k.id() == s)
    }

    pub fn id(self) -> &'static str {
        match self {
            UnitKind::Nation => "nation",
            UnitKind::Province => "province",
            UnitKind::District => "district",
            UnitKind::Commune => "commune",
            UnitKind::Ward => "ward",
            UnitKind::SpecialZone => "special_zone",
            UnitKind::Department => "department",
        }
    }

    /// Territorial units have a population and report its access figures.
    pub fn is_territorial(self) -> bool {
        matches!(
            self,
            UnitKind::District | UnitKind::Commune | UnitKind::Ward | UnitKind::SpecialZone
        )
    }

    /// Vietnamese name of the kind.
    pub fn label(self) -> &'static str {
        match self {
            UnitKind::Nation => "Toàn quốc",
            UnitKind::Province => "Tỉnh",
            UnitKind::District => "Huyện",
            UnitKind::Commune => "Xã",
            UnitKind::Ward => "Phường",
            UnitKind::SpecialZone => "Đặc khu",
            UnitKind::Department => "Sở, ban, ngành",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    Urban,
    Rural,
    Mixed,
}

impl Area {
    pub fn parse(s: &str) -> Option<Area> {
        Some(match s {
            "urban" => Area::Urban,
            "rural" => Area::Rural,
            "mixed" => Area::Mixed,
            _ => return None,
        })
    }
    pub fn id(self) -> &'static str {
        match self {
            Area::Urban => "urban",
            Area::Rural => "rural",
            Area::Mixed => "mixed",
        }
    }
}

/// The date that stands for "now and on" in the unit tree: units without an end are valid on it.
/// Views of the present use it, so that they do not depend on the clock.
pub fn present() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// One reporting unit, valid over an interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unit {
    /// The official code (strings with their leading zeros), or the catalog's own short code.
    pub code: String,
    /// Unique over time: the code for a unit without an end, `code@valid_to` otherwise.
    pub key: String,
    pub name: String,
    pub kind: UnitKind,
    /// The parent's code, found at each date among the units valid then (a department that outlived
    /// a reorganisation has the new province as its parent from that day).
    pub parent: Option<String>,
    /// Urban/rural for territorial units: the list's `area` column wins over the kind.
    pub area: Option<Area>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    /// Where the unit's history goes when it ends: successor codes (valid the day after) and shares
    /// summing to 1.
    pub successors: Vec<(String, f64)>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub area_km2: Option<f64>,
}

impl Unit {
    pub fn valid_on(&self, date: NaiveDate) -> bool {
        self.valid_from.is_none_or(|d| d <= date) && self.valid_to.is_none_or(|d| date <= d)
    }

    /// The last day the unit was valid (the present for a unit without an end).
    pub fn last_day(&self) -> NaiveDate {
        self.valid_to.unwrap_or_else(present)
    }

    /// `date` moved inside the unit's validity.
    pub fn clamp(&self, date: NaiveDate) -> NaiveDate {
        let date = self.valid_from.map_or(date, |f| date.max(f));
        self.valid_to.map_or(date, |t| date.min(t))
    }
}

/// The unit list, in file order, with indexes by key and by code.
#[derive(Debug, Clone, Default)]
pub struct Units {
    pub list: Vec<Unit>,
    by_key: HashMap<String, usize>,
    by_code: HashMap<String, Vec<usize>>,
}

#[derive(Debug, Deserialize)]
struct UnitRecord {
    code: String,
    name: String,
    kind: String,
    #[serde(default)]
    parent: String,
    #[serde(default)]
    area: String,
    #[serde(default)]
    valid_from: String,
    #[serde(default)]
    valid_to: String,
    #[serde(default)]
    successors: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
    #[serde(default)]
    area_km2: String,
}

fn number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

impl Units {
    /// Parses the CSV unit list (`code,name,kind,parent,area[,valid_from,valid_to,successors,lat,lon,
    /// area_km2]`).
    pub(crate) fn parse(file: &str, text: &str, special_zone_area: Option<Area>, issues: &mut Issues) -> Units {
        let mut units = Units::default();
        // Flexible: the dated columns are optional, and a row may stop after the ones it needs.
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut lines = Vec::new();
        let headers = reader.headers().cloned().unwrap_or_default();
        for (n, record) in reader.records().enumerate() {
            let line = Some(n + 2);
            // A short row reads as if its missing trailing fields were empty.
            let record = record.and_then(|mut r| {
                while r.len() < headers.len() {
                    r.push_field("");
                }
                r.deserialize::<UnitRecord>(Some(&headers))
            });
            let rec = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map(|p| p.line() as usize).or(line);
                    issues.push(file, line, format!("cannot read the row: {e}"));
                    continue;
                }
            };
            let code = clean(&rec.code);
            let Some(kind) = UnitKind::parse(rec.kind.trim()) else {
                issues.push(
                    file,
                    line,
                    format!(
                        "unit `{code}`: kind `{}` is not nation|province|district|commune|ward|special_zone|department",
                        rec.kind
                    ),
                );
                continue;
            };
            let area = match rec.area.trim() {
                "" => match kind {
                    UnitKind::Ward => Some(Area::Urban),
                    UnitKind::Commune => Some(Area::Rural),
                    UnitKind::District => Some(Area::Mixed),
                    UnitKind::SpecialZone => special_zone_area,
                    _ => None,
                },
                s => match Area::parse(s) {
                    Some(a) => Some(a),
                    None => {
                        issues.push(
                            file,
                            line,
                            format!("unit `{code}`: area `{s}` is not urban|rural|mixed"),
                        );
                        None
                    }
                },
            };
            let mut date = |field: &str, s: &str| -> Option<NaiveDate> {
                if s.trim().is_empty() {
                    return None;
                }
                NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                    .map_err(|_| {
                        issues.push(
                            file,
                            line,
                            format!("unit `{code}`: {field} `{s}` is not a YYYY-MM-DD date"),
                        )
                    })
                    .ok()
            };
            let valid_from = date("valid_from", &rec.valid_from);
            let valid_to = date("valid_to", &rec.valid_to);
            if let (Some(f), Some(t)) = (valid_from, valid_to)
                && f > t
            {
                issues.push(file, line, format!("unit `{code}`: valid_from is after valid_to"));
            }
            let mut successors = Vec::new();
            for part in rec.successors.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                match part
                    .split_once(':')
                    .and_then(|(c, s)| Some((c.trim().to_owned(), s.trim().parse::<f64>().ok()?)))
                {
                    Some(pair) => successors.push(pair),
                    None => issues.push(
                        file,
                        line,
                        format!("unit `{code}`: successor `{part}` is not code:share"),
                    ),
                }
            }
            if !successors.is_empty() {
                let total: f64 = successors.iter().map(|(_, s)| s).sum();
                if (total - 1.0).abs() > 1e-6 {
                    issues.push(
                        file,
                        line,
                        format!("unit `{code}`: successor shares sum to {total}, not 1"),
                    );
                }
                if valid_to.is_none() {
                    issues.push(file, line, format!("unit `{code}`: successors without a valid_to"));
                }
            }
            if code.is_empty() {
                issues.push(file, line, "a unit without a code");
                continue;
            }
            let key = match valid_to {
                Some(t) => format!("{code}@{}", t.format("%Y-%m-%d")),
                None => code.clone(),
            };
            let unit = Unit {
                key: key.clone(),
                name: clean(&rec.name),
                kind,
                parent: Some(clean(&rec.parent)).filter(|p| !p.is_empty()),
                area,
                valid_from,
                valid_to,
                successors,
                lat: number(&rec.lat),
                lon: number(&rec.lon),
                area_km2: number(&rec.area_km2),
                code: code.clone(),
            };
            // The same code may name several units, one after the other, never two at once.
            let overlap = units.by_code.get(&code).into_iter().flatten().any(|&i| {
                let o = &units.list[i];
                o.valid_from.is_none_or(|f| f <= unit.last_day()) && unit.valid_from.is_none_or(|f| f <= o.last_day())
            });
            if overlap {
                issues.push(
                    file,
                    line,
                    format!("unit code `{code}` appears twice for the same dates"),
                );
                continue;
            }
            units.by_key.insert(key, units.list.len());
            units.by_code.entry(code).or_default().push(units.list.len());
            lines.push(line);
            units.list.push(unit);
        }
        for (unit, line) in units.list.iter().zip(&lines) {
            match &unit.parent {
                Some(p) if units.at(p, unit.last_day()).is_none() && units.by_code.contains_key(p) => issues.push(
                    file,
                    *line,
                    format!("unit `{}`: parent `{p}` is not valid on {}", unit.code, unit.last_day()),
                ),
                Some(p) if !units.by_code.contains_key(p) => issues.push(
                    file,
                    *line,
                    format!("unit `{}`: parent `{p}` is not in the list", unit.code),
                ),
                None if !matches!(unit.kind, UnitKind::Province | UnitKind::Nation) => {
                    issues.push(file, *line, format!("unit `{}` has no parent", unit.code))
                }
                _ => {}
            }
            let next = unit.valid_to.and_then(|d| d.succ_opt());
            for (s, _) in &unit.successors {
                if next.is_none_or(|d| units.at(s, d).is_none()) {
                    issues.push(
                        file,
                        *line,
                        format!(
                            "unit `{}`: successor `{s}` is not in the list on the day after valid_to",
                            unit.code
                        ),
                    );
                }
            }
        }
        units
    }

    /// The position in [`Units::list`] of the unit with this key (a key, not a code): how the engine
    /// keeps per-unit facts in vectors rather than maps keyed by text.
    pub fn index(&self, key: &str) -> Option<usize> {
        self.by_key.get(key).copied()
    }

    /// A unit by key, else the latest unit with that code (so that a code of today finds today's
    /// unit, and a code that ended finds its last holder).
    pub fn get(&self, key_or_code: &str) -> Option<&Unit> {
        if let Some(&i) = self.by_key.get(key_or_code) {
            return Some(&self.list[i]);
        }
        self.by_code
            .get(key_or_code)?
            .iter()
            .map(|&i| &self.list[i])
            .max_by_key(|u| u.last_day())
    }

    /// The unit that held `code` on `date`.
    pub fn at(&self, code: &str, date: NaiveDate) -> Option<&Unit> {
        self.by_code
            .get(code)?
            .iter()
            .map(|&i| &self.list[i])
            .find(|u| u.valid_on(date))
    }

    /// A unit's parent on `date` (moved inside the unit's own validity).
    pub fn parent_of(&self, unit: &Unit, date: NaiveDate) -> Option<&Unit> {
        self.at(unit.parent.as_deref()?, unit.clamp(date))
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The top of the tree today: the nation when the list has one, else its province.
    pub fn root(&self) -> Option<&Unit> {
        let top = |kind: UnitKind| {
            self.list
                .iter()
                .find(|u| u.kind == kind && u.parent.is_none() && u.valid_to.is_none())
        };
        top(UnitKind::Nation).or_else(|| top(UnitKind::Province))
    }

    /// The tree as it stands on `date`: the units valid then, under their parents of then.
    pub fn tree(&self, date: NaiveDate) -> Tree<'_> {
        let mut children: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut parent = vec![None; self.list.len()];
        for (i, u) in self.list.iter().enumerate() {
            if !u.valid_on(date) {
                continue;
            }
            if let Some(p) = u.parent.as_deref().and_then(|p| self.at(p, date)) {
                let pi = self.by_key[&p.key];
                parent[i] = Some(pi);
                children.entry(p.key.as_str()).or_default().push(i);
            }
        }
        Tree {
            units: self,
            date,
            children,
            parent,
        }
    }

    /// The units of today that a unit's history goes to, with shares (the unit itself when it has
    /// not ended by `date`, nothing when it only begins after it).
    pub fn forward<'a>(&'a self, unit: &'a Unit, date: NaiveDate) -> Vec<(&'a Unit, f64)> {
        let mut out = Vec::new();
        self.forward_into(unit, date, 1.0, 0, &mut out);
        out
    }

    fn forward_into<'a>(
        &'a self,
        unit: &'a Unit,
        date: NaiveDate,
        share: f64,
        depth: usize,
        out: &mut Vec<(&'a Unit, f64)>,
    ) {
        if unit.valid_on(date) {
            out.push((unit, share));
            return;
        }
        // A unit that begins after the date has no place in that day's tree; a chain that does not
        // end in a few steps is a broken list, not a history.
        if unit.valid_from.is_some_and(|f| f > date) || depth > 16 {
            return;
        }
        let Some(next) = unit.valid_to.and_then(|d| d.succ_opt()) else {
            return;
        };
        for (code, s) in &unit.successors {
            if let Some(succ) = self.at(code, next) {
                self.forward_into(succ, date, share * s, depth + 1, out);
            }
        }
    }

    /// Whether a unit named `code` (at any time) sits at or under the unit coded `ancestor`: in the
    /// tree of its own last day, or in today's through its successors. What a user bound to a
    /// province may send for: the province's units of today and of its history.
    pub fn is_within(&self, code: &str, ancestor: &str) -> bool {
        let under = |unit: &Unit, date: NaiveDate| {
            let mut cur = Some(unit);
            for _ in 0..16 {
                match cur {
                    Some(u) if u.code == ancestor => return true,
                    Some(u) => cur = self.parent_of(u, date),
                    None => return false,
                }
            }
            false
        };
        self.by_code.get(code).into_iter().flatten().any(|&i| {
            let unit = &self.list[i];
            under(unit, unit.last_day())
                || self
                    .forward(unit, present())
                    .iter()
                    .any(|(today, _)| under(today, present()))
        })
    }

    /// The days territorial units were reorganised: the first day of the successors of every
    /// commune, district or province that ended, oldest first (for marking trends across them).
    pub fn reorganisations(&self) -> Vec<NaiveDate> {
        let mut days: Vec<NaiveDate> = self
            .list
            .iter()
            .filter(|u| u.kind.is_territorial() || matches!(u.kind, UnitKind::District | UnitKind::Province))
            .filter(|u| !u.successors.is_empty())
            .filter_map(|u| u.valid_to?.succ_opt())
            .collect();
        days.sort();
        days.dedup();
        days
    }

    /// The district each territorial unit of a later tree was mostly made from (by the shares of its
    /// predecessors), by the unit's key: how people still find a commune after districts were
    /// abolished on 01/07/2025. Units made from no district's communes are absent.
    pub fn former_districts(&self) -> HashMap<String, String> {
        let mut best: HashMap<String, (f64, String)> = HashMap::new();
        for old in self
            .list
            .iter()
            .filter(|u| u.kind.is_territorial() && !u.successors.is_empty())
        {
            let (Some(last), Some(parent)) = (old.valid_to, self.parent_of(old, old.last_day())) else {
                continue;
            };
            let Some(next) = last.succ_opt() else { continue };
            if parent.kind != UnitKind::District {
                continue;
            }
            for (code, share) in &old.successors {
                let Some(new) = self.at(code, next) else { continue };
                let entry = best.entry(new.key.clone()).or_insert((f64::MIN, String::new()));
                if *share > entry.0 {
                    *entry = (*share, parent.name.clone());
                }
            }
        }
        best.into_iter().map(|(k, (_, name))| (k, name)).collect()
    }

    /// The unit and everything below it today, the unit first.
    pub fn subtree(&self, key: &str) -> Vec<&Unit> {
        self.tree(present()).subtree(key)
    }

    /// The unit's children today.
    pub fn children<'a>(&'a self, key: &str) -> Vec<&'a Unit> {
        self.tree(present()).children(key)
    }

    /// The chain of ancestors of a unit today, itself first.
    pub fn ancestors(&self, key: &str) -> Vec<&Unit> {
        self.tree(present()).ancestors(key)
    }
}

/// The unit tree on one date.
pub struct Tree<'a> {
    units: &'a Units,
    pub date: NaiveDate,
    children: HashMap<&'a str, Vec<usize>>,
    parent: Vec<Option<usize>>,
}

impl<'a> Tree<'a> {
    fn index(&self, key: &str) -> Option<usize> {
        let u = self.units.get(key)?;
        let i = self.units.by_key[&u.key];
        self.units.list[i].valid_on(self.date).then_some(i)
    }

    pub fn children(&self, key: &str) -> Vec<&'a Unit> {
        let Some(u) = self.units.get(key) else {
            return Vec::new();
        };
        self.children
            .get(u.key.as_str())
            .into_iter()
            .flatten()
            .map(|&i| &self.units.list[i])
            .collect()
    }

    /// The unit and everything below it, the unit first (empty when the unit is not valid then).
    pub fn subtree(&self, key: &str) -> Vec<&'a Unit> {
        let Some(start) = self.index(key) else {
            return Vec::new();
        };
        let mut out = vec![&self.units.list[start]];
        let mut i = 0;
        while i < out.len() {
            out.extend(
                self.children
                    .get(out[i].key.as_str())
                    .into_iter()
                    .flatten()
                    .map(|&c| &self.units.list[c]),
            );
            i += 1;
        }
        out
    }

    /// The chain of ancestors, the unit first.
    pub fn ancestors(&self, key: &str) -> Vec<&'a Unit> {
        let mut out = Vec::new();
        let mut cur = self.index(key);
        while let Some(i) = cur {
            if out.len() > 64 {
                break; // a cycle in a hand-edited list must not hang us
            }
            out.push(&self.units.list[i]);
            cur = self.parent[i];
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "code,name,kind,parent,area,valid_from,valid_to,successors
VN,Việt Nam,nation,,,,,
51,Tỉnh Quảng Ngãi (cũ),province,VN,,,2025-06-30,51:1
522,Thành phố Quảng Ngãi,district,51,,,2025-06-30,51:1
21025,Phường Nguyễn Nghiêm,ward,522,,,2025-06-30,21025:1
21142,Xã Trà Bùi,commune,522,,,2025-06-30,21136:0.4;21157:0.6
51,Tỉnh Quảng Ngãi,province,VN,,2025-07-01,,
21025,Phường Cẩm Thành,ward,51,,2025-07-01,,
21136,Xã Cà Đam,commune,51,,2025-07-01,,
21157,Xã Tây Trà Bồng,commune,51,,2025-07-01,,
STP,Sở Tư pháp,department,51,,,,
";

    fn units() -> Units {
        let mut issues = Issues::default();
        let u = Units::parse("units.csv", LIST, None, &mut issues);
        assert!(issues.0.is_empty(), "{:?}", issues.0);
        u
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_code_names_the_unit_of_its_date() {
        let u = units();
        assert_eq!(u.at("21025", day(2020, 12, 31)).unwrap().name, "Phường Nguyễn Nghiêm");
        assert_eq!(u.at("21025", day(2026, 6, 30)).unwrap().name, "Phường Cẩm Thành");
        assert_eq!(u.get("21025").unwrap().key, "21025", "today's unit by its code");
        assert_eq!(u.get("21025@2025-06-30").unwrap().name, "Phường Nguyễn Nghiêm");
    }

    #[test]
    fn the_tree_of_a_date_and_a_department_that_outlived_the_reform() {
        let u = units();
        let then = u.tree(day(2020, 12, 31));
        let keys: Vec<_> = then.subtree("VN").iter().map(|u| u.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "VN",
                "51@2025-06-30",
                "522@2025-06-30",
                "STP",
                "21025@2025-06-30",
                "21142@2025-06-30"
            ]
        );
        let now = u.tree(present());
        assert_eq!(
            now.ancestors("STP").iter().map(|u| u.key.as_str()).collect::<Vec<_>>(),
            ["STP", "51", "VN"]
        );
        assert_eq!(then.ancestors("STP")[1].key, "51@2025-06-30");
    }

    #[test]
    fn history_goes_forward_with_its_shares() {
        let u = units();
        let tra_bui = u.get("21142").unwrap();
        let fwd: Vec<_> = u
            .forward(tra_bui, present())
            .into_iter()
            .map(|(u, s)| (u.key.clone(), s))
            .collect();
        assert_eq!(fwd, [("21136".to_owned(), 0.4), ("21157".to_owned(), 0.6)]);
        let district = u.get("522").unwrap();
        assert_eq!(u.forward(district, present())[0].0.key, "51");
        assert!(
            u.forward(u.get("21136").unwrap(), day(2020, 1, 1)).is_empty(),
            "not yet there in 2020"
        );
    }

    #[test]
    fn within_a_unit_means_under_it_then_or_through_successors_now() {
        let u = units();
        // Old Trà Bùi was under district 522 of old 51, and went into two communes of today's 51.
        assert!(u.is_within("21142", "522") && u.is_within("21142", "51"));
        assert!(u.is_within("21025", "522"), "the old ward of that code");
        assert!(u.is_within("STP", "51") && u.is_within("51", "VN"));
        assert!(
            !u.is_within("21136", "522"),
            "today's commune was never under the district"
        );
        assert!(!u.is_within("51", "21025") && !u.is_within("99999", "51"));
    }

    #[test]
    fn overlapping_codes_and_broken_successors_are_mistakes_with_their_line() {
        let mut issues = Issues::default();
        let text = format!("{LIST}21025,Trùng,ward,51,,2026-01-01,,\n21010,Cũ,ward,522,,,2025-06-30,99999:1\n");
        Units::parse("units.csv", &text, None, &mut issues);
        let lines: Vec<_> = issues.0.iter().map(|i| (i.line, i.message.clone())).collect();
        assert!(
            lines.iter().any(|(l, m)| *l == Some(12) && m.contains("appears twice")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|(l, m)| *l == Some(13) && m.contains("successor `99999`")),
            "{lines:?}"
        );
    }
}
