//! The dashboards of the bundled province (Quảng Ngãi: 96 communes, wards and a special zone with
//! coordinates, 11 departments) in a real headless Chromium against a real server: the map's points
//! coloured by the engine's statuses, the tables' filters, sorting, grouping and downloads, the
//! drill-down from a figure to the cells behind it, axe-core on every page, and screenshots of every
//! page at 1366 and 390 px in `target/screenshots/`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use pbgdpl_catalog::{Catalog, Period};
use pbgdpl_store::{SqliteStore, Store, Submission};
use serde_json::Value as Json;

use crate::support::{Server, bundled_catalog, call, now, repo, run, session_cookie, user};

const PERIODS: [&str; 2] = ["2026S1", "2026P"];

/// Generated returns of the province for two periods (5 % of units missing; one unit in eight late),
/// stored on disk.
fn province_store(cat: &Catalog, dir: &Path) -> PathBuf {
    let path = dir.join("store");
    let store = SqliteStore::open(&path).unwrap();
    for code in PERIODS {
        let period = Period::parse(code).unwrap();
        let end = period.end(&cat.periods);
        let subs: Vec<Submission> = pbgdpl_fixtures::generate::generate(cat, &period, 17, 0.05)
            .into_iter()
            .enumerate()
            .flat_map(|(i, r)| {
                let unit = r.unit.clone();
                r.forms.into_iter().map(move |(form, values)| {
                    let deadline = cat
                        .form(&form)
                        .and_then(|f| cat.deadline_of(&unit, f, &period))
                        .unwrap_or(end);
                    let on = if i % 8 == 3 {
                        deadline + chrono::Duration::days(3)
                    } else {
                        deadline - chrono::Duration::days(2)
                    };
                    Submission {
                        unit: unit.clone(),
                        form,
                        period: code.into(),
                        values,
                        warnings: Vec::new(),
                        received_at: on.and_hms_opt(2, 0, 0).unwrap().and_utc().min(now()),
                        submitted_by: Some(format!("can-bo-{}", unit)),
                        source: "file".into(),
                        client: None,
                        file_name: Some(format!("{unit}_{code}.xlsx")),
                        file_sha256: None,
                    }
                })
            })
            .collect();
        for r in store.submit(&subs).unwrap() {
            assert!(r.is_ok());
        }
    }
    path
}

struct Site {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    store: PathBuf,
    units: PathBuf,
    server: Server,
    token: String,
    cookie: String,
}

impl Site {
    fn new() -> Site {
        let cat = bundled_catalog();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let store = province_store(&cat, &dir);
        let token = user(&store, "quantri", "admin", None);
        let (cookie, _) = session_cookie(&store, "quantri");
        let units = repo().join("fixtures/catalog/units.csv");
        let server = Server::start_with(&store, &units);
        Site {
            _dir: tmp,
            dir,
            store,
            units,
            server,
            token,
            cookie,
        }
    }

    /// The indicator values of the API.
    fn indicators(&self, indicator: &str) -> Vec<Json> {
        let (status, json) = call(
            ureq::get(&format!(
                "{}/api/v1/indicators?period=2026S1&indicator={indicator}",
                self.server.base
            )),
            Some(&self.token),
            None,
        );
        assert_eq!(status, 200, "{json}");
        json.as_array().unwrap().clone()
    }

    /// A login link that sends the browser on to `path`.
    fn link(&self, path: &str) -> String {
        let out = run(
            &[
                "--store",
                &self.store.display().to_string(),
                "--units",
                &self.units.display().to_string(),
                "user",
                "link",
                "quantri",
            ],
            Path::new("."),
        );
        let login = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        format!("{}{login}?next={}", self.server.base, crate::support::form_encode(path))
    }

    /// The page as Chromium renders it (its DOM after loading).
    fn dom(&self, path: &str) -> String {
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let out = chromium(&self.dir.join(format!("p{n}")), 1366, &["--dump-dom"], &self.link(path));
        let html = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(html.contains("<main"), "{path}: {html}");
        html
    }

    /// A download, fetched with the session as the browser would.
    fn fetch(&self, href: &str) -> (String, Vec<u8>) {
        let href = href.replace("&amp;", "&").replace("&#38;", "&");
        let res = ureq::get(&format!("{}{href}", self.server.base))
            .set("Cookie", &self.cookie)
            .call()
            .unwrap();
        let disposition = res.header("content-disposition").unwrap_or("").to_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut res.into_reader(), &mut bytes).unwrap();
        (disposition, bytes)
    }
}

