//! Crashes at random moments: the server killed (SIGKILL) while clients submit JSON returns and
//! workbooks, and a bulk `ingest` killed mid-way. After each kill the store passes SQLite's integrity
//! check, every acknowledged return is stored whole, and no return is stored in part.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pbgdpl_catalog::model::Value;
use pbgdpl_fixtures::generate::Rng;
use pbgdpl_store::{SqliteStore, Store};
use serde_json::Value as Json;

use crate::deadline::{f01, workbooks};
use crate::support::{Server, bin, multipart, samples, user};

/// A return's cells: (row, column) → value.
type Cells = BTreeMap<(String, u32), i64>;

/// An acknowledged return version: (unit, form, version, what was sent).
type Acked = (String, String, i64, Cells);

/// The cells of every stored version: (unit, form, period, version) → cells.
fn stored_versions(store: &SqliteStore) -> BTreeMap<(String, String, String, i64), Cells> {
    // Every version, not only the latest: read each one's values through a fresh look at the file.
    let conn = rusqlite::Connection::open(store.path().unwrap()).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT r.unit, r.form, r.period, r.version, v.row_code, v.col, v.num FROM returns r
             LEFT JOIN cell_values v ON v.return_id = r.id",
        )
        .unwrap();
    let mut out: BTreeMap<(String, String, String, i64), Cells> = BTreeMap::new();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                (
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ),
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<u32>>(5)?,
                r.get::<_, Option<i64>>(6)?,
            ))
        })
        .unwrap();
    for row in rows {
        let (key, code, col, num) = row.unwrap();
        let cells = out.entry(key).or_default();
        if let (Some(code), Some(col), Some(num)) = (code, col, num) {
            cells.insert((code, col), num);
        }
    }
    out
}

