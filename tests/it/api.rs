//! The HTTP API against a real server on loopback: the role matrix, dry runs, validation summaries,
//! uploads parsed out of process, and the body limit.

use serde_json::{Value as Json, json};

use crate::support::{Server, call, csrf_of, multipart, multipart_with, samples, set_password, user};

/// Posts the login form as a browser does: the login page first (its CSRF cookie and field), then the
/// form with both. The response is not followed.
fn login(agent: &ureq::Agent, base: &str, fields: &[(&str, &str)]) -> ureq::Response {
    let page = agent.get(&format!("{base}/dang-nhap")).call().unwrap();
    let cookie = page.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    let html = page.into_string().unwrap();
    let csrf = csrf_of(&html);
    let mut form = fields.to_vec();
    form.push(("csrf", &csrf));
    agent
        .post(&format!("{base}/dang-nhap"))
        .set("Cookie", &cookie)
        .send_form(&form)
        .unwrap()
}

fn f01(unit: &str, reached: i64) -> Json {
    json!({"form": "F01", "unit": unit, "period": "2026S1", "values": [
        {"row": "01", "column": 1, "value": 1000}, {"row": "01", "column": 2, "value": 1000}, {"row": "01", "column": 3, "value": 0},
        {"row": "02", "column": 1, "value": reached}, {"row": "02", "column": 2, "value": reached}, {"row": "02", "column": 3, "value": 0},
        {"row": "03", "column": 1, "value": 10}, {"row": "04", "column": 1, "value": 9}
    ]})
}

