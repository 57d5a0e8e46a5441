//! Citizen surveys end to end: a generated Kobo export of Quảng Ngãi ingested, estimated with polars
//! and compared with an independent numpy computation (`scripts/surveys/estimate.py`); the nasty
//! files refused at their row with nothing stored; versions; the estimates where leaders look.

use std::path::Path;
use std::sync::Arc;

use pbgdpl_catalog::{Catalog, Period, PeriodSpec};
use pbgdpl_engine::{Engine, IndicatorValue, View};
use pbgdpl_ingest::survey::{SurveyFile, ingest_survey};
use pbgdpl_store::{Store, Submission};

use crate::support::{block_on, bundled_catalog, memory_store, now, opts, run};

const PERIOD: &str = "2026S1";

/// Form 01 of every generated 2026S1 return of the province, straight into the store (the survey
/// weights come from its row 01).
fn store_population(cat: &Catalog, store: &dyn Store) {
    let period = Period::parse(PERIOD).unwrap();
    let subs: Vec<Submission> = pbgdpl_fixtures::generate::generate(cat, &period, 5, 0.0)
        .into_iter()
        .flat_map(|r| {
            let unit = r.unit.clone();
            r.forms
                .into_iter()
                .filter(|(f, _)| f == "F01")
                .map(move |(form, values)| Submission {
                    unit: unit.clone(),
                    form,
                    period: PERIOD.into(),
                    values,
                    warnings: Vec::new(),
                    received_at: now(),
                    submitted_by: None,
                    source: "file".into(),
                    client: None,
                    file_name: None,
                    file_sha256: None,
                })
        })
        .collect();
    for r in store.submit(&subs).unwrap() {
        assert!(r.is_ok());
    }
}

/// The province's survey of 2026S1, as a file named `name`.
fn file<'a>(name: &'a str, bytes: &'a [u8]) -> SurveyFile<'a> {
    SurveyFile {
        survey: "KS-CDS",
        period: PERIOD,
        name,
        bytes,
    }
}

/// A store on disk (for the command line and the server) holding the population.
fn store_on_disk(cat: &Catalog, dir: &Path) -> std::path::PathBuf {
    let store = dir.join("store");
    store_population(cat, &pbgdpl_store::SqliteStore::open(&store).unwrap());
    store
}

fn export(cat: &Catalog, seed: u64) -> Vec<Vec<String>> {
    let period = Period::parse(PERIOD).unwrap();
    pbgdpl_fixtures::survey::generate(cat, "51", &period, seed, 0.5)
        .into_iter()
        .map(|a| a.cells)
        .collect()
}

fn engine_with_surveys(cat: &Arc<Catalog>, store: &dyn Store) -> Engine {
    let engine = crate::support::engine_of(cat, store);
    let samples = block_on(pbgdpl_surveys::samples(&engine, &store.surveys().unwrap())).unwrap();
    pbgdpl_surveys::attach(engine, &samples).unwrap()
}

fn python() -> &'static str {
    // Debian's interpreter, where `python3-numpy` installs (a pyenv shim first in PATH may lack it).
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

