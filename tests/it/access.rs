//! Who may do what, route by route: every route of the web app and the API asked by each role (no one,
//! a leader, a ward's reporter, the Department's administrator), for the reporter's own unit and for
//! another, by the method it takes. The answers are pinned as one table: a cell that changes fails.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, header};
use pbgdpl_catalog::{Clock, Role};
use pbgdpl_ingest::pipeline;
use pbgdpl_store::{Actor, Store};
use tower::ServiceExt;

use crate::support::{memory_store, now, opts, sample_catalog, samples};

/// How a request authenticates.
#[derive(Clone)]
struct Who {
    role: &'static str,
    cookie: Option<String>,
    csrf: String,
    token: Option<String>,
}

struct App {
    router: axum::Router,
    people: Vec<Who>,
    rt: tokio::runtime::Runtime,
}

fn app() -> App {
    let cat = sample_catalog();
    let store = Arc::new(memory_store());
    let files = pipeline::collect_files(&[samples().join("returns")]).unwrap().files;
    pipeline::ingest_files(&cat, &*store, &files, &opts(), &mut |_, _| {}).unwrap();
    let mut people = vec![Who {
        role: "no one",
        cookie: None,
        csrf: String::new(),
        token: None,
    }];
    for (name, role, unit) in [
        ("leader", Role::Viewer, None),
        ("ward", Role::Reporter, Some("99001")),
        ("admin", Role::Admin, None),
    ] {
        let token = store.add_user(name, role, unit, &Actor::cli(now())).unwrap();
        let (session, csrf) = store.create_session(name, now(), 8).unwrap();
        people.push(Who {
            role: role.id(),
            cookie: Some(format!("pbgdpl_session={session}")),
            csrf,
            token: Some(token),
        });
    }
    let config = pbgdpl_dashboards::Config {
        clock: Clock::fixed(now()),
        ..pbgdpl_dashboards::Config::default()
    };
    let state = pbgdpl_dashboards::AppState::new(cat, store as Arc<dyn Store>, config).unwrap();
    App {
        router: pbgdpl_dashboards::app(state),
        people,
        rt: tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap(),
    }
}

/// One request of the table.
enum Payload {
    None,
    Form(&'static str),
    Json(String),
    Upload(&'static str),
}

fn multipart(file: &str) -> (String, Vec<u8>) {
    let boundary = "pbgdpl-matrix";
    let mut body = Vec::new();
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
    body.extend(std::fs::read(samples().join("returns").join(file)).unwrap());
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl App {
    fn status(&self, who: &Who, method: &str, path: &str, body: &Payload, api: bool) -> u16 {
        let mut req = Request::builder().method(method).uri(path);
        if api {
            if let Some(t) = &who.token {
                req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
            }
        } else if let Some(c) = &who.cookie {
            req = req.header(header::COOKIE, c);
        }
        let req = match body {
            Payload::None => req.body(Body::empty()),
            Payload::Form(fields) => req
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("csrf={}&{fields}", who.csrf))),
            Payload::Json(j) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(j.clone())),
            Payload::Upload(file) => {
                let (ct, bytes) = multipart(file);
                req.header(header::CONTENT_TYPE, ct).body(Body::from(bytes))
            }
        }
        .unwrap();
        self.rt
            .block_on(self.router.clone().oneshot(req))
            .unwrap()
            .status()
            .as_u16()
    }
}

fn f01(unit: &str) -> String {
    format!(
        r#"{{"form": "F01", "unit": "{unit}", "period": "2026S1", "values": [{{"row": "03", "column": 1, "value": 10}}]}}"#
    )
}

#[test]
fn the_access_matrix_of_every_route() {
    let app = app();
    let routes: Vec<(&str, String, Payload, bool)> = vec![
        ("GET", "/?period=2026S1".into(), Payload::None, false),
        ("GET", "/?period=2026S1&unit=99002".into(), Payload::None, false),
        ("GET", "/chi-tieu/CDS-1?period=2026S1".into(), Payload::None, false),
        (
            "GET",
            "/chi-tieu/CDS-1?period=2026S1&unit=99002".into(),
            Payload::None,
            false,
        ),
        ("GET", "/nop-bao-cao?period=2026S1".into(), Payload::None, false),
        ("GET", "/don-vi/99001?period=2026S1".into(), Payload::None, false),
        ("GET", "/don-vi/99002?period=2026S1".into(), Payload::None, false),
        ("GET", "/bao-cao?period=2026S1".into(), Payload::None, false),
        ("GET", "/nop?period=2026S1".into(), Payload::None, false),
        (
            "GET",
            "/nop/mau?period=2026S1&unit=99001&form=F01".into(),
            Payload::None,
            false,
        ),
        (
            "GET",
            "/nop/mau?period=2026S1&unit=99002&form=F01".into(),
            Payload::None,
            false,
        ),
        ("POST", "/ky/2026S1/khoa".into(), Payload::Form("unit=99"), false),
        ("POST", "/ky/2026S1/mo-khoa".into(), Payload::Form("unit=99"), false),
        ("GET", "/quan-tri/nhat-ky".into(), Payload::None, false),
        ("GET", "/api/v1/indicators?period=2026S1".into(), Payload::None, true),
        (
            "GET",
            "/api/v1/indicators?period=2026S1&unit=99001".into(),
            Payload::None,
            true,
        ),
        (
            "GET",
            "/api/v1/indicators?period=2026S1&unit=99002".into(),
            Payload::None,
            true,
        ),
        ("GET", "/api/v1/returns?period=2026S1".into(), Payload::None, true),
        (
            "POST",
            "/api/v1/returns?dry_run=true".into(),
            Payload::Json(f01("99001")),
            true,
        ),
        (
            "POST",
            "/api/v1/returns?dry_run=true".into(),
            Payload::Json(f01("99002")),
            true,
        ),
        (
            "POST",
            "/api/v1/returns/upload?dry_run=true".into(),
            Payload::Upload("99001_2026S1.xlsx"),
            true,
        ),
        (
            "POST",
            "/api/v1/returns/upload?dry_run=true".into(),
            Payload::Upload("99002_2026S1.xls"),
            true,
        ),
        ("GET", "/api/v1/openapi.json".into(), Payload::None, true),
    ];
    let mut table = format!(
        "{:<6} {:<52} {}\n",
        "",
        "route (reporter's unit 99001; another unit 99002)",
        app.people.iter().map(|w| format!("{:>8}", w.role)).collect::<String>()
    );
    for (method, path, body, api) in &routes {
        let cells: String = app
            .people
            .iter()
            .map(|who| format!("{:>8}", app.status(who, method, path, body, *api)))
            .collect();
        table.push_str(&format!("{method:<6} {path:<52} {cells}\n"));
    }
    insta::assert_snapshot!("access_matrix", table);
}

#[test]
fn a_reporter_reads_its_unit_and_the_province_never_a_siblings_figures() {
    let app = app();
    let reporter = app.people.iter().find(|w| w.role == "reporter").unwrap();
    let req = Request::get("/api/v1/indicators?period=2026S1")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", reporter.token.as_deref().unwrap()),
        )
        .body(Body::empty())
        .unwrap();
    let res = app.rt.block_on(app.router.clone().oneshot(req)).unwrap();
    let bytes = app
        .rt
        .block_on(axum::body::to_bytes(res.into_body(), usize::MAX))
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let units: std::collections::BTreeSet<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["unit"].as_str().unwrap())
        .collect();
    assert_eq!(units.into_iter().collect::<Vec<_>>(), ["99", "99001"]);
}