/// Chromium as the tests run it: headless, no sandbox (root), no network chatter, a fresh profile,
/// `width` pixels wide.
pub(crate) fn chromium(profile: &Path, width: u32, extra: &[&str], url: &str) -> std::process::Output {
    Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--window-size={width},2400"))
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium is installed by scripts/test.sh")
}

/// Every value of an attribute in the HTML, in order.
fn attrs<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let key = format!("{name}=\"");
    html.match_indices(&key)
        .map(|(i, _)| {
            let rest = &html[i + key.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

/// The map's points: unit → status.
fn map_points(html: &str) -> HashMap<String, String> {
    let svg = &html[html.find("<figure class=\"map\"").expect("a map")..];
    let svg = &svg[..svg.find("</svg>").unwrap()];
    let mut out = HashMap::new();
    for (i, _) in svg.match_indices("<a href=") {
        let tag = &svg[i..i + svg[i..].find('>').unwrap()];
        let unit = attrs(tag, "data-unit")[0].to_owned();
        let status = attrs(tag, "data-status")[0].to_owned();
        out.insert(unit, status);
    }
    out
}

/// The table's body rows (`<tr …>…</tr>` inside `<tbody>`), without group headings.
fn body_rows(html: &str) -> Vec<&str> {
    // The grid's table: Chromium gives every table a tbody, the urban/rural pair's too.
    let grid = &html[html.find("<section class=\"grid\"").expect("a grid")..];
    let body = &grid[grid.find("<tbody>").expect("a table")..];
    let body = &body[..body.find("</tbody>").unwrap()];
    body.split("<tr")
        .skip(1)
        .filter(|r| !r.starts_with(" class=\"group\""))
        .collect()
}

/// The text of each `<td>` of a row.
fn cells(row: &str) -> Vec<String> {
    row.split("<td")
        .skip(1)
        .map(|c| {
            let c = &c[c.find('>').unwrap() + 1..c.find("</td>").unwrap()];
            let mut text = String::new();
            let mut inside = false;
            for ch in c.chars() {
                match ch {
                    '<' => inside = true,
                    '>' => inside = false,
                    _ if !inside => text.push(ch),
                    _ => {}
                }
            }
            text
        })
        .collect()
}

/// "1.234" as a number.
fn whole(text: &str) -> i64 {
    text.replace('.', "")
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("`{text}` is not a whole number"))
}

#[test]
fn the_map_shows_every_territorial_unit_coloured_by_the_engines_status() {
    let site = Site::new();
    let cat = bundled_catalog();
    for code in ["CDS-1", "CDS-2", "CDS-3"] {
        let values = site.indicators(code);
        let expected: HashMap<String, String> = values
            .iter()
            .filter(|v| v["unit"] != "51")
            .filter(|v| {
                cat.units
                    .get(v["unit"].as_str().unwrap())
                    .is_some_and(|u| u.lat.is_some())
            })
            .map(|v| {
                let status = if v["value"].is_null() && v["denominator"] == 0 {
                    "khong_ap_dung"
                } else if v["value"].is_null() {
                    "chua_co"
                } else {
                    v["status"].as_str().unwrap_or("khong_muc_tieu")
                };
                (v["unit"].as_str().unwrap().to_owned(), status.to_owned())
            })
            .collect();
        let html = site.dom(&format!("/chi-tieu/{code}?period=2026S1"));
        let points = map_points(&html);
        assert_eq!(
            points.len(),
            96,
            "{code}: every commune, ward and special zone is a point"
        );
        assert_eq!(points, expected, "{code}: the colours are the engine's statuses");
        // Each status with points has its count in the legend.
        for status in ["dat", "chua_dat", "khong_ap_dung", "chua_co"] {
            let n = points.values().filter(|s| *s == status).count();
            if n > 0 {
                let at = html.find(&format!("data-legend=\"{status}\"")).unwrap();
                assert!(
                    html[at..].contains(&format!(": {n}</span>")),
                    "{code}: legend {status} {n}"
                );
            }
        }
        if code == "CDS-2" {
            // Wards have no rural population: not applicable, drawn grey; rural communes are judged;
            // the units whose returns are missing are marked.
            assert!(points.values().any(|s| s == "khong_ap_dung"));
            assert!(points.values().any(|s| s == "chua_co"));
            assert!(points.values().any(|s| s == "dat" || s == "chua_dat"));
        }
    }
}

#[test]
fn tables_filter_sort_group_and_download_what_the_page_shows() {
    let site = Site::new();
    // Submissions: only the missing returns, as many as the page's count says.
    let all = site.dom("/nop-bao-cao?period=2026S1");
    let missing = {
        let at = all.find("data-count=\"missing\">").unwrap() + "data-count=\"missing\">".len();
        all[at..all[at..].find('<').unwrap() + at].parse::<usize>().unwrap()
    };
    assert!(missing > 0, "the generator leaves some units out");
    let html = site.dom("/nop-bao-cao?period=2026S1&show=chua-gui");
    let rows = body_rows(&html);
    assert_eq!(rows.len(), missing.min(50));
    assert!(
        rows.iter().all(|r| r.starts_with(" class=\"missing\"")),
        "only missing rows"
    );
    // Late only: every row says so.
    let late = site.dom("/nop-bao-cao?period=2026S1&show=gui-muon");
    assert!(
        body_rows(&late).iter().all(|r| r.contains("Gửi muộn")),
        "only late rows"
    );
    assert!(!body_rows(&late).is_empty());
    // The CSV download of the filtered table: a BOM, the header and every missing return.
    let csv_href = attrs(&html, "href")
        .into_iter()
        .find(|h| h.contains("format=csv"))
        .unwrap()
        .to_owned();
    let (disposition, csv) = site.fetch(&csv_href);
    assert!(disposition.contains(".csv"), "{disposition}");
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "a UTF-8 byte-order mark for Excel");
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    assert_eq!(text.lines().count(), missing + 1, "{text}");
    assert!(text.lines().skip(1).all(|l| l.ends_with("Chưa gửi")), "{text}");
    assert!(text.starts_with("Mã,Đơn vị,Loại,Biểu"), "Vietnamese survives: {text}");

    // Indicators: below target only, as many as the engine says, in the XLSX too.
    let values = site.indicators("CDS-2");
    let below: Vec<&Json> = values
        .iter()
        .filter(|v| v["unit"] != "51" && v["status"] == "chua_dat")
        .collect();
    assert!(!below.is_empty());
    let html = site.dom("/chi-tieu/CDS-2?period=2026S1&show=chua-dat");
    let rows = body_rows(&html);
    assert_eq!(rows.len(), below.len().min(50));
    assert!(
        rows.iter().all(|r| cells(r)[7] == "Chưa đạt"),
        "only units below target"
    );
    let xlsx_href = attrs(&html, "href")
        .into_iter()
        .find(|h| h.contains("format=xlsx"))
        .unwrap()
        .to_owned();
    let (_, xlsx) = site.fetch(&xlsx_href);
    use calamine::Reader;
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(xlsx)).unwrap();
    let range = wb.worksheet_range("Bang").unwrap();
    // Title, blank, header, then one row per unit below target, the value as a number.
    assert_eq!(range.height(), 3 + below.len());
    let mut from_xlsx: Vec<f64> = (3..range.height())
        .map(|r| match range.get_value((r as u32, 3)) {
            Some(calamine::Data::Float(f)) => *f,
            other => panic!("a number, not {other:?}"),
        })
        .collect();
    let mut from_engine: Vec<f64> = below.iter().map(|v| v["value"].as_f64().unwrap()).collect();
    from_xlsx.sort_by(f64::total_cmp);
    from_engine.sort_by(f64::total_cmp);
    // The same numbers (to the last bits that JSON and the workbook's XML print differently).
    assert_eq!(from_xlsx.len(), from_engine.len());
    for (x, e) in from_xlsx.iter().zip(&from_engine) {
        assert!((x - e).abs() < 1e-9, "{x} against {e}");
    }

    // The default hides the units without data (wards for a rural indicator, departments); "all"
    // shows them.
    let with_data = values
        .iter()
        .filter(|v| v["unit"] != "51" && !v["value"].is_null())
        .count();
    let html = site.dom("/chi-tieu/CDS-2?period=2026S1");
    assert!(
        html.contains(&format!("trên {with_data}<")) || html.contains(&format!(">{with_data} dòng<")),
        "{with_data}"
    );
    let html = site.dom("/chi-tieu/CDS-2?period=2026S1&show=tat-ca");
    assert!(html.contains(&format!("trên {}<", values.len() - 1)), "every unit");

    // Sorted by value, lowest first: the page's values do not decrease.
    let html = site.dom("/chi-tieu/CDS-1?period=2026S1&sort=3");
    let shown: Vec<f64> = body_rows(&html)
        .iter()
        .map(|r| {
            cells(r)[3]
                .trim_end_matches(" %")
                .replace('.', "")
                .replace(',', ".")
                .parse::<f64>()
                .unwrap()
        })
        .collect();
    assert!(shown.len() > 3);
    assert!(shown.windows(2).all(|w| w[0] <= w[1]), "{shown:?}");
    assert!(html.contains("aria-sort=\"ascending\""));

    // Grouped by former district: headings name the districts abolished on 01/07/2025.
    let html = site.dom("/chi-tieu/CDS-3?period=2026S1&group=huyen-cu&show=dia-ban");
    let headings = html.matches("<tr class=\"group\">").count();
    assert!(headings > 3, "{headings} groups");
    assert!(
        html.contains("colgroup\">Huyện ")
            || html.contains("colgroup\">Thành phố ")
            || html.contains("colgroup\">Thị xã ")
    );
}