#[test]
fn survey_estimates_match_an_independent_numpy_computation() {
    let cat = bundled_catalog();
    let store = memory_store();
    store_population(&cat, &store);
    let rows = export(&cat, 17);
    assert!(rows.len() > 1000, "a few thousand respondents: {}", rows.len());
    let csv = pbgdpl_fixtures::survey::to_csv(&pbgdpl_fixtures::survey::header(), &rows, true);
    let report = ingest_survey(&cat, &store, file("ks.csv", &csv), &opts(), None).unwrap();
    assert_eq!(report.status, "new_version", "{:?}", report.errors);
    assert_eq!(report.respondents, rows.len());
    let engine = engine_with_surveys(&cat, &store);

    // What the script gets: the same export, the population the engine holds, the unit tree.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ks.csv"), &csv).unwrap();
    let period = Period::parse(PERIOD).unwrap();
    let end = period.end(&cat.periods);
    let values = block_on(engine.unit_values_in(&PeriodSpec::Single(period), "51", View::AsOf(end))).unwrap();
    let mut pop = String::from("unit,total,urban,rural\n");
    for (unit, cells) in &values {
        let c = |col: u32| {
            cells
                .get(&("F01".to_owned(), "01".to_owned(), col))
                .map(|v| v.to_string())
                .unwrap_or_default()
        };
        pop.push_str(&format!("{unit},{},{},{}\n", c(1), c(2), c(3)));
    }
    std::fs::write(dir.path().join("pop.csv"), pop).unwrap();
    let tree = cat.units.tree(end);
    let mut pairs = String::from("ancestor,commune\n");
    for u in tree.subtree("51").into_iter().filter(|u| u.kind.is_territorial()) {
        for a in tree.ancestors(&u.key) {
            pairs.push_str(&format!("{},{}\n", a.key, u.key));
        }
    }
    std::fs::write(dir.path().join("tree.csv"), pairs).unwrap();
    let out = std::process::Command::new(python())
        .arg(crate::support::repo().join("scripts/surveys/estimate.py"))
        .args(["ks.csv", "pop.csv", "tree.csv"])
        .args(["--unit-column", "Mã xã/phường", "--area-column", "Khu vực sinh sống"])
        .args(["--question", "Mức độ hài lòng (1-5)", "--counts", "4,5"])
        .current_dir(dir.path())
        .output()
        .expect("python3 with numpy (Debian python3-numpy; scripts/test.sh installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let numpy: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    let shown = block_on(engine.indicators(&PeriodSpec::Single(period), "51")).unwrap();
    let cds5: Vec<&IndicatorValue> = shown.iter().filter(|v| v.indicator == "CDS-5").collect();
    let (mut compared, mut worst_p, mut worst_se) = (0, 0.0f64, 0.0f64);
    for v in &cds5 {
        let Some(want) = numpy.get(&v.unit) else {
            assert_eq!(v.source.as_deref(), Some("form"), "{} has no respondents", v.unit);
            continue;
        };
        let s = v
            .survey
            .as_ref()
            .unwrap_or_else(|| panic!("{} has a survey estimate", v.unit));
        assert_eq!(v.source.as_deref(), Some("survey"));
        let p = want["p"].as_f64().unwrap() * 100.0;
        assert!(
            (v.value.unwrap() - p).abs() < 0.01,
            "{}: {} vs numpy {p}",
            v.unit,
            v.value.unwrap()
        );
        match want["se"].as_f64() {
            Some(se) => assert!(
                (s.se.unwrap() - se * 100.0).abs() < 0.01,
                "{}: se {:?} vs {se}",
                v.unit,
                s.se
            ),
            None => assert!(s.se.is_none()),
        }
        assert_eq!(s.respondents, want["n"].as_i64().unwrap());
        worst_p = worst_p.max((v.value.unwrap() - p).abs());
        worst_se = worst_se.max((s.se.unwrap_or(0.0) - want["se"].as_f64().unwrap_or(0.0) * 100.0).abs());
        compared += 1;
    }
    assert!(compared > 20, "the province and its sampled communes: {compared}");
    eprintln!(
        "{} respondents, {compared} units compared with numpy: largest difference {worst_p:.2e} points (estimate), {worst_se:.2e} (se)",
        rows.len()
    );
    // The province: many communes, a margin of a few points, judged on the estimate.
    let province = cds5.iter().find(|v| v.unit == "51").unwrap();
    let s = province.survey.as_ref().unwrap();
    assert!(s.publishable && s.clusters > 20, "{s:?}");
    let margin = s.margin.unwrap();
    assert!((margin - pbgdpl_engine::Z95 * s.se.unwrap()).abs() < 1e-9);
    assert!(margin > 0.5 && margin < 10.0, "±{margin}");
    let text = pbgdpl_reports::text::value_text(province);
    assert!(text.contains("(±"), "{text}");
    // A commune with a handful of answers is shown, and marked too small to publish.
    let small = cds5
        .iter()
        .filter_map(|v| v.survey.as_ref().map(|s| (v, s)))
        .find(|(_, s)| s.respondents < 30)
        .expect("a commune with few respondents");
    assert!(!small.1.publishable);
    assert!(pbgdpl_reports::text::value_text(small.0).contains("mẫu nhỏ"));
}

#[test]
fn bad_survey_files_are_refused_at_their_row_with_nothing_stored() {
    let cat = bundled_catalog();
    let store = memory_store();
    let rows: Vec<pbgdpl_fixtures::survey::Answer> =
        pbgdpl_fixtures::survey::generate(&cat, "51", &Period::parse(PERIOD).unwrap(), 3, 0.5);
    let before = store.generation().unwrap();
    for case in pbgdpl_fixtures::survey::nasty(&rows) {
        let report = ingest_survey(&cat, &store, file(case.name, &case.bytes), &opts(), None).unwrap();
        assert!(report.rejected(), "{}: {:?}", case.name, report.status);
        let first = &report.errors[0];
        assert_eq!(first.rule.id(), case.rule, "{}: {first:?}", case.name);
        if let Some(cell) = &case.cell {
            assert_eq!(first.cell.as_ref(), Some(cell), "{}: {first:?}", case.name);
            let row: String = cell.chars().filter(char::is_ascii_digit).collect();
            assert_eq!(first.row.as_deref(), Some(row.as_str()), "{}", case.name);
        }
        assert!(!first.message.is_empty());
    }
    assert!(
        store.surveys().unwrap().is_empty(),
        "nothing of a refused file is stored"
    );
    assert_eq!(store.generation().unwrap(), before);
    // Each refusal is in the audit trail of rejections.
    let audit = store.audit_log(None, 100).unwrap();
    assert_eq!(audit.iter().filter(|a| a.action == "return.rejected").count(), 10);
}

#[test]
fn a_survey_resubmitted_is_a_new_version_and_the_same_file_changes_nothing() {
    let cat = bundled_catalog();
    let store = memory_store();
    let head = pbgdpl_fixtures::survey::header();
    let mut rows = export(&cat, 23);
    let first = pbgdpl_fixtures::survey::to_xlsx(&head, &rows);
    let r1 = ingest_survey(&cat, &store, file("ks.xlsx", &first), &opts(), None).unwrap();
    assert_eq!(
        (r1.status.as_str(), r1.version),
        ("new_version", Some(1)),
        "{:?}",
        r1.errors
    );
    let again = ingest_survey(&cat, &store, file("ks.xlsx", &first), &opts(), None).unwrap();
    assert_eq!((again.status.as_str(), again.version), ("unchanged", Some(1)));
    // The same answers as CSV are the same survey: unchanged too.
    let csv = pbgdpl_fixtures::survey::to_csv(&head, &rows, false);
    let same = ingest_survey(&cat, &store, file("ks.csv", &csv), &opts(), None).unwrap();
    assert_eq!(same.status, "unchanged", "{:?}", same.errors);
    rows.truncate(rows.len() - 10);
    let fewer = pbgdpl_fixtures::survey::to_csv(&head, &rows, false);
    let r2 = ingest_survey(&cat, &store, file("ks2.csv", &fewer), &opts(), None).unwrap();
    assert_eq!((r2.status.as_str(), r2.version), ("new_version", Some(2)));
    let latest = store.surveys().unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!((latest[0].version, latest[0].rows.len()), (2, rows.len()));
}

#[test]
fn the_command_line_ingests_a_survey_and_shows_the_interval_in_indicators_and_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let cat = bundled_catalog();
    let store = store_on_disk(&cat, dir.path());
    let rows = export(&cat, 29);
    let file = dir.path().join("khao-sat.csv");
    std::fs::write(
        &file,
        pbgdpl_fixtures::survey::to_csv(&pbgdpl_fixtures::survey::header(), &rows, true),
    )
    .unwrap();
    let st = store.display().to_string();
    let out = run(
        &["--store", &st, "survey", "ingest", "khao-sat.csv", "--period", PERIOD],
        dir.path(),
    );
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains(&format!("đã nhận {} phiếu", rows.len())), "{said}");

    let out = run(
        &["--store", &st, "indicators", "--period", PERIOD, "--format", "json"],
        dir.path(),
    );
    let values: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cds5 = values
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["indicator"] == "CDS-5" && v["unit"] == "51")
        .unwrap();
    assert_eq!(cds5["source"], "survey");
    assert!(cds5["survey"]["margin"].as_f64().unwrap() > 0.0);
    let out = run(&["--store", &st, "indicators", "--period", PERIOD], dir.path());
    assert!(String::from_utf8_lossy(&out.stdout).contains("(±"));

    // A refused file exits 1 and names the row.
    let mut bad = rows.clone();
    bad[4][8] = "7".into();
    std::fs::write(
        &file,
        pbgdpl_fixtures::survey::to_csv(&pbgdpl_fixtures::survey::header(), &bad, false),
    )
    .unwrap();
    let out = run(
        &["--store", &st, "survey", "ingest", "khao-sat.csv", "--period", PERIOD],
        dir.path(),
    );
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("[bad_answer] I6") && said.contains("Dòng 6"), "{said}");

    // The report's workbook and narrative state the source and the interval.
    let out = run(
        &[
            "--store",
            &st,
            "report",
            "--period",
            PERIOD,
            "--out",
            dir.path().join("out").to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let docx = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "docx"))
        .unwrap();
    let mut zip = zip::ZipArchive::new(std::fs::File::open(docx).unwrap()).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut xml).unwrap();
    assert!(
        xml.contains("khảo sát KS-CDS") && xml.contains("độ tin cậy 95 %"),
        "narrative"
    );
}

