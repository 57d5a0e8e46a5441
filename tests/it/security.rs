//! The web app as an attacker tries it: password guessing, open redirects, forged forms, oversized and
//! malformed bodies, absurd numbers, stolen or revoked tokens, caching of one person's figures — each
//! answered as `SECURITY.md` says, and every refusal in the audit log.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, Response, header};
use pbgdpl_catalog::{Clock, Role};
use pbgdpl_store::{Actor, SqliteStore, Store};
use tower::ServiceExt;

use crate::support::{Server, call, csrf_of, multipart_with, now, user};

struct App {
    router: axum::Router,
    store: Arc<SqliteStore>,
    rt: tokio::runtime::Runtime,
}

fn app(secure_cookies: bool) -> App {
    let store = Arc::new(crate::support::memory_store());
    let config = pbgdpl_dashboards::Config {
        clock: Clock::fixed(now()),
        secure_cookies,
        ..pbgdpl_dashboards::Config::default()
    };
    let state = pbgdpl_dashboards::AppState::new(
        crate::support::sample_catalog(),
        store.clone() as Arc<dyn Store>,
        config,
    )
    .unwrap();
    App {
        router: pbgdpl_dashboards::app(state),
        store,
        rt: tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap(),
    }
}

impl App {
    fn send(&self, req: Request<Body>) -> Response<Body> {
        self.rt.block_on(self.router.clone().oneshot(req)).unwrap()
    }

    fn text(&self, res: Response<Body>) -> String {
        let bytes = self
            .rt
            .block_on(axum::body::to_bytes(res.into_body(), usize::MAX))
            .unwrap();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The login page's CSRF cookie and field.
    fn login_token(&self) -> (String, String) {
        let res = self.send(Request::get("/dang-nhap").body(Body::empty()).unwrap());
        let cookie = res.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let html = self.text(res);
        let csrf = csrf_of(&html);
        (cookie, csrf)
    }

    fn login(&self, name: &str, password: &str, next: &str) -> Response<Body> {
        let (cookie, csrf) = self.login_token();
        let body = format!(
            "name={name}&password={password}&next={}&csrf={csrf}",
            crate::support::form_encode(next)
        );
        self.send(
            Request::post("/dang-nhap")
                .header(header::COOKIE, cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
    }

    fn actions(&self) -> Vec<String> {
        self.store
            .audit_log(None, 1000)
            .unwrap()
            .into_iter()
            .map(|l| l.action)
            .collect()
    }
}

#[test]
fn password_guessing_is_throttled_per_name_and_the_guesses_are_logged() {
    let app = app(false);
    app.store
        .add_user("lan", Role::Viewer, None, &Actor::cli(now()))
        .unwrap();
    app.store
        .set_password("lan", "mat-khau-dung", &Actor::cli(now()))
        .unwrap();
    for _ in 0..5 {
        let res = app.login("lan", "sai", "/");
        assert_eq!(res.status(), 303, "a wrong password: back to the login page");
    }
    let res = app.login("lan", "mat-khau-dung", "/");
    assert_eq!(
        res.status(),
        429,
        "the sixth try within the minute waits, even with the right password"
    );
    let wait: u64 = res.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&wait), "{wait}");
    // Another name is not held back by this one's guesses.
    app.store
        .add_user("an", Role::Viewer, None, &Actor::cli(now()))
        .unwrap();
    app.store
        .set_password("an", "mat-khau-cua-an", &Actor::cli(now()))
        .unwrap();
    assert_eq!(app.login("an", "mat-khau-cua-an", "/").status(), 303);
    let actions = app.actions();
    assert_eq!(
        actions.iter().filter(|a| *a == "login.failed").count(),
        5,
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| *a == "login.throttled").count(),
        1,
        "{actions:?}"
    );
    assert_eq!(actions.iter().filter(|a| *a == "login").count(), 1, "{actions:?}");
}

