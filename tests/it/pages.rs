//! Every page's HTML, rendered by the app in process from a fixed store (the sample province's
//! returns, received on the test clock's day), pinned by snapshots. Tokens are redacted; everything
//! else — figures, labels, links, escaping — is in the snapshot.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use pbgdpl_catalog::{Clock, Role};
use pbgdpl_ingest::pipeline;
use pbgdpl_store::{Actor, Store};
use tower::ServiceExt;

use crate::support::{memory_store, now, opts, sample_catalog, samples};

struct App {
    router: axum::Router,
    cookie: String,
}

fn app(role: Role, unit: Option<&str>) -> App {
    let cat = sample_catalog();
    let store = Arc::new(memory_store());
    let files = pipeline::collect_files(&[samples().join("returns")]).unwrap().files;
    pipeline::ingest_files(&cat, &*store, &files, &opts(), &mut |_, _| {}).unwrap();
    store.add_user("lan", role, unit, &Actor::cli(now())).unwrap();
    let (token, _) = store.create_session("lan", now(), 8).unwrap();
    let config = pbgdpl_dashboards::Config {
        clock: Clock::fixed(now()),
        ..pbgdpl_dashboards::Config::default()
    };
    let state = pbgdpl_dashboards::AppState::new(cat, store as Arc<dyn Store>, config).unwrap();
    App {
        router: pbgdpl_dashboards::app(state),
        cookie: format!("pbgdpl_session={token}"),
    }
}

fn get(app: &App, path: &str) -> (StatusCode, String) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let req = Request::get(path)
            .header(header::COOKIE, &app.cookie)
            .body(Body::empty())
            .unwrap();
        let res = app.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    })
}

/// The page with its one-time tokens replaced, one element per line so that a diff reads.
fn redacted(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find("name=\"csrf\" value=\"") {
        let start = i + "name=\"csrf\" value=\"".len();
        out.push_str(&rest[..start]);
        out.push_str("[csrf]");
        rest = &rest[start..];
        rest = &rest[rest.find('"').unwrap_or(0)..];
    }
    out.push_str(rest);
    out.replace("><", ">\n<")
}

#[test]
fn every_page_of_a_viewer_is_pinned() {
    let app = app(Role::Viewer, None);
    for (name, path) in [
        ("overview", "/?period=2026S1"),
        ("indicator_cds1", "/chi-tieu/CDS-1?period=2026S1"),
        ("submissions", "/nop-bao-cao?period=2026S1"),
        ("unit_99001", "/don-vi/99001?period=2026S1"),
        ("sources_cds3", "/chi-tieu/CDS-3/nguon?period=2026S1&unit=99"),
        (
            "indicator_cds2_below_target",
            "/chi-tieu/CDS-2?period=2026S1&show=chua-dat&sort=3",
        ),
    ] {
        let (status, html) = get(&app, path);
        assert_eq!(status, StatusCode::OK, "{name}: {html}");
        insta::assert_snapshot!(format!("page_{name}"), redacted(&html));
    }
}

#[test]
fn the_pages_of_an_admin_and_a_reporter_are_pinned() {
    let admin = app(Role::Admin, None);
    let (status, html) = get(&admin, "/nop-bao-cao?period=2026S1");
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("/ky/2026S1/khoa"), "the lock button");
    insta::assert_snapshot!("page_submissions_admin", redacted(&html));
    let (_, html) = get(&admin, "/nop?period=2026S1");
    insta::assert_snapshot!("page_upload_admin", redacted(&html));
    let reporter = app(Role::Reporter, Some("99001"));
    let (status, html) = get(&reporter, "/chi-tieu/CDS-1?period=2026S1");
    assert_eq!(status, StatusCode::OK);
    assert!(
        !html.contains("data-unit=\"99002\""),
        "no sibling in a reporter's ranking"
    );
    insta::assert_snapshot!("page_indicator_reporter", redacted(&html));
    let (_, html) = get(&reporter, "/nop?period=2026S1");
    insta::assert_snapshot!("page_upload_reporter", redacted(&html));
    assert_eq!(get(&reporter, "/don-vi/99002?period=2026S1").0, StatusCode::FORBIDDEN);
    // The cells behind a figure: a reporter's own unit's, never the province's or a sibling's.
    assert_eq!(
        get(&reporter, "/chi-tieu/CDS-3/nguon?period=2026S1&unit=99001").0,
        StatusCode::OK
    );
    for unit in ["99", "99002"] {
        let (status, _) = get(&reporter, &format!("/chi-tieu/CDS-3/nguon?period=2026S1&unit={unit}"));
        assert_eq!(status, StatusCode::FORBIDDEN, "{unit}");
    }
    assert!(
        !html.contains("data-drill"),
        "no link to the province's cells for a reporter"
    );
}

#[test]
fn the_login_page_is_pinned_and_escapes_what_it_is_given() {
    let app = app(Role::Viewer, None);
    let (status, html) = get(
        &app,
        "/dang-nhap?next=/chi-tieu/CDS-1%3Fperiod%3D2026S1%26x%3D%22%3E%3Cb%3E",
    );
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("\"><b>"), "the next path is escaped: {html}");
    insta::assert_snapshot!("page_login", redacted(&html));
}
