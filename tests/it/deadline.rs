//! Deadline day over loopback: 200 simultaneous submissions (same and different units, JSON and
//! workbooks) all accepted with gapless versions while reads go on — on one server over SQLite and
//! on two servers over one PostgreSQL database; a return accepted by one of those servers in the
//! other's figures at once; a store held by another writer answered with 503 and `Retry-After`,
//! never a validation error; SIGTERM lets a request in flight finish.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};

use pbgdpl_catalog::Period;
use pbgdpl_store::Store;
use serde_json::{Value as Json, json};

use crate::support::{Server, call, multipart, sample_catalog, user};

/// An F01 return of a ward whose reached count is `reached` (every submission distinct).
pub(crate) fn f01(unit: &str, reached: i64) -> Json {
    json!({"form": "F01", "unit": unit, "period": "2026S1", "values": [
        {"row": "01", "column": 1, "value": 100_000},
        {"row": "02", "column": 1, "value": reached},
        {"row": "03", "column": 1, "value": 10}, {"row": "04", "column": 1, "value": 9}
    ]})
}

/// One generated workbook (F01 and F02) per unit of the sample province, on disk.
pub(crate) fn workbooks(dir: &std::path::Path, seed: u64) -> Vec<(String, PathBuf)> {
    let cat = sample_catalog();
    let period = Period::parse("2026S1").unwrap();
    let mut generated = pbgdpl_fixtures::generate::generate(&cat, &period, seed, 0.0);
    generated.retain(|r| r.unit.starts_with("990"));
    for r in &mut generated {
        r.forms.retain(|(f, _)| f == "F01" || f == "F02");
    }
    let files = pbgdpl_fixtures::generate::write_workbooks(&cat, &period, &generated, dir).unwrap();
    generated.into_iter().map(|r| r.unit).zip(files).collect()
}

#[test]
fn two_hundred_simultaneous_submissions_are_all_accepted_in_order() {
    let dir = tempfile::tempdir().unwrap();
    deadline_burst(&dir.path().join("store"), 1, dir.path());
}