#[test]
fn a_survey_uploaded_through_the_api_shows_its_interval_in_the_api_and_on_the_pages() {
    let dir = tempfile::tempdir().unwrap();
    let cat = bundled_catalog();
    let store = store_on_disk(&cat, dir.path());
    let st = store.display().to_string();
    let add = |name: &str, role: &str, unit: Option<&str>| {
        let mut args = vec!["--store", st.as_str(), "user", "add", name, "--role", role];
        args.extend(unit.iter().flat_map(|u| ["--unit", *u]));
        let out = run(&args, dir.path());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let admin = add("stp", "admin", None);
    let ward = add("phuong", "reporter", Some("21025"));
    let rows = export(&cat, 37);
    let file = dir.path().join("khao-sat.xlsx");
    std::fs::write(
        &file,
        pbgdpl_fixtures::survey::to_xlsx(&pbgdpl_fixtures::survey::header(), &rows),
    )
    .unwrap();
    let server = crate::support::Server::start_with(&store, &crate::support::repo().join("fixtures/catalog/units.csv"));
    let url = format!("{}/api/v1/surveys/upload", server.base);

    // A ward's reporter may not send the province's survey.
    let (status, _) = crate::support::multipart(&url, &ward, &file, &[("period", PERIOD)]);
    assert_eq!(status, 403);
    let (status, body) = crate::support::multipart(&url, &admin, &file, &[("period", PERIOD)]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["status"].as_str(), body["respondents"].as_u64()),
        (Some("new_version"), Some(rows.len() as u64))
    );

    let (status, values) = crate::support::call(
        ureq::get(&format!("{}/api/v1/indicators?period={PERIOD}&unit=51", server.base)),
        Some(&admin),
        None,
    );
    assert_eq!(status, 200);
    let cds5 = values
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["indicator"] == "CDS-5" && v["unit"] == "51")
        .unwrap();
    assert_eq!(cds5["source"], "survey");
    assert!(cds5["survey"]["low"].as_f64().unwrap() < cds5["value"].as_f64().unwrap());

    let (cookie, _) = crate::support::session_cookie(&store, "stp");
    for path in [
        format!("/?period={PERIOD}"),
        format!("/chi-tieu/CDS-5?period={PERIOD}&unit=51"),
    ] {
        let page = ureq::get(&format!("{}{path}", server.base))
            .set("Cookie", &cookie)
            .call()
            .unwrap()
            .into_string()
            .unwrap();
        assert!(page.contains("Nguồn: khảo sát KS-CDS"), "{path}");
        assert!(page.contains("(±"), "{path}");
    }
}