#[test]
fn a_figure_drills_down_to_the_returns_and_cells_that_make_it() {
    let site = Site::new();
    let values = site.indicators("CDS-3");
    let province = values.iter().find(|v| v["unit"] == "51").unwrap();
    let html = site.dom("/chi-tieu/CDS-3?period=2026S1");
    let drill = attrs(&html, "href")
        .into_iter()
        .find(|h| h.contains("/chi-tieu/CDS-3/nguon"))
        .expect("a link to the figure's sources")
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    let page = site.dom(&drill);
    assert!(page.contains(&format!(
        "data-total=\"numerator\">{}<",
        pbgdpl_catalog::text::group_vi(province["numerator"].as_i64().unwrap())
    )));
    // The first row: a unit's return with its version, day, sender and the cells.
    let first = cells(body_rows(&page)[0]);
    assert!(first[4].parse::<i64>().unwrap() >= 1, "a version: {first:?}");
    assert!(first[5].contains("/2026"), "the day received: {first:?}");
    assert!(first[6].starts_with("can-bo-"), "who sent it: {first:?}");
    // Every row of the download: the numerator's and denominator's cells sum to the province's.
    let csv_href = attrs(&page, "href")
        .into_iter()
        .find(|h| h.contains("format=csv"))
        .unwrap()
        .to_owned();
    let (_, csv) = site.fetch(&csv_href);
    let mut reader = csv::Reader::from_reader(&csv[3..]);
    let header = reader.headers().unwrap().clone();
    let (mut num, mut den) = (0i64, 0i64);
    let mut rows = 0;
    for rec in reader.records() {
        let rec = rec.unwrap();
        rows += 1;
        for (name, field) in header.iter().zip(rec.iter()) {
            let v: i64 = field.parse().unwrap_or(0);
            if name.starts_with("Tử số") {
                num += v;
            } else if name.starts_with("Mẫu số") {
                den += v;
            }
        }
    }
    assert!(rows > 50, "the download has every unit, not one page: {rows}");
    assert_eq!(num, province["numerator"].as_i64().unwrap(), "numerator");
    assert_eq!(den, province["denominator"].as_i64().unwrap(), "denominator");
    // A commune's figure drills to its own return only.
    let commune = values
        .iter()
        .find(|v| v["unit"] != "51" && !v["value"].is_null() && v["unit"].as_str().unwrap().len() == 5)
        .unwrap();
    let unit = commune["unit"].as_str().unwrap();
    let page = site.dom(&format!("/chi-tieu/CDS-3/nguon?period=2026S1&unit={unit}"));
    let rows = body_rows(&page);
    assert!(!rows.is_empty() && rows.iter().all(|r| r.contains(&format!("data-unit=\"{unit}\""))));
    // The numerator's cells come first after the seven columns of the return.
    let terms = bundled_catalog().indicator("CDS-3").unwrap().numerator.len();
    let sum: i64 = rows
        .iter()
        .map(|r| {
            cells(r)[7..7 + terms]
                .iter()
                .map(|t| if t == "—" { 0 } else { whole(t) })
                .sum::<i64>()
        })
        .sum();
    assert_eq!(sum, commune["numerator"].as_i64().unwrap(), "{unit}");
}