/// The same burst spread over two servers on one PostgreSQL database.
#[test]
fn two_servers_on_postgres_accept_two_hundred_simultaneous_submissions_in_order() {
    let Some(url) = pbgdpl_store::testing::fresh_store_url("deadline") else {
        eprintln!("skipped: {} is not set", pbgdpl_store::testing::ENV);
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    deadline_burst(Path::new(&url), 2, dir.path());
}

/// 200 submissions and 10 reads released at one instant, spread over `servers` servers of `store`.
fn deadline_burst(store: &Path, servers: usize, dir: &Path) {
    let store = store.to_path_buf();
    let admin = user(&store, "admin", "admin", None);
    let reporters: Vec<(String, String)> = (1..=12)
        .map(|i| {
            let unit = format!("990{i:02}");
            (unit.clone(), user(&store, &format!("r{i}"), "reporter", Some(&unit)))
        })
        .collect();
    let files = workbooks(&dir.join("wb"), 3);
    let running: Vec<Server> = (0..servers).map(|_| Server::start(&store)).collect();
    let bases: Vec<String> = running.iter().map(|s| s.base.clone()).collect();
    let base_of = |i: usize| bases[i % bases.len()].clone();
    // 140 JSON returns from 12 units (each a new content: a new version), 60 workbook uploads (30
    // units, each file twice: the second is a new version or an identical re-submission).
    let mut jobs: Vec<Box<dyn FnOnce() -> (u16, Json) + Send>> = Vec::new();
    for i in 0..140 {
        let (unit, token) = reporters[i % reporters.len()].clone();
        let url = format!("{}/api/v1/returns", base_of(i));
        jobs.push(Box::new(move || {
            call(ureq::post(&url), Some(&token), Some(&f01(&unit, 1_000 + i as i64)))
        }));
    }
    for i in 0..60 {
        let (_, path) = files[i % files.len()].clone();
        let (url, token) = (format!("{}/api/v1/returns/upload", base_of(i)), admin.clone());
        jobs.push(Box::new(move || multipart(&url, &token, &path, &[])));
    }
    // Ten reads go out with the writes, released at the same instant: they must be answered too.
    let reads = 10;
    for i in 0..reads {
        let (url, token) = (format!("{}/api/v1/indicators?period=2026S1", base_of(i)), admin.clone());
        jobs.push(Box::new(move || call(ureq::get(&url), Some(&token), None)));
    }
    let barrier = Arc::new(Barrier::new(jobs.len()));
    let threads: Vec<_> = jobs
        .into_iter()
        .enumerate()
        .map(|(i, job)| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                (i, job())
            })
        })
        .collect();
    let mut results: Vec<(usize, (u16, Json))> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    results.sort_by_key(|(i, _)| *i);
    let (writes, read_answers) = results.split_at(200);
    let refused: Vec<_> = writes.iter().filter(|(_, (code, _))| *code != 200).collect();
    let answered_reads = read_answers
        .iter()
        .filter(|(_, (code, body))| *code == 200 && body.is_array())
        .count();
    eprintln!(
        "deadline: {} submissions, {} accepted, {} refused; {answered_reads} of {reads} reads during the burst answered",
        writes.len(),
        writes.len() - refused.len(),
        refused.len(),
    );
    assert!(refused.is_empty(), "refused: {refused:#?}");
    assert_eq!(answered_reads, reads);
    let results: Vec<(u16, Json)> = writes.iter().map(|(_, r)| r.clone()).collect();
    // Each JSON answer has a version of its own; the versions of a return run 1, 2, … without a gap.
    let mut answered: BTreeMap<(String, String), BTreeSet<i64>> = BTreeMap::new();
    for (_, summary) in &results {
        for r in summary["returns"].as_array().unwrap() {
            let key = (
                r["unit"].as_str().unwrap().to_owned(),
                r["form"].as_str().unwrap().to_owned(),
            );
            if r["status"] == "accepted" {
                assert!(
                    answered.entry(key).or_default().insert(r["version"].as_i64().unwrap()),
                    "a version given twice: {r}"
                );
            }
        }
    }
    drop(running);
    let store = pbgdpl_store::open(&store).unwrap();
    let mut stored: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
    for r in store.returns(Some("2026S1")).unwrap() {
        stored.entry((r.unit, r.form)).or_default().push(r.version);
    }
    for (key, versions) in &stored {
        let want: Vec<i64> = (1..=versions.len() as i64).collect();
        assert_eq!(versions, &want, "{key:?}");
        assert_eq!(
            answered
                .get(key)
                .map(|v| v.iter().copied().collect::<Vec<_>>())
                .as_ref(),
            Some(versions),
            "{key:?}: every stored version was answered, and every answer is stored"
        );
    }
    let json_versions: usize = stored
        .iter()
        .filter(|((u, f), _)| f == "F01" && reporters.iter().any(|(r, _)| r == u))
        .map(|(_, v)| v.len())
        .sum();
    assert!(
        json_versions >= 140,
        "140 distinct JSON returns, {json_versions} versions"
    );
}

#[test]
fn a_store_held_by_another_writer_answers_503_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let admin = user(&store, "admin", "admin", None);
    let server = Server::start(&store);
    let url = format!("{}/api/v1/returns", server.base);
    // Another process's writer holds the lock for longer than the server waits.
    let holder = rusqlite::Connection::open(store.join(pbgdpl_store::FILE_NAME)).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = std::time::Instant::now();
    let res = ureq::post(&url)
        .set("Authorization", &format!("Bearer {admin}"))
        .send_json(f01("99001", 700));
    let waited = started.elapsed();
    let resp = match res {
        Err(ureq::Error::Status(_, r)) => r,
        other => panic!("expected an error status, got {other:?}"),
    };
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.header("retry-after"), Some("5"));
    let body = resp.into_string().unwrap();
    assert!(
        !body.contains("\"returns\""),
        "no import summary, no validation error: {body}"
    );
    assert!(
        waited >= std::time::Duration::from_secs(4),
        "it waited for the lock: {waited:?}"
    );
    holder.execute_batch("ROLLBACK").unwrap();
    let (code, summary) = call(ureq::post(&url), Some(&admin), Some(&f01("99001", 700)));
    assert_eq!(code, 200, "{summary}");
    assert_eq!(summary["returns"][0]["version"], 1);
}