#[test]
fn a_login_redirects_only_to_this_site_and_never_fails_on_odd_text() {
    let app = app(true);
    for (i, (next, want)) in [
        ("/chi-tieu/CDS-1?period=2026S1", "/chi-tieu/CDS-1?period=2026S1"),
        ("/\t/evil.example/", "/"),
        ("//evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/\nSet-Cookie: x=1", "/"),
        ("/a\u{7f}b", "/"),
    ]
    .into_iter()
    .enumerate()
    {
        // A person each: a name gets five attempts a minute.
        let name = format!("lan{i}");
        app.store
            .add_user(&name, Role::Viewer, None, &Actor::cli(now()))
            .unwrap();
        app.store
            .set_password(&name, "mat-khau-dung", &Actor::cli(now()))
            .unwrap();
        let res = app.login(&name, "mat-khau-dung", next);
        assert_eq!(res.status(), 303, "{next:?}");
        assert_eq!(res.headers()[header::LOCATION], want, "{next:?}");
        // Behind TLS the session cookie is Secure as well as HttpOnly and SameSite=Strict.
        let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
        assert!(
            cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
    }
}

#[test]
fn forms_without_their_csrf_token_are_forbidden_not_unprocessable() {
    let app = app(false);
    app.store
        .add_user("admin", Role::Admin, None, &Actor::cli(now()))
        .unwrap();
    let (session, csrf) = app.store.create_session("admin", now(), 8).unwrap();
    let post = |path: &str, body: &str| {
        app.send(
            Request::post(path)
                .header(header::COOKIE, format!("pbgdpl_session={session}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body.to_owned()))
                .unwrap(),
        )
        .status()
    };
    assert_eq!(post("/ky/2026S1/khoa", "unit=99"), 403, "no csrf field");
    assert_eq!(post("/ky/2026S1/khoa", "csrf=forged&unit=99"), 403, "a wrong one");
    assert_eq!(post("/dang-xuat", ""), 403);
    assert_eq!(
        post("/ky/2026S1/khoa", &format!("csrf={csrf}&unit=99")),
        303,
        "the real one"
    );
    // The login form has a token of its own.
    let res = app.send(
        Request::post("/dang-nhap")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("name=admin&password=x"))
            .unwrap(),
    );
    assert_eq!(res.status(), 403);
    let actions = app.actions();
    assert!(
        actions.iter().filter(|a| *a == "access.denied").count() >= 4,
        "{actions:?}"
    );
    assert!(actions.contains(&"period.lock".to_owned()));
}

#[test]
fn authenticated_answers_are_never_cached_and_the_policy_forbids_plugins_and_base_tricks() {
    let app = app(false);
    let token = app
        .store
        .add_user("lan", Role::Viewer, None, &Actor::cli(now()))
        .unwrap();
    let res = app.send(
        Request::get("/api/v1/indicators?period=2026S1")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
    );
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    let css = app.send(Request::get("/static/pbgdpl.css").body(Body::empty()).unwrap());
    assert!(
        css.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .starts_with("public")
    );
}

#[test]
fn revoked_expired_and_disabled_tokens_are_refused_and_logged() {
    let app = app(false);
    let by = Actor::cli(now());
    let old = app.store.add_user("lan", Role::Viewer, None, &by).unwrap();
    let new = app.store.rotate_token("lan", &by).unwrap();
    let get = |token: &str| {
        app.send(
            Request::get("/api/v1/indicators?period=2026S1")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .status()
    };
    assert_eq!(get(&old), 401, "a rotated token is revoked");
    assert_eq!(get(&new), 200);
    app.store.disable_user("lan", &by).unwrap();
    assert_eq!(get(&new), 401, "a disabled user's token");
    let log = app.store.audit_log(None, 100).unwrap();
    let failed: Vec<_> = log.iter().filter(|l| l.action == "auth.failed").collect();
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0].subject.as_deref(), Some("/api/v1/indicators"));
    assert_eq!(failed[0].detail.as_deref(), Some("GET"));
    assert!(log.iter().any(|l| l.action == "user.token") && log.iter().any(|l| l.action == "user.disable"));
}

#[test]
fn absurd_counts_are_refused_as_out_of_range_and_nothing_is_stored() {
    let app = app(false);
    let token = app
        .store
        .add_user("admin", Role::Admin, None, &Actor::cli(now()))
        .unwrap();
    let body = serde_json::json!({"form": "F01", "unit": "99001", "period": "2026S1", "values": [
        {"row": "01", "column": 1, "value": i64::MAX}, {"row": "01", "column": 2, "value": i64::MAX},
        {"row": "01", "column": 3, "value": 1},
        {"row": "02", "column": 1, "value": 60_000_000}, {"row": "05", "column": 1, "value": 2_000_000_000}
    ]});
    let res = app.send(
        Request::post("/api/v1/returns")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    );
    assert_eq!(res.status(), 400);
    let summary: serde_json::Value = serde_json::from_str(&app.text(res)).unwrap();
    let errors = summary["returns"][0]["errors"].as_array().unwrap();
    let out_of_range: Vec<_> = errors
        .iter()
        .filter(|e| e["rule"] == "out_of_range")
        .map(|e| (e["row"].as_str().unwrap(), e["column"].as_u64().unwrap()))
        .collect();
    // Row 02 has no bound of its own (it is at most row 01, by the part_of rule); 60 million is
    // within the form's.
    assert_eq!(out_of_range, [("01", 1), ("01", 2), ("05", 1)], "{errors:#?}");
    assert!(app.store.returns(None).unwrap().is_empty());
}

#[test]
fn oversized_and_malformed_bodies_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let admin = user(&store, "admin", "admin", None);
    let server = Server::start(&store);
    // A malformed multipart body without a token: 401, the body is never parsed.
    let res = ureq::post(&format!("{}/api/v1/returns/upload", server.base))
        .set("Content-Type", "multipart/form-data; boundary=x")
        .send_bytes(b"--y\r\ngarbage");
    assert!(matches!(res, Err(ureq::Error::Status(401, _))), "{res:?}");
    // With the token, a malformed body is the user's mistake: 400, never 500.
    let res = ureq::post(&format!("{}/api/v1/returns/upload", server.base))
        .set("Authorization", &format!("Bearer {admin}"))
        .set("Content-Type", "multipart/form-data; boundary=x")
        .send_bytes(b"--y\r\ngarbage");
    assert!(matches!(res, Err(ureq::Error::Status(400, _))), "{res:?}");
    // A 21 MiB workbook through the web upload: 413.
    let big = dir.path().join("big.xlsx");
    std::fs::write(&big, vec![b'x'; 21 * 1024 * 1024]).unwrap();
    let token = crate::support::session_cookie(&store, "admin");
    let (code, _) = multipart_with(
        &format!("{}/nop", server.base),
        ("Cookie", &token.0),
        &big,
        &[("csrf", &token.1)],
    );
    assert_eq!(code, 413);
    let (code, _) = call(
        ureq::get(&format!("{}/api/v1/indicators?period=1990-2100", server.base)),
        Some(&admin),
        None,
    );
    assert_eq!(
        code, 400,
        "a period range beyond the catalog's programmes, answered at once"
    );
}
