//! Shared helpers: catalogs, stores and engines built from plain data.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use pbgdpl_catalog::model::{ReturnRecord, StoredValue, Value};
use pbgdpl_catalog::{Catalog, PeriodSpec};
use pbgdpl_engine::{Engine, IndicatorValue, Snapshot};
use pbgdpl_ingest::pipeline::Options;
use pbgdpl_store::{SqliteStore, Store};
use serde_json::Value as Json;

/// The day every test runs on, whatever the real date: after the 2026S1 deadline (06/06/2026) and
/// after every completion date the generator writes for 2026 (up to 20/11). Commands and servers
/// started by the tests get it through `PBGDPL_NOW`; library calls through [`opts`] and [`now`].
pub(crate) const TEST_NOW: &str = "2026-11-28T10:00:00+07:00";

pub(crate) fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(TEST_NOW).unwrap().with_timezone(&Utc)
}

/// Ingest options at the test clock.
pub(crate) fn opts() -> Options {
    Options::received(now())
}

pub(crate) fn memory_store() -> SqliteStore {
    SqliteStore::in_memory().unwrap()
}

/// An engine over everything a store holds.
pub(crate) fn engine_of(catalog: &Arc<Catalog>, store: &dyn Store) -> Engine {
    let snapshot = Snapshot {
        values: store.latest_values(None).unwrap(),
        returns: store.returns(None).unwrap(),
    };
    Engine::new(catalog.clone(), snapshot).unwrap()
}

pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn samples() -> PathBuf {
    repo().join("fixtures/samples/province99")
}

/// The bundled catalog with another unit list (as `--units` does).
/// The bundled catalog over another unit list. The test lists are of a sample province, code 99,
/// that carries out Quảng Ngãi's plan 137/KH-UBND: a copy of the plan for province 99 is added, so
/// that targets and the task form apply to it as they do to Quảng Ngãi.
pub(crate) fn catalog_with_units(name: &str, csv: &str) -> Arc<Catalog> {
    let mut src = pbgdpl_fixtures::catalog::bundled_source().with_units(name, csv.to_owned());
    let plan = src.files["plans/137-KH-UBND-2025.toml"].replace("province = \"51\"", "province = \"99\"");
    src.files.insert("plans/sample-99.toml".into(), plan);
    Arc::new(Catalog::from_source(&src).expect("catalog loads"))
}

/// The catalog of [`sample_catalog`] as a folder for `--catalog`: the bundled files, the sample unit
/// list and the sample province's copy of plan 137/KH-UBND.
pub(crate) fn sample_catalog_dir(dir: &Path) -> PathBuf {
    let mut files = pbgdpl_fixtures::catalog::bundled_source().files;
    files.insert(
        "units.csv".into(),
        std::fs::read_to_string(samples().join("units.csv")).unwrap(),
    );
    let plan = files["plans/137-KH-UBND-2025.toml"].replace("province = \"51\"", "province = \"99\"");
    files.insert("plans/sample-99.toml".into(), plan);
    let root = dir.join("catalog");
    for (name, text) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    root
}

pub(crate) fn sample_catalog() -> Arc<Catalog> {
    let path = samples().join("units.csv");
    catalog_with_units("units.csv", &std::fs::read_to_string(path).unwrap())
}

/// One stored cell: (unit, form, period, row, column, value).
pub(crate) type Cell<'a> = (&'a str, &'a str, &'a str, &'a str, u32, i64);