#[test]
fn roles_submissions_and_uploads_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let admin = user(&store, "admin", "admin", None);
    let viewer = user(&store, "lanhdao", "viewer", None);
    let rep_a = user(&store, "phuong1", "reporter", Some("99001"));
    let rep_b = user(&store, "xa2", "reporter", Some("99002"));
    let s = Server::start(&store);
    let url = |p: &str| format!("{}{p}", s.base);

    // No token, or a wrong one: 401, whatever the route.
    assert_eq!(
        call(ureq::get(&url("/api/v1/indicators?period=2026S1")), None, None).0,
        401
    );
    assert_eq!(
        call(
            ureq::post(&url("/api/v1/returns")),
            Some("pbg_nope"),
            Some(&f01("99001", 800))
        )
        .0,
        401
    );
    // A viewer reads but cannot submit.
    assert_eq!(
        call(
            ureq::post(&url("/api/v1/returns")),
            Some(&viewer),
            Some(&f01("99001", 800))
        )
        .0,
        403
    );
    // A reporter submits for its own unit only.
    assert_eq!(
        call(
            ureq::post(&url("/api/v1/returns")),
            Some(&rep_b),
            Some(&f01("99001", 800))
        )
        .0,
        403
    );
    // Dry run: validated, not stored.
    let (code, dry) = call(
        ureq::post(&url("/api/v1/returns?dry_run=true")),
        Some(&rep_a),
        Some(&f01("99001", 800)),
    );
    assert_eq!(code, 200, "{dry}");
    assert_eq!(dry["returns"][0]["status"], "accepted");
    assert_eq!(
        call(ureq::get(&url("/api/v1/returns?period=2026S1")), Some(&admin), None).1,
        json!([])
    );
    // Accepted, then an identical re-submission changes nothing, then a change is version 2.
    let (code, ok) = call(
        ureq::post(&url("/api/v1/returns")),
        Some(&rep_a),
        Some(&f01("99001", 800)),
    );
    assert_eq!((code, ok["returns"][0]["version"].clone()), (200, json!(1)), "{ok}");
    let (_, same) = call(
        ureq::post(&url("/api/v1/returns")),
        Some(&rep_a),
        Some(&f01("99001", 800)),
    );
    assert_eq!(same["returns"][0]["status"], "unchanged");
    let (_, v2) = call(
        ureq::post(&url("/api/v1/returns")),
        Some(&rep_a),
        Some(&f01("99001", 850)),
    );
    assert_eq!(v2["returns"][0]["version"], 2);
    // Invalid: 400 with the summary; the error names row and column, and no cell.
    let (code, bad) = call(
        ureq::post(&url("/api/v1/returns")),
        Some(&rep_a),
        Some(&f01("99001", 1200)),
    );
    assert_eq!(code, 400, "{bad}");
    let err = &bad["returns"][0]["errors"][0];
    assert_eq!(
        (
            err["rule"].as_str(),
            err["row"].as_str(),
            err["column"].as_u64(),
            err["cell"].clone()
        ),
        (Some("part_exceeds_whole"), Some("02"), Some(1), Json::Null)
    );
    // Malformed JSON is the sender's mistake: 400, never 500.
    let resp = ureq::post(&url("/api/v1/returns"))
        .set("Authorization", &format!("Bearer {rep_a}"))
        .set("Content-Type", "application/json")
        .send_string("{not json");
    assert!(matches!(resp, Err(ureq::Error::Status(400, _))));
    // Indicators: a reporter reads the province and its own unit, not another unit.
    let (code, ind) = call(ureq::get(&url("/api/v1/indicators?period=2026S1")), Some(&rep_a), None);
    assert_eq!(code, 200);
    let cds1 = ind
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["indicator"] == "CDS-1" && v["unit"] == "99")
        .unwrap();
    assert_eq!(
        (cds1["numerator"].as_i64(), cds1["denominator"].as_i64()),
        (Some(850), Some(1000))
    );
    assert_eq!(
        call(
            ureq::get(&url("/api/v1/indicators?period=2026S1&unit=99002")),
            Some(&rep_a),
            None
        )
        .0,
        403
    );
    assert_eq!(
        call(
            ureq::get(&url("/api/v1/indicators?period=2026S1&unit=99001")),
            Some(&rep_a),
            None
        )
        .0,
        200
    );
    assert_eq!(
        call(ureq::get(&url("/api/v1/indicators?period=20X6")), Some(&viewer), None).0,
        400
    );
    // Uploads: the reporter's own workbook is accepted (both forms), another unit's is refused.
    let (code, up) = multipart(
        &url("/api/v1/returns/upload"),
        &rep_b,
        &samples().join("returns/99002_2026S1.xls"),
        &[("period", "2026S1")],
    );
    assert_eq!(code, 200, "{up}");
    assert_eq!(up["returns"].as_array().unwrap().len(), 2);
    let (code, wrong) = multipart(
        &url("/api/v1/returns/upload"),
        &rep_b,
        &samples().join("returns/99003_2026S1.ods"),
        &[],
    );
    assert_eq!(code, 400);
    assert_eq!(wrong["returns"][0]["errors"][0]["rule"], "unit_mismatch");
    // A hostile upload rejects itself and the server lives on.
    let (code, hostile) = multipart(
        &url("/api/v1/returns/upload"),
        &rep_b,
        &crate::support::repo().join("fixtures/samples/hostile/shared_strings_claim.xlsx"),
        &[],
    );
    assert_eq!(
        (code, hostile["returns"][0]["errors"][0]["rule"].as_str()),
        (400, Some("too_large"))
    );
    // Listing: a reporter sees its own returns only.
    let (_, mine) = call(ureq::get(&url("/api/v1/returns?period=2026S1")), Some(&rep_b), None);
    assert!(mine.as_array().unwrap().iter().all(|r| r["unit"] == "99002"));
    let (_, all) = call(ureq::get(&url("/api/v1/returns?period=2026S1")), Some(&admin), None);
    assert_eq!(
        all.as_array().unwrap().len(),
        4,
        "99001 F01 v1 and v2, 99002 F01 and F02"
    );
    // Sent on the test clock's day, long after the 2026S1 deadline: every version is late, against
    // that deadline.
    let deadline = all[0]["deadline"].as_str().unwrap().to_owned();
    assert!(deadline.starts_with("2026-"), "{deadline}");
    assert!(all.as_array().unwrap().iter().all(|r| r["late"] == true), "{all}");
    // The OpenAPI document comes from the code: every route and the shapes it sends.
    let (code, doc) = call(ureq::get(&url("/api/v1/openapi.json")), None, None);
    assert_eq!(code, 200);
    for path in ["/api/v1/returns", "/api/v1/returns/upload", "/api/v1/indicators"] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    for schema in [
        "JsonReturn",
        "ImportSummary",
        "IndicatorValue",
        "ReturnStatus",
        "TargetStatus",
        "Issue",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "schema {schema} missing"
        );
    }
    // Bodies over 20 MiB: 413.
    let big = vec![b' '; 21 * 1024 * 1024];
    let resp = ureq::post(&url("/api/v1/returns"))
        .set("Authorization", &format!("Bearer {admin}"))
        .set("Content-Type", "application/json")
        .send_bytes(&big);
    assert!(matches!(resp, Err(ureq::Error::Status(413, _))), "{resp:?}");
    // The overview page renders the same figure as the API.
    // Pages need a browser session: without one, the login page.
    let no_redirects = ureq::AgentBuilder::new().redirects(0).build();
    let anon = no_redirects.get(&url("/?period=2026S1")).call().unwrap();
    assert_eq!(anon.status(), 303);
    assert!(anon.header("location").unwrap().starts_with("/dang-nhap?next="));
    set_password(&store, "lanhdao", "mat-khau-lanh-dao");
    let wrong = login(
        &no_redirects,
        &s.base,
        &[("name", "lanhdao"), ("password", "sai"), ("next", "/")],
    );
    assert!(
        wrong
            .header("set-cookie")
            .is_none_or(|c| !c.contains("pbgdpl_session=s_")),
        "no session for a wrong password"
    );
    let ok = login(
        &no_redirects,
        &s.base,
        &[
            ("name", "lanhdao"),
            ("password", "mat-khau-lanh-dao"),
            ("next", "/?period=2026S1"),
        ],
    );
    assert_eq!((ok.status(), ok.header("location")), (303, Some("/?period=2026S1")));
    let cookie = ok.header("set-cookie").unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let resp = no_redirects
        .get(&url("/?period=2026S1"))
        .set("Cookie", &cookie)
        .call()
        .unwrap();
    assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
    assert!(
        resp.header("content-security-policy")
            .is_some_and(|c| c.contains("frame-ancestors 'none'"))
    );
    let page = resp.into_string().unwrap();
    assert!(page.contains("data-indicator=\"CDS-1\""), "{page}");
    // The overview is rendered once per store state: a new return shows on the next view.
    let missing = |page: &str| -> usize {
        let at = page.find("data-count=\"missing\">").unwrap() + "data-count=\"missing\">".len();
        page[at..].split('<').next().unwrap().parse().unwrap()
    };
    let overview = || {
        no_redirects
            .get(&url("/?period=2026S1"))
            .set("Cookie", &cookie)
            .call()
            .unwrap()
            .into_string()
            .unwrap()
    };
    let before = missing(&overview());
    assert_eq!(missing(&overview()), before, "the same answer from the cache");
    let (code, _) = call(
        ureq::post(&url("/api/v1/returns")),
        Some(&admin),
        Some(&f01("99003", 700)),
    );
    assert_eq!(code, 200);
    assert_eq!(missing(&overview()), before - 1, "99003's F01 has arrived");
    // The Department locks the period on the submissions page: administrators only, with the form's
    // CSRF token; the page then says so and a new return is refused.
    let submissions = |cookie: &str| {
        no_redirects
            .get(&url("/nop-bao-cao?period=2026S1"))
            .set("Cookie", cookie)
            .call()
            .unwrap()
            .into_string()
            .unwrap()
    };
    let lock = |cookie: &str, action: &str, csrf: &str| match no_redirects
        .post(&url(&format!("/ky/2026S1/{action}")))
        .set("Cookie", cookie)
        .send_form(&[("csrf", csrf), ("unit", "99")])
    {
        Ok(r) => (r.status(), r.header("location").map(str::to_owned)),
        Err(ureq::Error::Status(code, _)) => (code, None),
        Err(e) => panic!("{e}"),
    };
    let viewer_page = submissions(&cookie);
    assert!(!viewer_page.contains("/ky/2026S1/khoa"), "no lock button for a viewer");
    assert_eq!(lock(&cookie, "khoa", &csrf_of(&viewer_page)).0, 403);
    set_password(&store, "admin", "mat-khau-quan-tri");
    let admin_login = login(
        &no_redirects,
        &s.base,
        &[("name", "admin"), ("password", "mat-khau-quan-tri"), ("next", "/")],
    );
    let admin_cookie = admin_login
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let admin_page = submissions(&admin_cookie);
    assert!(admin_page.contains("/ky/2026S1/khoa"), "{admin_page}");
    assert_eq!(lock(&admin_cookie, "khoa", "forged").0, 403, "a wrong CSRF token");
    assert_eq!(
        lock(&admin_cookie, "khoa", &csrf_of(&admin_page)),
        (303, Some("/nop-bao-cao?period=2026S1&unit=99".to_owned()))
    );
    let admin_page = submissions(&admin_cookie);
    assert!(
        admin_page.contains("data-locked=\"2026S1\"")
            && admin_page.contains("(admin)")
            && admin_page.contains("/ky/2026S1/mo-khoa"),
        "{admin_page}"
    );
    assert!(
        submissions(&cookie).contains("data-locked=\"2026S1\""),
        "leaders see it too"
    );
    let (_, refused) = call(
        ureq::post(&url("/api/v1/returns")),
        Some(&admin),
        Some(&f01("99004", 700)),
    );
    assert_eq!(refused["returns"][0]["errors"][0]["rule"], "period_locked", "{refused}");
    assert_eq!(lock(&admin_cookie, "mo-khoa", &csrf_of(&admin_page)).0, 303);
    assert!(!submissions(&admin_cookie).contains("data-locked"));
    // The report downloads from the web app, for leaders and the Department.
    let docx = no_redirects
        .get(&url("/bao-cao?period=2026S1&format=docx"))
        .set("Cookie", &cookie)
        .call()
        .unwrap();
    assert!(
        docx.header("content-disposition")
            .unwrap()
            .contains("bao-cao-pbgdpl-99-2026S1.docx")
    );
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut docx.into_reader(), &mut bytes).unwrap();
    assert!(bytes.starts_with(b"PK"), "a .docx is a zip package");
    // Logging out is a form: without the session's CSRF token it is refused.
    let forged = no_redirects
        .post(&url("/dang-xuat"))
        .set("Cookie", &cookie)
        .send_form(&[("csrf", "forged")]);
    assert!(matches!(forged, Err(ureq::Error::Status(403, _))));
    // A reporter's session sees its own unit's page, not another's.
    set_password(&store, "phuong1", "mat-khau-phuong-1");
    let rep = login(
        &no_redirects,
        &s.base,
        &[("name", "phuong1"), ("password", "mat-khau-phuong-1")],
    );
    let rep_cookie = rep.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    assert_eq!(
        no_redirects
            .get(&url("/don-vi/99001"))
            .set("Cookie", &rep_cookie)
            .call()
            .unwrap()
            .status(),
        200
    );
    assert!(matches!(
        no_redirects
            .get(&url("/bao-cao?period=2026S1"))
            .set("Cookie", &rep_cookie)
            .call(),
        Err(ureq::Error::Status(403, _))
    ));
    // Nộp báo cáo in the browser: the form carries the session's CSRF token; without it, refused.
    let form = no_redirects
        .get(&url("/nop?period=2026S1"))
        .set("Cookie", &rep_cookie)
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    let csrf = csrf_of(&form);
    assert!(
        form.contains("/nop/mau?period=2026S1&#38;unit=99001&#38;form=F01"),
        "template links for the own unit: {form}"
    );
    let file = samples().join("returns/99001_2026S1.xlsx");
    let (code, _) = multipart_with(&url("/nop"), ("Cookie", &rep_cookie), &file, &[("csrf", "forged")]);
    assert_eq!(code, 403);
    let (code, result) = multipart_with(
        &url("/nop"),
        ("Cookie", &rep_cookie),
        &file,
        &[("csrf", &csrf), ("dry_run", "true")],
    );
    assert_eq!(code, 200);
    assert!(result.contains("Hợp lệ (chưa nộp)"), "{result}");
    assert!(matches!(
        no_redirects
            .get(&url("/don-vi/99002"))
            .set("Cookie", &rep_cookie)
            .call(),
        Err(ureq::Error::Status(403, _))
    ));
    assert!(page.contains("85,00 %"), "CDS-1 = 850/1000 on the page");
}