/// axe-core (npm, installed by scripts/test.sh) on a page's DOM with the stylesheet inlined: the
/// violations whose impact is serious or critical.
fn axe(dir: &Path, name: &str, dom: &str) -> Vec<String> {
    let script = std::env::var("PBGDPL_AXE").map(PathBuf::from).unwrap_or_else(|_| {
        PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/pbgdpl-npm/node_modules/axe-core/axe.min.js")
    });
    let axe = std::fs::read_to_string(&script)
        .unwrap_or_else(|e| panic!("{}: {e} (scripts/test.sh installs axe-core with npm)", script.display()));
    let css = std::fs::read_to_string(repo().join("dashboards/templates/pbgdpl.css")).unwrap();
    let page = dom
        .replace(
            "<link rel=\"stylesheet\" href=\"/static/pbgdpl.css\">",
            &format!("<style>{css}</style>"),
        )
        .replace(
            "</body>",
            &format!(
                "<script>{axe}</script><script>axe.run(document, {{resultTypes: ['violations']}}).then(function (r) {{\
                 var p = document.createElement('pre'); p.id = 'axe-result';\
                 p.textContent = JSON.stringify(r.violations.map(function (v) {{ return {{id: v.id, impact: v.impact, \
                 help: v.help, nodes: v.nodes.slice(0, 3).map(function (n) {{ return n.target.join(' '); }})}}; }}));\
                 document.body.appendChild(p); }});</script></body>"
            ),
        );
    let file = dir.join(format!("axe-{name}.html"));
    std::fs::write(&file, page).unwrap();
    let out = chromium(
        &dir.join(format!("axe-profile-{name}")),
        1366,
        &["--virtual-time-budget=30000", "--dump-dom"],
        &format!("file://{}", file.display()),
    );
    let html = String::from_utf8_lossy(&out.stdout);
    let at = html
        .find("<pre id=\"axe-result\">")
        .unwrap_or_else(|| panic!("{name}: axe did not run"));
    let json = &html[at + "<pre id=\"axe-result\">".len()..];
    let json = json[..json.find("</pre>").unwrap()]
        .replace("&quot;", "\"")
        .replace("&gt;", ">")
        .replace("&lt;", "<")
        .replace("&amp;", "&");
    let violations: Vec<Json> = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{name}: {e}: {json}"));
    violations
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .map(|v| format!("{name}: {} ({}) at {}", v["id"], v["help"], v["nodes"]))
        .collect()
}