#[test]
fn sigterm_lets_a_request_in_flight_finish_then_the_server_exits() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let admin = user(&store, "admin", "admin", None);
    let mut server = Server::start(&store);
    let addr = server.base.trim_start_matches("http://").to_owned();
    let body = f01("99002", 321).to_string();
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        conn,
        "POST /api/v1/returns HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {admin}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    let (head, tail) = body.split_at(body.len() / 2);
    conn.write_all(head.as_bytes()).unwrap();
    conn.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    // The request is in flight (half its body sent) when the stop signal comes.
    let stopper = {
        let pid = server.pid();
        std::thread::spawn(move || {
            std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .unwrap()
        })
    };
    assert!(stopper.join().unwrap().success());
    std::thread::sleep(std::time::Duration::from_millis(300));
    conn.write_all(tail.as_bytes()).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let status = server.wait();
    assert!(status.success(), "a graceful exit: {status}");
    let store = pbgdpl_store::SqliteStore::open(&store).unwrap();
    let stored = store.latest_values(Some("2026S1")).unwrap();
    assert!(
        stored
            .iter()
            .any(|v| v.unit == "99002" && v.value.as_i64() == Some(321))
    );
}

/// Two servers on one PostgreSQL database: a return accepted by one is in the other's figures and
/// listings on its next request (each request compares the store's generation; how long that
/// recomputation takes is the benchmark's business, printed here for the record).
#[test]
fn a_return_accepted_by_one_server_is_in_the_others_figures_on_its_next_request() {
    let Some(url) = pbgdpl_store::testing::fresh_store_url("fresh") else {
        eprintln!("skipped: {} is not set", pbgdpl_store::testing::ENV);
        return;
    };
    let store = PathBuf::from(&url);
    let reporter = user(&store, "an", "reporter", Some("99001"));
    let viewer = user(&store, "lan", "viewer", None);
    let (a, b) = (Server::start(&store), Server::start(&store));
    let figures = |reached: i64| -> (u16, Json) {
        let (code, body) = call(
            ureq::post(&format!("{}/api/v1/returns", a.base)),
            Some(&reporter),
            Some(&f01("99001", reached)),
        );
        assert_eq!(code, 200, "{body}");
        let start = std::time::Instant::now();
        let answer = call(
            ureq::get(&format!("{}/api/v1/indicators?period=2026S1&unit=99001", b.base)),
            Some(&viewer),
            None,
        );
        eprintln!(
            "freshness: server b answered {:?} after server a accepted",
            start.elapsed()
        );
        answer
    };
    let cds1 = |body: &Json| -> f64 {
        body.as_array()
            .unwrap()
            .iter()
            .find(|v| v["indicator"] == "CDS-1" && v["unit"] == "99001")
            .map(|v| v["numerator"].as_f64().unwrap_or(f64::NAN))
            .unwrap_or(f64::NAN)
    };
    let (code, first) = figures(40_000);
    assert_eq!(code, 200);
    // An urban ward that filled only the totals: CDS-1's numerator is its reached count.
    assert_eq!(cds1(&first), 40_000.0);
    let (_, second) = figures(45_000);
    assert_eq!(cds1(&second), 45_000.0, "b computed with a's second return");
    let (_, listed) = call(
        ureq::get(&format!("{}/api/v1/returns?period=2026S1", b.base)),
        Some(&viewer),
        None,
    );
    let versions: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["unit"] == "99001")
        .map(|r| r["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2]);
}
