//! The Ministry's level, end to end over loopback with two servers: a province's store pushes its
//! accepted returns (`pbgdpl push`) to the Ministry's server, which runs on the whole country's
//! units; the Ministry's figures of the province are the province's own, the nation's hold them,
//! pushing again changes nothing, a correction a ward sends to the province's server reaches the
//! Ministry with the next push, and a province's token sends for its own units only.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value as Json, json};

use crate::support::{Server, TEST_NOW, bin, call, national_catalog, run};

fn national_units() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/national/units.csv")
}

fn push(store: &Path, to: &str, token: &str) -> std::process::Output {
    Command::new(bin())
        .args([
            "--store",
            &store.display().to_string(),
            "push",
            "--to",
            to,
            "--period",
            "2026S1",
        ])
        .env(pbgdpl_catalog::CLOCK_ENV, TEST_NOW)
        .env("PBGDPL_PUSH_TOKEN", token)
        .output()
        .unwrap()
}

/// The indicator values of `unit` by code, BC-* (receipt times differ by design) left out.
fn by_code(json: &Json, unit: &str) -> Vec<(String, Option<f64>)> {
    let mut out: Vec<(String, Option<f64>)> = json
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["unit"] == unit && !v["indicator"].as_str().unwrap().starts_with("BC"))
        .map(|v| (v["indicator"].as_str().unwrap().to_owned(), v["value"].as_f64()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn a_province_pushes_its_returns_to_the_ministry_and_the_nations_figures_hold_them() {
    let dir = tempfile::tempdir().unwrap();
    // The province: Quảng Ngãi's returns of 2026S1 ingested from generated workbooks.
    let province = dir.path().join("province");
    let cat = crate::support::bundled_catalog();
    let period = pbgdpl_catalog::Period::parse("2026S1").unwrap();
    let generated = pbgdpl_fixtures::generate::generate(&cat, &period, 11, 0.05);
    let sent: usize = generated.iter().map(|r| r.forms.len()).sum();
    pbgdpl_fixtures::generate::write_workbooks(&cat, &period, &generated, &dir.path().join("in")).unwrap();
    let store = province.display().to_string();
    let out = run(
        &["--store", &store, "ingest", "--received-at", "2026-07-10", "in"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));

    // The Ministry: the country's units, its own store and server; a token bound to province 51.
    let ministry = dir.path().join("ministry");
    let units = national_units().display().to_string();
    let add = |name: &str, role: &str, unit: Option<&str>| -> String {
        let mut args = vec![
            "--store",
            ministry.to_str().unwrap(),
            "--units",
            &units,
            "user",
            "add",
            name,
            "--role",
            role,
        ];
        args.extend(unit.iter().flat_map(|u| ["--unit", *u]));
        let out = run(&args, dir.path());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let quang_ngai = add("stp-quang-ngai", "reporter", Some("51"));
    let leader = add("bo", "viewer", None);
    let server = Server::start_with(&ministry, &national_units());

    let first = push(&province, &server.base, &quang_ngai);
    let said = String::from_utf8_lossy(&first.stdout).into_owned();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{said}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(said.contains(&format!("Đã gửi {sent} báo cáo")), "{said}");
    assert!(
        said.contains(&format!("{sent} mới, 0 không đổi, 0 bị từ chối")),
        "{said}"
    );
    // Pushing again is harmless: every return is identical to what the Ministry holds.
    let again = String::from_utf8_lossy(&push(&province, &server.base, &quang_ngai).stdout).into_owned();
    assert!(
        again.contains(&format!("0 mới, {sent} không đổi, 0 bị từ chối")),
        "{again}"
    );

    // The Ministry's figures of Quảng Ngãi are the province's own, indicator by indicator.
    let own = run(
        &[
            "--store",
            &store,
            "indicators",
            "--period",
            "2026S1",
            "--format",
            "json",
        ],
        dir.path(),
    );
    let own: Json = serde_json::from_slice(&own.stdout).unwrap();
    let indicators = |unit: &str| {
        let (code, body) = call(
            ureq::get(&format!("{}/api/v1/indicators?period=2026S1&unit={unit}", server.base)),
            Some(&leader),
            None,
        );
        assert_eq!(code, 200, "{body}");
        body
    };
    let at_ministry = indicators("51");
    let (mine, theirs) = (by_code(&own, "51"), by_code(&at_ministry, "51"));
    assert!(
        mine.len() >= 9 && mine.iter().filter(|(_, v)| v.is_some()).count() >= 9,
        "{mine:?}"
    );
    assert_eq!(mine.len(), theirs.len());
    for ((code, a), (_, b)) in mine.iter().zip(&theirs) {
        match (a, b) {
            (Some(a), Some(b)) => assert!((a - b).abs() < 1e-9, "{code}: {a} at the province, {b} at the Ministry"),
            _ => assert_eq!(a, b, "{code}"),
        }
    }
    // The nation: Quảng Ngãi is the only province that reported, so the national ratios are its own
    // and the nation's coverage is a sliver of the country's units.
    let nation = indicators("VN");
    let cds1 = |json: &Json, unit: &str| {
        json.as_array()
            .unwrap()
            .iter()
            .find(|v| v["indicator"] == "CDS-1" && v["unit"] == unit)
            .cloned()
            .unwrap()
    };
    let (vn, qn) = (cds1(&nation, "VN"), cds1(&at_ministry, "51"));
    assert!((vn["value"].as_f64().unwrap() - qn["value"].as_f64().unwrap()).abs() < 1e-9);
    assert!(vn["coverage"].as_f64().unwrap() < 0.1, "{vn}");
    assert!(
        nation.as_array().unwrap().iter().any(|v| v["unit"] == "01"),
        "the provinces are listed under the nation"
    );

    // A ward corrects its return on the province's own server; the next push sends that one only,
    // and the Ministry's figures follow.
    let ward = run(
        &[
            "--store", &store, "user", "add", "phuong", "--role", "reporter", "--unit", "21028",
        ],
        dir.path(),
    );
    let ward = String::from_utf8(ward.stdout).unwrap().trim().to_owned();
    let bundled_units = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/catalog/units.csv");
    let province_server = Server::start_with(&province, &bundled_units);
    let (code, body) = call(
        ureq::post(&format!("{}/api/v1/returns", province_server.base)),
        Some(&ward),
        Some(&crate::deadline::f01("21028", 60_000)),
    );
    assert_eq!((code, body["returns"][0]["version"].as_i64()), (200, Some(2)), "{body}");
    let third = String::from_utf8_lossy(&push(&province, &server.base, &quang_ngai).stdout).into_owned();
    assert!(
        third.contains(&format!("1 mới, {} không đổi, 0 bị từ chối", sent - 1)),
        "{third}"
    );
    let ward_at_ministry = indicators("21028");
    let cds3 = ward_at_ministry
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["indicator"] == "CDS-3" && v["unit"] == "21028")
        .unwrap();
    assert!(
        (cds3["value"].as_f64().unwrap() - 90.0).abs() < 1e-9,
        "9 of 10 staff trained: {cds3}"
    );

    // Province 51's token sends for 51's units only: a Hà Nội commune is refused before validation.
    let ha_noi = national_catalog()
        .units
        .list
        .iter()
        .find(|u| u.parent.as_deref() == Some("01") && u.valid_to.is_none() && u.kind.is_territorial())
        .map(|u| u.code.clone())
        .unwrap();
    let body = json!({"form": "F01", "unit": ha_noi, "period": "2026S1",
                      "values": [{"row": "03", "column": 1, "value": 10}]});
    let (code, _) = call(
        ureq::post(&format!("{}/api/v1/returns", server.base)),
        Some(&quang_ngai),
        Some(&body),
    );
    assert_eq!(code, 403);
    // A wrong token stops the push at once, as the user's mistake.
    let wrong = push(&province, &server.base, "pbg_not-a-token");
    assert_eq!(
        wrong.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("401"));
}
