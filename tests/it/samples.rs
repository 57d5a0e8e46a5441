//! The sample province's returns through the whole pipeline: every value read exactly, the indicators
//! of the independent reference, every invalid file rejected where it should be with nothing stored.

use std::collections::BTreeMap;

use pbgdpl_catalog::model::{ImportSummary, JsonReturn, JsonValue, ReturnStatus as Status, Value};
use pbgdpl_ingest::pipeline;
use pbgdpl_store::Store;
use serde_json::Value as Json;

use crate::support::{compute, engine_of, memory_store, opts, sample_catalog, samples};

fn truth() -> Json {
    serde_json::from_str(&std::fs::read_to_string(samples().join("truth.json")).unwrap()).unwrap()
}

fn ingest(store: &dyn Store, dir: &str) -> ImportSummary {
    let cat = sample_catalog();
    let files = pipeline::collect_files(&[samples().join(dir)]).unwrap().files;
    pipeline::ingest_files(&cat, store, &files, &opts(), &mut |_, _| {}).unwrap()
}

#[test]
fn every_sample_return_is_read_exactly() {
    let store = memory_store();
    let summary = ingest(&store, "returns");
    let rejected: Vec<_> = summary
        .returns
        .iter()
        .filter(|r| r.status != Status::Accepted)
        .collect();
    assert!(rejected.is_empty(), "{rejected:#?}");
    assert_eq!(summary.returns.len(), 66, "33 workbooks × 2 forms");
    let mut want = BTreeMap::new();
    for r in truth()["returns"].as_array().unwrap() {
        for v in r["values"].as_array().unwrap() {
            let key = (
                r["unit"].as_str().unwrap().to_owned(),
                r["form"].as_str().unwrap().to_owned(),
                v["row"].as_str().unwrap().to_owned(),
                v["column"].as_u64().unwrap() as u32,
            );
            want.insert(key, v["value"].as_i64().unwrap());
        }
    }
    let have: BTreeMap<_, _> = store
        .latest_values(Some("2026S1"))
        .unwrap()
        .into_iter()
        .map(|v| ((v.unit, v.form, v.row, v.column), v.value))
        .collect();
    assert_eq!(have.len(), want.len(), "no value more, none less");
    for (k, w) in &want {
        assert_eq!(have.get(k), Some(&Value::Int(*w)), "{k:?}");
    }
}

#[test]
fn re_ingesting_the_same_files_changes_nothing() {
    let store = memory_store();
    ingest(&store, "returns");
    let again = ingest(&store, "returns");
    assert!(
        again
            .returns
            .iter()
            .all(|r| r.status == Status::Unchanged && r.version == Some(1))
    );
    assert_eq!(store.returns(None).unwrap().len(), 66);
}

#[test]
fn sample_indicators_match_the_independent_reference() {
    let store = memory_store();
    ingest(&store, "returns");
    let engine = engine_of(&sample_catalog(), &store);
    let got = compute(&engine, "2026S1", "99");
    let expected: BTreeMap<String, f64> =
        serde_json::from_str(&std::fs::read_to_string(samples().join("expected_indicators.json")).unwrap()).unwrap();
    for (code, want) in expected {
        let v = got
            .iter()
            .find(|v| v.indicator == code && v.unit == "99")
            .unwrap_or_else(|| panic!("{code} missing"));
        let value = v.value.unwrap_or_else(|| panic!("{code} has no value"));
        assert!((value - want).abs() <= 0.01, "{code}: {value} vs {want}");
    }
}