/// The cells as stored values (version 1).
pub(crate) fn stored_values(cells: &[Cell<'_>]) -> Vec<StoredValue> {
    cells
        .iter()
        .map(|(unit, form, period, row, column, value)| StoredValue {
            unit: (*unit).into(),
            form: (*form).into(),
            period: (*period).into(),
            row: (*row).into(),
            column: *column,
            value: Value::Int(*value),
            version: 1,
        })
        .collect()
}

/// An engine over the given cells, each (unit, form, period) a stored return received on `received`.
pub(crate) fn engine_over(catalog: &Arc<Catalog>, cells: &[Cell<'_>], received: &[(&str, &str, &str, &str)]) -> Engine {
    engine_over_values(catalog, stored_values(cells), received)
}

/// [`engine_over`] with stored values of any type (the task form's text).
pub(crate) fn engine_over_values(
    catalog: &Arc<Catalog>,
    values: Vec<StoredValue>,
    received: &[(&str, &str, &str, &str)],
) -> Engine {
    let returns: Vec<ReturnRecord> = received
        .iter()
        .enumerate()
        .map(|(i, (unit, form, period, at))| ReturnRecord {
            id: i as i64,
            unit: (*unit).into(),
            form: (*form).into(),
            period: (*period).into(),
            version: 1,
            received_at: format!("{at}T03:00:00+00:00"),
            submitted_by: None,
            source: "file".into(),
            file_name: None,
            file_sha256: None,
        })
        .collect();
    Engine::new(catalog.clone(), Snapshot { values, returns }).unwrap()
}

pub(crate) fn compute(engine: &Engine, period: &str, unit: &str) -> Vec<IndicatorValue> {
    compute_in(engine, period, unit, pbgdpl_engine::View::Present)
}

/// [`compute`] in a chosen view of time.
pub(crate) fn compute_in(engine: &Engine, period: &str, unit: &str, view: pbgdpl_engine::View) -> Vec<IndicatorValue> {
    block_on(engine.indicators_in(&PeriodSpec::parse(period).unwrap(), unit, view)).unwrap()
}

/// Runs a future to completion on a fresh single-threaded runtime.
pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// The bundled catalog as shipped: today's Quảng Ngãi with its history (old Quảng Ngãi, Kon Tum).
pub(crate) fn bundled_catalog() -> Arc<Catalog> {
    Arc::new(Catalog::from_source(&pbgdpl_fixtures::catalog::bundled_source()).expect("catalog loads"))
}

/// The bundled catalog over the whole country's units (`fixtures/national/units.csv`).
pub(crate) fn national_catalog() -> Arc<Catalog> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/national/units.csv");
    let src = pbgdpl_fixtures::catalog::bundled_source().with_units(
        "national/units.csv",
        std::fs::read_to_string(path).expect("national units"),
    );
    Arc::new(Catalog::from_source(&src).expect("national catalog loads"))
}

pub(crate) fn find<'a>(values: &'a [IndicatorValue], indicator: &str, unit: &str) -> &'a IndicatorValue {
    values
        .iter()
        .find(|v| v.indicator == indicator && v.unit == unit)
        .unwrap_or_else(|| panic!("no {indicator} for {unit}"))
}

pub(crate) fn assert_close(got: Option<f64>, want: f64, what: &str) {
    let got = got.unwrap_or_else(|| panic!("{what}: no value"));
    assert!((got - want).abs() < 1e-9, "{what}: got {got}, want {want}");
}

pub(crate) fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pbgdpl"))
}

pub(crate) fn run(args: &[&str], cwd: &Path) -> std::process::Output {
    std::process::Command::new(bin())
        .args(args)
        .current_dir(cwd)
        .env(pbgdpl_catalog::CLOCK_ENV, TEST_NOW)
        .output()
        .expect("pbgdpl runs")
}

pub(crate) fn user(store: &Path, name: &str, role: &str, unit: Option<&str>) -> String {
    let units = samples().join("units.csv").display().to_string();
    let store = store.display().to_string();
    let mut args = vec![
        "--store", &store, "--units", &units, "user", "add", name, "--role", role,
    ];
    if let Some(u) = unit {
        args.extend(["--unit", u]);
    }
    let out = run(&args, Path::new("."));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

pub(crate) fn set_password(store: &Path, name: &str, password: &str) {
    use std::io::Write;
    let units = samples().join("units.csv");
    let mut child = Command::new(bin())
        .args([
            "--store",
            &store.display().to_string(),
            "--units",
            &units.display().to_string(),
            "user",
            "passwd",
            name,
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    assert!(child.wait().unwrap().success());
}

/// The CSRF token of the first form of a page.
pub(crate) fn csrf_of(html: &str) -> String {
    let field = "name=\"csrf\" value=\"";
    let at = html.find(field).unwrap_or_else(|| panic!("no CSRF field in {html}")) + field.len();
    html[at..].split('"').next().unwrap().to_owned()
}

pub(crate) fn call(req: ureq::Request, token: Option<&str>, body: Option<&Json>) -> (u16, Json) {
    let req = match token {
        Some(t) => req.set("Authorization", &format!("Bearer {t}")),
        None => req,
    };
    let res = match body {
        Some(b) => req.send_json(b.clone()),
        None => req.call(),
    };
    let resp = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    let status = resp.status();
    let text = resp.into_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Json::String(text)))
}

pub(crate) fn multipart(url: &str, token: &str, file: &Path, fields: &[(&str, &str)]) -> (u16, Json) {
    let (status, text) = multipart_with(url, ("Authorization", &format!("Bearer {token}")), file, fields);
    (status, serde_json::from_str(&text).unwrap_or(Json::Null))
}

/// A multipart upload with one extra header (a token or a session cookie); the status and the body.
pub(crate) fn multipart_with(url: &str, auth: (&str, &str), file: &Path, fields: &[(&str, &str)]) -> (u16, String) {
    let boundary = "pbgdpl-test-boundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    let name = file.file_name().unwrap().to_string_lossy();
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
    body.extend(std::fs::read(file).unwrap());
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let res = ureq::post(url)
        .set(auth.0, auth.1)
        .set("Content-Type", &format!("multipart/form-data; boundary={boundary}"))
        .send_bytes(&body);
    let resp = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        // No answer at all (the server is gone): status 0.
        Err(e) => return (0, e.to_string()),
    };
    let status = resp.status();
    (status, resp.into_string().unwrap_or_default())
}