/// Answers are gzip-compressed for a client that accepts it (browsers do), and only then.
#[test]
fn answers_are_compressed_when_the_client_accepts_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let viewer = user(&store, "lanhdao", "viewer", None);
    let s = Server::start(&store);
    let get = |gzip: bool| {
        let mut req =
            ureq::get(&format!("{}/api/v1/openapi.json", s.base)).set("Authorization", &format!("Bearer {viewer}"));
        if gzip {
            req = req.set("Accept-Encoding", "gzip");
        }
        let resp = req.call().unwrap();
        let encoding = resp.header("Content-Encoding").map(str::to_owned);
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut resp.into_reader(), &mut body).unwrap();
        (encoding, body)
    };
    let (plain_enc, plain) = get(false);
    let (gz_enc, gz) = get(true);
    assert_eq!(plain_enc, None);
    assert_eq!(gz_enc.as_deref(), Some("gzip"));
    assert_eq!(&gz[..2], &[0x1f, 0x8b], "a gzip stream");
    assert!(
        gz.len() * 3 < plain.len(),
        "{} bytes gzipped of {}",
        gz.len(),
        plain.len()
    );
    eprintln!("openapi.json: {} bytes, {} gzipped", plain.len(), gz.len());
}

/// A server that has answered before answers after each accepted return as a server started on the
/// same store does: the engine it applied the return to, and the results it kept for the periods
/// the return does not touch, are those of the whole store. A preliminary return changes the year
/// (official, else preliminary) and the phase, not the half-year.
#[test]
fn figures_after_each_accepted_return_are_those_of_a_fresh_server() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let admin = user(&store, "admin", "admin", None);
    let s = Server::start(&store);
    let specs = ["2026S1", "2026P", "2026", "2025-2026"];
    let answers = |server: &Server| -> Vec<Json> {
        specs
            .iter()
            .map(|p| {
                let (code, body) = call(
                    ureq::get(&format!("{}/api/v1/indicators?period={p}", server.base)),
                    Some(&admin),
                    None,
                );
                assert_eq!(code, 200, "{p}: {body}");
                body
            })
            .collect()
    };
    let post = |body: Json| {
        let (code, out) = call(
            ureq::post(&format!("{}/api/v1/returns", s.base)),
            Some(&admin),
            Some(&body),
        );
        assert_eq!(
            (code, out["returns"][0]["status"].clone()),
            (200, json!("accepted")),
            "{out}"
        );
    };
    let preliminary = |reached: i64| {
        let mut r = f01("99002", reached);
        r["period"] = json!("2026P");
        r
    };
    post(f01("99001", 800));
    post(preliminary(600));
    let first = answers(&s);
    let mut steps = vec![first.clone()];
    for change in [preliminary(700), f01("99001", 900), f01("99003", 500)] {
        post(change);
        let now = answers(&s);
        let mut fresh = Server::start(&store);
        assert_eq!(now, answers(&fresh), "the long-running server against a fresh one");
        fresh.kill();
        steps.push(now);
    }
    // What changed where: the 2026P correction changed 2026P, 2026 and the phase, not 2026S1.
    let (before, after) = (&steps[0], &steps[1]);
    assert_eq!(before[0], after[0], "2026S1 untouched by a 2026P return");
    for i in 1..4 {
        assert_ne!(before[i], after[i], "{} follows the 2026P return", specs[i]);
    }
    assert_ne!(steps[1][0], steps[2][0], "2026S1 follows its own return");
}