#[test]
fn every_invalid_file_is_rejected_at_the_right_cell_and_nothing_is_stored() {
    let store = memory_store();
    let summary = ingest(&store, "invalid");
    let expected: Json =
        serde_json::from_str(&std::fs::read_to_string(samples().join("invalid_expected.json")).unwrap()).unwrap();
    for case in expected.as_array().unwrap() {
        let file = case["file"].as_str().unwrap();
        let reports: Vec<_> = summary
            .returns
            .iter()
            .filter(|r| r.file.as_deref().is_some_and(|f| f.ends_with(file)))
            .collect();
        assert!(
            !reports.is_empty() && reports.iter().all(|r| r.status == Status::Rejected),
            "{file}: {reports:#?}"
        );
        let rule = case["rule"].as_str().unwrap();
        let errors: Vec<_> = reports.iter().flat_map(|r| &r.errors).collect();
        let hit = errors
            .iter()
            .find(|e| e.rule.id() == rule)
            .unwrap_or_else(|| panic!("{file}: no {rule} in {errors:#?}"));
        if let Some(cell) = case["cell"].as_str() {
            assert_eq!(hit.cell.as_deref(), Some(cell), "{file}");
        }
        assert!(!hit.message.is_empty());
    }
    assert!(
        store.returns(None).unwrap().is_empty(),
        "nothing of a rejected return is stored"
    );
    assert!(store.latest_values(None).unwrap().is_empty());
}

#[test]
fn a_sheet_that_lost_a_row_is_rejected_with_missing_row() {
    let cat = sample_catalog();
    let period = pbgdpl_catalog::Period::parse("2026S1").unwrap();
    let unit = cat.units.get("99001").unwrap();
    let mut form = cat.form("F02").unwrap().clone();
    form.rows.retain(|r| r.code != "05");
    let bytes = pbgdpl_reports::template::return_workbook(&cat, unit, &period, &[(&form, None)]).unwrap();
    let store = memory_store();
    let summary = pipeline::ingest_upload(&cat, &store, "retyped.xlsx", &bytes, &opts(), None).unwrap();
    let errors = &summary.returns[0].errors;
    assert_eq!(summary.returns[0].status, Status::Rejected);
    assert!(
        errors
            .iter()
            .any(|e| e.rule.id() == "missing_row" && e.row.as_deref() == Some("05")),
        "{errors:#?}"
    );
}

#[test]
fn a_value_that_jumps_against_last_year_is_a_warning_not_an_error() {
    let cat = sample_catalog();
    let store = memory_store();
    let ret = |period: &str, attendees: i64| {
        let mut d = JsonReturn {
            form: "F02".into(),
            unit: "99001".into(),
            period: period.into(),
            values: Vec::new(),
        };
        d.values.push(JsonValue {
            row: "02".into(),
            column: 1,
            value: Value::Int(attendees),
        });
        d.into_draft()
    };
    let first = pipeline::ingest_drafts(&cat, &store, vec![ret("2025S1", 400)], &opts()).unwrap();
    assert!(first.returns[0].warnings.is_empty());
    let jump = pipeline::ingest_drafts(&cat, &store, vec![ret("2026S1", 4_000)], &opts()).unwrap();
    let r = &jump.returns[0];
    assert_eq!(r.status, Status::Accepted, "{r:#?}");
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(
        (
            r.warnings[0].rule.id(),
            r.warnings[0].row.as_deref(),
            r.warnings[0].column
        ),
        ("jump", Some("02"), Some(1))
    );
}

#[test]
fn a_sheet_beyond_the_row_limit_is_too_large() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "Biểu số 01/CĐS-PBGDPL").unwrap();
    for r in 1..=10_050u32 {
        ws.write_number(r, 0, f64::from(r)).unwrap();
    }
    let bytes = wb.save_to_buffer().unwrap();
    let cat = sample_catalog();
    let store = memory_store();
    let summary = pipeline::ingest_upload(&cat, &store, "long.xlsx", &bytes, &opts(), None).unwrap();
    let r = &summary.returns[0];
    assert_eq!(r.status, Status::Rejected);
    assert_eq!(r.errors[0].rule.id(), "too_large");
    assert_eq!(r.errors[0].sheet.as_deref(), Some("Sheet1"));
}
