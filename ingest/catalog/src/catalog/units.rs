//! The unit tree (province → communes/wards/special zones, departments; districts before 07/2025),
//! loaded from the administrator's CSV list.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::Issues;
use crate::text::clean;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    Province,
    District,
    Commune,
    Ward,
    SpecialZone,
    Department,
}

impl UnitKind {
    pub fn parse(s: &str) -> Option<UnitKind> {
        Some(match s {
            "province" => UnitKind::Province,
            "district" => UnitKind::District,
            "commune" => UnitKind::Commune,
            "ward" => UnitKind::Ward,
            "special_zone" => UnitKind::SpecialZone,
            "department" => UnitKind::Department,
            _ => return None,
        })
    }
    pub fn id(self) -> &'static str {
        match self {
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

/// One reporting unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unit {
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent: Option<String>,
    /// Urban/rural for territorial units: the list's `area` column wins over the kind.
    pub area: Option<Area>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    /// Where a dissolved unit's history goes, with shares summing to 1.
    pub successors: Vec<(String, f64)>,
}

impl Unit {
    pub fn valid_on(&self, date: NaiveDate) -> bool {
        self.valid_from.is_none_or(|d| d <= date) && self.valid_to.is_none_or(|d| date <= d)
    }
}

/// The unit list, in file order, with an index by code.
#[derive(Debug, Clone, Default)]
pub struct Units {
    pub list: Vec<Unit>,
    index: HashMap<String, usize>,
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
}

impl Units {
    /// Parses the CSV unit list (`code,name,kind,parent,area[,valid_from,valid_to,successors]`).
    pub(crate) fn parse(file: &str, text: &str, special_zone_area: Option<Area>, issues: &mut Issues) -> Units {
        let mut units = Units::default();
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut lines = Vec::new();
        for record in reader.deserialize::<UnitRecord>() {
            let rec = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map(|p| p.line() as usize);
                    issues.push(file, line, format!("cannot read the row: {e}"));
                    continue;
                }
            };
            let line = Some(lines.len() + 2);
            let code = clean(&rec.code);
            let Some(kind) = UnitKind::parse(rec.kind.trim()) else {
                issues.push(
                    file,
                    line,
                    format!(
                        "unit `{code}`: kind `{}` is not province|district|commune|ward|special_zone|department",
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
            }
            if code.is_empty() {
                issues.push(file, line, "a unit without a code");
                continue;
            }
            if units.index.contains_key(&code) {
                issues.push(file, line, format!("unit code `{code}` appears twice"));
                continue;
            }
            let parent = Some(clean(&rec.parent)).filter(|p| !p.is_empty());
            units.index.insert(code.clone(), units.list.len());
            lines.push(line);
            units.list.push(Unit {
                code,
                name: clean(&rec.name),
                kind,
                parent,
                area,
                valid_from,
                valid_to,
                successors,
            });
        }
        for (unit, line) in units.list.iter().zip(&lines) {
            if let Some(p) = &unit.parent {
                if !units.index.contains_key(p) {
                    issues.push(
                        file,
                        *line,
                        format!("unit `{}`: parent `{p}` is not in the list", unit.code),
                    );
                }
            } else if unit.kind != UnitKind::Province {
                issues.push(file, *line, format!("unit `{}` has no parent", unit.code));
            }
            for (s, _) in &unit.successors {
                if !units.index.contains_key(s) {
                    issues.push(
                        file,
                        *line,
                        format!("unit `{}`: successor `{s}` is not in the list", unit.code),
                    );
                }
            }
        }
        units
    }

    pub fn get(&self, code: &str) -> Option<&Unit> {
        self.index.get(code).map(|&i| &self.list[i])
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The province at the top of the tree (the first unit of kind province without a parent).
    pub fn root(&self) -> Option<&Unit> {
        self.list
            .iter()
            .find(|u| u.kind == UnitKind::Province && u.parent.is_none())
    }

    pub fn children<'a>(&'a self, code: &'a str) -> impl Iterator<Item = &'a Unit> + 'a {
        self.list.iter().filter(move |u| u.parent.as_deref() == Some(code))
    }

    /// The unit and everything below it, the unit first.
    pub fn subtree(&self, code: &str) -> Vec<&Unit> {
        let mut out: Vec<&Unit> = self.get(code).into_iter().collect();
        let mut i = 0;
        while i < out.len() {
            let c = out[i].code.clone();
            out.extend(self.list.iter().filter(|u| u.parent.as_deref() == Some(c.as_str())));
            i += 1;
        }
        out
    }

    /// The chain of ancestors of a unit, itself first.
    pub fn ancestors(&self, code: &str) -> Vec<&Unit> {
        let mut out = Vec::new();
        let mut cur = self.get(code);
        while let Some(u) = cur {
            if out.iter().any(|o: &&Unit| o.code == u.code) {
                break; // a cycle in a hand-edited list must not hang us
            }
            out.push(u);
            cur = u.parent.as_deref().and_then(|p| self.get(p));
        }
        out
    }
}