/// Text as an HTML form posts it (`application/x-www-form-urlencoded`).
pub(crate) fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A browser session for a user of the store in `dir`: (the `Cookie` header, the CSRF token).
pub(crate) fn session_cookie(dir: &Path, name: &str) -> (String, String) {
    let store = SqliteStore::open(dir).unwrap();
    let (token, csrf) = store.create_session(name, now(), 8).unwrap();
    (format!("pbgdpl_session={token}"), csrf)
}

/// A `pbgdpl serve` of the sample province on a free loopback port, stopped when dropped.
pub(crate) struct Server {
    child: std::process::Child,
    pub(crate) base: String,
}

impl Server {
    pub(crate) fn start(store: &Path) -> Server {
        Server::start_with(store, &samples().join("units.csv"))
    }

    /// A server of the province in `units` (a unit list CSV).
    pub(crate) fn start_with(store: &Path, units: &Path) -> Server {
        use std::io::BufRead;
        let mut child = Command::new(bin())
            .args([
                "--store",
                &store.display().to_string(),
                "--units",
                &units.display().to_string(),
                "serve",
                "--addr",
                "127.0.0.1:0",
            ])
            .env(pbgdpl_catalog::CLOCK_ENV, TEST_NOW)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line.trim().rsplit(' ').next().unwrap().trim_end_matches('/').to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "{line}");
        Server { child, base }
    }

    /// Kills the server at once (SIGKILL): no chance to finish anything.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the server to exit (after a signal sent to [`Server::pid`]).
    pub(crate) fn wait(&mut self) -> std::process::ExitStatus {
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A workbook's sheets as text for snapshots: each sheet's name, its merged ranges, then every
/// non-empty cell as `A1 = value` (numbers as read back, so formats are not in it — the values are).
pub(crate) fn xlsx_dump(bytes: &[u8], sheets: &[&str]) -> String {
    use calamine::Reader;
    fn a1(row: u32, col: u32) -> String {
        let mut name = String::new();
        let mut c = col + 1;
        while c > 0 {
            name.insert(0, (b'A' + ((c - 1) % 26) as u8) as char);
            c = (c - 1) / 26;
        }
        format!("{name}{}", row + 1)
    }
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = String::new();
    for sheet in sheets {
        out.push_str(&format!("## {sheet}\n"));
        let merged = wb.merge_cells_by_sheet_name(sheet).unwrap();
        let ranges: Vec<String> = merged
            .iter()
            .map(|d| format!("{}:{}", a1(d.start.0, d.start.1), a1(d.end.0, d.end.1)))
            .collect();
        out.push_str(&format!("merged: {}\n", ranges.join(" ")));
        let range = wb.worksheet_range(sheet).unwrap();
        for (r, c, v) in range.used_cells() {
            let (r0, c0) = range.start().unwrap_or((0, 0));
            out.push_str(&format!("{} = {v}\n", a1(r0 + r as u32, c0 + c as u32)));
        }
    }
    out
}