#[test]
fn every_page_passes_axe_core_and_is_screenshotted_at_1366_and_390_px() {
    let site = Site::new();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let pages = [
        ("tong-quan", "/?period=2026S1"),
        ("chi-tieu", "/chi-tieu/CDS-1?period=2026S1"),
        ("so-lieu-goc", "/chi-tieu/CDS-1/nguon?period=2026S1&unit=51"),
        ("nop-bao-cao", "/nop-bao-cao?period=2026S1&show=chua-gui&group=loai"),
        ("don-vi", "/don-vi/21025?period=2026S1"),
        ("nop", "/nop?period=2026S1"),
        ("nhat-ky", "/quan-tri/nhat-ky"),
    ];
    let mut serious = Vec::new();
    for (name, path) in pages {
        let dom = site.dom(path);
        serious.extend(axe(&site.dir, name, &dom));
        for width in [1366, 390] {
            let shot = shots.join(format!("{name}-{width}.png"));
            let _ = std::fs::remove_file(&shot);
            chromium(
                &site.dir.join(format!("s-{name}-{width}")),
                width,
                &[&format!("--screenshot={}", shot.display())],
                &site.link(path),
            );
            assert!(
                std::fs::metadata(&shot).map(|m| m.len() > 10_000).unwrap_or(false),
                "{name} at {width} px: no screenshot"
            );
        }
    }
    // The login page, signed out.
    let login = chromium(
        &site.dir.join("login"),
        1366,
        &["--dump-dom"],
        &format!("{}/dang-nhap", site.server.base),
    );
    serious.extend(axe(&site.dir, "dang-nhap", &String::from_utf8_lossy(&login.stdout)));
    for width in [1366, 390] {
        let shot = shots.join(format!("dang-nhap-{width}.png"));
        chromium(
            &site.dir.join(format!("s-login-{width}")),
            width,
            &[&format!("--screenshot={}", shot.display())],
            &format!("{}/dang-nhap", site.server.base),
        );
        assert!(shot.exists());
    }
    assert!(serious.is_empty(), "axe-core: {serious:#?}");
}