fn json_cells(ret: &Json) -> Cells {
    ret["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                (
                    v["row"].as_str().unwrap().to_owned(),
                    v["column"].as_u64().unwrap() as u32,
                ),
                v["value"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[derive(Default, Debug)]
struct Tally {
    acknowledged: usize,
    stored_whole: usize,
    partial: usize,
    lost: usize,
    refused: usize,
}

fn check_integrity(store: &SqliteStore) {
    let problems = store.integrity_check().unwrap();
    assert!(problems.is_empty(), "integrity_check: {problems:?}");
}

#[test]
fn killing_the_server_while_units_submit_loses_nothing_acknowledged_and_stores_nothing_in_part() {
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("store");
    let admin = user(&store_dir, "admin", "admin", None);
    let files = workbooks(&dir.path().join("wb"), 5);
    // What each workbook holds, by unit: the F01 cells of its sheet.
    let cat = crate::support::sample_catalog();
    let wb_cells: BTreeMap<String, Cells> = files
        .iter()
        .map(|(unit, path)| {
            let bytes = std::fs::read(path).unwrap();
            let pbgdpl_ingest::read::WorkbookOutcome::Returns(rs) =
                pbgdpl_ingest::read::read_workbook(&cat, "x", &bytes, &Default::default())
            else {
                panic!("{unit}: not read")
            };
            let f01 = rs.iter().find(|(d, _)| d.form.as_deref() == Some("F01")).unwrap();
            let cells = f01
                .0
                .values
                .iter()
                .filter_map(|v| v.value.as_i64().map(|n| ((v.row.clone(), v.column), n)))
                .collect();
            (unit.clone(), cells)
        })
        .collect();
    let mut rng = Rng::new(
        std::env::var("PBGDPL_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(7),
    );
    let mut tally = Tally::default();
    // Every content ever sent for (unit, form), and the acknowledged versions with their content.
    let sent: Arc<Mutex<Vec<(String, Cells)>>> = Arc::default();
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let mut counter = 0i64;
    for round in 0..5 {
        let mut server = Server::start(&store_dir);
        let stop = Arc::new(AtomicBool::new(false));
        let mut clients = Vec::new();
        for c in 0..4 {
            let (stop, sent, acked, base, token) = (
                stop.clone(),
                sent.clone(),
                acked.clone(),
                server.base.clone(),
                admin.clone(),
            );
            let start = counter + c * 100_000;
            clients.push(std::thread::spawn(move || {
                let mut refused = 0;
                let mut i = start;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let unit = format!("990{:02}", 1 + (i % 6));
                    // Within the unit's population (100,000): a valid return, never refused.
                    let ret = f01(&unit, i % 99_000);
                    sent.lock().unwrap().push((unit.clone(), json_cells(&ret)));
                    match ureq::post(&format!("{base}/api/v1/returns"))
                        .set("Authorization", &format!("Bearer {token}"))
                        .timeout(Duration::from_secs(10))
                        .send_json(ret.clone())
                    {
                        Ok(r) => {
                            let s: Json = r.into_json().unwrap();
                            let v = s["returns"][0]["version"].as_i64().unwrap();
                            acked.lock().unwrap().push((unit, "F01".into(), v, json_cells(&ret)));
                        }
                        Err(ureq::Error::Status(_, _)) => refused += 1,
                        // The server died under the request: not acknowledged.
                        Err(_) => break,
                    }
                }
                refused
            }));
        }
        counter += 1_000_000;
        // Two clients upload workbooks over and over.
        for _ in 0..2 {
            let (stop, acked, base, token, files, wb_cells) = (
                stop.clone(),
                acked.clone(),
                server.base.clone(),
                admin.clone(),
                files.clone(),
                wb_cells.clone(),
            );
            clients.push(std::thread::spawn(move || {
                let mut refused = 0;
                for (unit, path) in files.iter().cycle() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let (code, summary) = multipart(&format!("{base}/api/v1/returns/upload"), &token, path, &[]);
                    match code {
                        200 => {
                            for r in summary["returns"].as_array().into_iter().flatten() {
                                if r["form"] == "F01" {
                                    let v = r["version"].as_i64().unwrap();
                                    acked
                                        .lock()
                                        .unwrap()
                                        .push((unit.clone(), "F01".into(), v, wb_cells[unit].clone()));
                                }
                            }
                        }
                        0 => break,
                        _ => refused += 1,
                    }
                }
                refused
            }));
        }
        std::thread::sleep(Duration::from_millis(200 + rng.range(0, 1200) as u64));
        server.kill();
        stop.store(true, Ordering::SeqCst);
        for c in clients {
            tally.refused += c.join().unwrap_or(0);
        }
        let store = SqliteStore::open(&store_dir).unwrap();
        check_integrity(&store);
        eprintln!(
            "crash: server round {round} killed with {} returns stored",
            store.returns(None).unwrap().len()
        );
    }
    for (unit, _) in &files {
        sent.lock().unwrap().push((unit.clone(), wb_cells[unit].clone()));
    }
    let store = SqliteStore::open(&store_dir).unwrap();
    let versions = stored_versions(&store);
    let acked = acked.lock().unwrap();
    tally.acknowledged = acked.len();
    for (unit, form, version, cells) in acked.iter() {
        match versions.get(&(unit.clone(), form.clone(), "2026S1".to_owned(), *version)) {
            Some(stored) if stored == cells => tally.stored_whole += 1,
            Some(_) => tally.partial += 1,
            None => tally.lost += 1,
        }
    }
    // Nothing stored in part: every stored version holds exactly a content that was sent.
    let sent = sent.lock().unwrap();
    let partial_stored = versions
        .iter()
        .filter(|((unit, form, _, _), cells)| form == "F01" && !sent.iter().any(|(u, c)| u == unit && c == *cells))
        .count();
    tally.partial += partial_stored;
    eprintln!("crash: server killed 5 times: {tally:?}");
    assert!(tally.acknowledged > 0, "the clients got answers before the kills");
    assert_eq!((tally.partial, tally.lost, tally.refused), (0, 0, 0), "{tally:?}");
    assert_eq!(tally.stored_whole, tally.acknowledged);
}

#[test]
fn killing_a_bulk_ingest_leaves_every_return_whole_or_absent() {
    let dir = tempfile::tempdir().unwrap();
    // Six periods of the sample province's F01 and F02: 180 workbooks, 360 distinct returns, stored a
    // chunk at a time while the rest are read.
    let folder = dir.path().join("bulk");
    let cat = crate::support::sample_catalog();
    let mut files = Vec::new();
    for period in ["2025S1", "2025P", "2025", "2026S1", "2026P", "2026"] {
        let period = pbgdpl_catalog::Period::parse(period).unwrap();
        let mut generated = pbgdpl_fixtures::generate::generate(&cat, &period, 9, 0.0);
        generated.retain(|r| r.unit.starts_with("990"));
        for r in &mut generated {
            r.forms.retain(|(f, _)| f == "F01" || f == "F02");
        }
        let written =
            pbgdpl_fixtures::generate::write_workbooks(&cat, &period, &generated, &folder.join(period.code())).unwrap();
        files.extend(written.into_iter().map(|f| (period.code(), f)));
    }
    let truth: BTreeMap<(String, String, String), Cells> = files
        .iter()
        .flat_map(|(period, path)| {
            let bytes = std::fs::read(path).unwrap();
            let pbgdpl_ingest::read::WorkbookOutcome::Returns(rs) =
                pbgdpl_ingest::read::read_workbook(&cat, "x", &bytes, &Default::default())
            else {
                panic!("not read")
            };
            rs.into_iter().map(move |(d, _)| {
                let cells: Cells = d
                    .values
                    .iter()
                    .filter_map(|v| match v.value {
                        Value::Int(n) => Some(((v.row.clone(), v.column), n)),
                        Value::Text(_) => None,
                    })
                    .collect();
                ((d.unit.unwrap(), d.form.unwrap(), period.clone()), cells)
            })
        })
        .collect();
    let mut rng = Rng::new(11);
    let units = samples().join("units.csv").display().to_string();
    for round in 0..4 {
        let store_dir = dir.path().join(format!("store-{round}"));
        let mut child = std::process::Command::new(bin())
            .args([
                "--store",
                &store_dir.display().to_string(),
                "--units",
                &units,
                "ingest",
                &folder.display().to_string(),
            ])
            .env(pbgdpl_catalog::CLOCK_ENV, crate::support::TEST_NOW)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(100 + rng.range(0, 900) as u64));
        let _ = child.kill();
        let status = child.wait().unwrap();
        if !store_dir.join(pbgdpl_store::FILE_NAME).exists() {
            eprintln!("crash: ingest round {round} killed before the store was created");
            continue;
        }
        let store = SqliteStore::open(&store_dir).unwrap();
        check_integrity(&store);
        let versions = stored_versions(&store);
        for ((unit, form, period, _), cells) in &versions {
            assert_eq!(
                truth.get(&(unit.clone(), form.clone(), period.clone())),
                Some(cells),
                "{unit} {form} {period} stored in part"
            );
        }
        eprintln!(
            "crash: ingest round {round} ({}): {} returns stored whole, 0 in part",
            if status.success() {
                "finished before the kill"
            } else {
                "killed"
            },
            versions.len()
        );
    }
}
