//! The command line as scripts use it: exit codes, JSON shapes, the report and the generator round trip.

use std::path::Path;

use serde_json::Value as Json;

use crate::support::{run, samples};

fn stdout_json(out: &std::process::Output) -> Json {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn units_arg() -> String {
    samples().join("units.csv").display().to_string()
}

#[test]
fn ingest_export_and_indicators_of_the_samples() {
    let dir = tempfile::tempdir().unwrap();
    let units = units_arg();
    let returns = samples().join("returns").display().to_string();
    let out = run(&["--units", &units, "ingest", "--json", &returns], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = stdout_json(&out);
    let entries = summary["returns"].as_array().unwrap();
    assert_eq!(entries.len(), 66);
    assert!(entries.iter().all(|r| r["status"] == "accepted" && r["version"] == 1));
    // Exactly the shape of interfaces.md.
    let first = entries[0].as_object().unwrap();
    for key in [
        "file", "sheet", "form", "unit", "period", "status", "version", "errors", "warnings",
    ] {
        assert!(first.contains_key(key), "missing {key}");
    }
    let export = stdout_json(&run(
        &["--units", &units, "export", "--period", "2026S1", "--format", "json"],
        dir.path(),
    ));
    assert_eq!(export.as_array().unwrap().len(), 807);
    let row = export
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["unit"] == "99001" && v["form"] == "F01" && v["row"] == "01" && v["column"] == 1)
        .unwrap();
    assert_eq!(row["value"], 23424);
    let table = run(&["--units", &units, "indicators", "--period", "2026S1"], dir.path());
    assert!(table.status.success());
    insta::assert_snapshot!("indicators_table_2026S1", String::from_utf8_lossy(&table.stdout));
    // The same files again: nothing changes.
    let again = stdout_json(&run(&["--units", &units, "ingest", "--json", &returns], dir.path()));
    assert!(
        again["returns"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "unchanged")
    );
}

#[test]
fn rejections_exit_1_and_name_rule_and_cell() {
    let dir = tempfile::tempdir().unwrap();
    let units = units_arg();
    let invalid = samples().join("invalid").display().to_string();
    let out = run(&["--units", &units, "ingest", "--json", &invalid], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let summary = stdout_json(&out);
    let mut lines: Vec<String> = summary["returns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let file = Path::new(r["file"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let errs: Vec<String> = r["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    format!(
                        "{}@{} {}",
                        e["rule"].as_str().unwrap(),
                        e["cell"].as_str().unwrap_or("-"),
                        e["message"].as_str().unwrap()
                    )
                })
                .collect();
            format!("{file} {}: {}", r["status"].as_str().unwrap(), errs.join(" | "))
        })
        .collect();
    lines.sort();
    insta::assert_snapshot!("invalid_samples", lines.join("\n"));
    let export = stdout_json(&run(
        &["--units", &units, "export", "--period", "2026S1", "--format", "json"],
        dir.path(),
    ));
    assert_eq!(export, serde_json::json!([]), "nothing of a rejected return is stored");
}

#[test]
fn period_option_dry_run_and_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let units = units_arg();
    let one = samples().join("returns/99001_2026S1.xlsx").display().to_string();
    let out = run(
        &["--units", &units, "ingest", "--json", "--period", "2026P", &one],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let s = stdout_json(&out);
    assert!(
        s["returns"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["errors"][0]["rule"] == "period_mismatch")
    );
    let dry = stdout_json(&run(
        &["--units", &units, "ingest", "--json", "--dry-run", &one],
        dir.path(),
    ));
    assert!(
        dry["returns"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "accepted" && r["version"].is_null())
    );
    let export = stdout_json(&run(
        &["--units", &units, "export", "--period", "2026S1", "--format", "json"],
        dir.path(),
    ));
    assert_eq!(export, serde_json::json!([]), "a dry run stores nothing");
    assert_eq!(run(&["ingest"], dir.path()).status.code(), Some(2));
    assert_eq!(
        run(&["--units", &units, "ingest", "--period", "2026Q3", &one], dir.path())
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn generated_returns_read_back_exactly_and_the_report_adds_them_up() {
    let dir = tempfile::tempdir().unwrap();
    let cat = pbgdpl_catalog::Catalog::from_source(&pbgdpl_fixtures::catalog::bundled_source()).unwrap();
    let period = pbgdpl_catalog::Period::parse("2026S1").unwrap();
    let generated = pbgdpl_fixtures::generate::generate(&cat, &period, 42, 0.05);
    let files = pbgdpl_fixtures::generate::write_workbooks(&cat, &period, &generated, &dir.path().join("in")).unwrap();
    assert!(files.len() > 90);
    let out = run(&["ingest", "--json", "--received-at", "2026-06-01", "in"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
            .chars()
            .take(2000)
            .collect::<String>()
    );
    let export = stdout_json(&run(&["export", "--period", "2026S1", "--format", "json"], dir.path()));
    let mut want = std::collections::BTreeMap::new();
    for r in &generated {
        for (form, values) in &r.forms {
            for v in values {
                want.insert(
                    (r.unit.clone(), form.clone(), v.row.clone(), v.column),
                    serde_json::to_value(&v.value).unwrap(),
                );
            }
        }
    }
    let have: std::collections::BTreeMap<_, _> = export
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                (
                    v["unit"].as_str().unwrap().to_owned(),
                    v["form"].as_str().unwrap().to_owned(),
                    v["row"].as_str().unwrap().to_owned(),
                    v["column"].as_u64().unwrap() as u32,
                ),
                v["value"].clone(),
            )
        })
        .collect();
    assert_eq!(
        have, want,
        "every generated value, F03 statuses and dates included, reads back exactly"
    );

    // The report's province sheet for F01 holds the sums of the returns.
    let rep = run(&["report", "--period", "2026S1", "--out", "out"], dir.path());
    assert!(rep.status.success(), "{}", String::from_utf8_lossy(&rep.stderr));
    let path = dir.path().join("out/bao-cao-pbgdpl-51-2026S1.xlsx");
    use calamine::{DataType, Reader};
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
    let sheet = wb.worksheet_range("Biểu 01").unwrap();
    let sum = |row: &str, col: u32| -> i64 {
        want.iter()
            .filter(|((_, f, r, c), _)| f == "F01" && r == row && *c == col)
            .map(|(_, v)| v.as_i64().unwrap())
            .sum()
    };
    let mut checked = 0;
    for r in sheet.rows() {
        let code = r[0].to_string();
        if let Some(row) = cat.form("F01").unwrap().row(&code) {
            for &c in &row.columns {
                let cell = &r[2 + c as usize];
                assert_eq!(cell.as_f64().map(|f| f as i64), Some(sum(&code, c)), "F01 {code} ({c})");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 12, "every F01 cell of the province sheet");
    // A sheet per reporting unit, with its own figures.
    let unit = &generated[0].unit;
    let own = wb.worksheet_range(unit).unwrap();
    let staff = want[&(unit.clone(), "F01".to_string(), "03".to_string(), 1)]
        .as_i64()
        .unwrap();
    let row = own
        .rows()
        .find(|r| r[0] == "03")
        .expect("row 03 of F01 on the unit's sheet");
    assert_eq!(row[2].as_f64().map(|f| f as i64), Some(staff));
    // The narrative document is written beside the workbook.
    assert!(dir.path().join("out/bao-cao-pbgdpl-51-2026S1.docx").exists());
}

#[test]
fn hostile_workbooks_are_parsed_in_a_bounded_worker_and_only_reject_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let units = units_arg();
    let hostile = crate::support::repo().join("fixtures/samples/hostile");
    let good = samples().join("returns/99001_2026S1.xlsx");
    // A sharedStrings table claiming four billion strings makes calamine abort the process that reads
    // it; here that process is the worker, and the good file after it is still accepted.
    let out = run(
        &[
            "--units",
            &units,
            "ingest",
            "--json",
            &hostile.display().to_string(),
            &good.display().to_string(),
        ],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "the import finishes and reports the rejections"
    );
    let summary = stdout_json(&out);
    let by_file = |name: &str| -> Vec<Json> {
        summary["returns"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["file"].as_str().unwrap().ends_with(name))
            .cloned()
            .collect()
    };
    for name in ["shared_strings_claim.xlsx", "rows_repeated.ods"] {
        let r = by_file(name);
        assert_eq!(r.len(), 1, "{name}");
        assert_eq!(r[0]["status"], "rejected");
        assert_eq!(r[0]["errors"][0]["rule"], "too_large", "{name}: {}", r[0]);
    }
    assert!(by_file("99001_2026S1.xlsx").iter().all(|r| r["status"] == "accepted"));
}

#[test]
fn the_human_summary_lists_problems_then_a_table_per_unit() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store").display().to_string();
    let out = run(
        &["--store", &store, "--units", "units.csv", "ingest", "invalid"],
        &samples(),
    );
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("ingest_invalid_human", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn a_locked_period_refuses_returns_until_it_is_unlocked() {
    let dir = tempfile::tempdir().unwrap();
    let units = units_arg();
    let file = samples().join("returns/99001_2026S1.xlsx").display().to_string();
    let lock = run(
        &["--units", &units, "period", "lock", "2026S1", "--by", "phong-pbgdpl"],
        dir.path(),
    );
    assert!(lock.status.success(), "{}", String::from_utf8_lossy(&lock.stderr));
    assert!(String::from_utf8_lossy(&lock.stdout).contains("Đã khóa kỳ 2026S1"));
    let list = run(&["--units", &units, "period", "list"], dir.path());
    let list = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(
        list.starts_with("2026S1\t") && list.trim_end().ends_with("\tphong-pbgdpl"),
        "{list}"
    );

    // Locked: refused with the rule, exit code 1, nothing stored.
    let out = run(&["--units", &units, "ingest", "--json", &file], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let summary = stdout_json(&out);
    let first = &summary["returns"][0];
    assert_eq!(first["status"], "rejected");
    assert_eq!(first["errors"][0]["rule"], "period_locked", "{first}");
    let export = stdout_json(&run(
        &["--units", &units, "export", "--period", "2026S1", "--format", "json"],
        dir.path(),
    ));
    assert_eq!(export, serde_json::json!([]));

    // Unlocked, the same file is accepted.
    assert!(
        run(&["--units", &units, "period", "unlock", "2026S1"], dir.path())
            .status
            .success()
    );
    let out = run(&["--units", &units, "ingest", "--json", &file], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        stdout_json(&out)["returns"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "accepted")
    );
    let list = run(&["--units", &units, "period", "list"], dir.path());
    assert!(list.stdout.is_empty());
    // A period that does not parse is a clear error.
    let bad = run(&["--units", &units, "period", "lock", "2026Q3"], dir.path());
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("2026Q3"));
}

/// HĐ-4 (F02 rows 03 + 04) summed over the generated returns of the units in `keep`.
fn hd4_of(
    cat: &pbgdpl_catalog::Catalog,
    generated: &[pbgdpl_fixtures::generate::UnitReturns],
    keep: impl Fn(&str) -> bool,
) -> f64 {
    let end = chrono::NaiveDate::from_ymd_opt(2020, 12, 31).unwrap();
    generated
        .iter()
        .filter(|r| keep(&cat.units.at(&r.unit, end).unwrap().key))
        .flat_map(|r| r.forms.iter().filter(|(f, _)| f == "F02").flat_map(|(_, v)| v))
        .filter(|v| (v.row == "03" || v.row == "04") && v.column == 1)
        .filter_map(|v| v.value.as_i64())
        .sum::<i64>() as f64
}

#[test]
fn returns_of_2020_workbooks_roll_up_to_todays_province_and_to_kon_tum_as_it_stood() {
    let dir = tempfile::tempdir().unwrap();
    let cat = pbgdpl_catalog::Catalog::from_source(&pbgdpl_fixtures::catalog::bundled_source()).unwrap();
    let period = pbgdpl_catalog::Period::parse("2020").unwrap();
    let generated = pbgdpl_fixtures::generate::generate(&cat, &period, 7, 0.0);
    let files = pbgdpl_fixtures::generate::write_workbooks(&cat, &period, &generated, &dir.path().join("in")).unwrap();
    assert!(
        files.len() > 300,
        "the communes, districts and departments of 2020: {}",
        files.len()
    );
    let out = run(&["ingest", "--json", "--received-at", "2021-01-10", "in"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    let find = |json: &Json, unit: &str| -> f64 {
        json.as_array()
            .unwrap()
            .iter()
            .find(|v| v["indicator"] == "HĐ-4" && v["unit"] == unit)
            .unwrap_or_else(|| panic!("HĐ-4 of {unit}"))["value"]
            .as_f64()
            .unwrap()
    };
    // Today's Quảng Ngãi holds old Quảng Ngãi and Kon Tum whole: every 2020 return counts in it.
    let today = stdout_json(&run(
        &["indicators", "--period", "2020", "--format", "json"],
        dir.path(),
    ));
    let everything = hd4_of(&cat, &generated, |_| true);
    assert!(everything > 0.0);
    assert!(
        (find(&today, "51") - everything).abs() < 1e-6,
        "{} vs {everything}",
        find(&today, "51")
    );

    // As it stood on 31/12/2020, Kon Tum (62) is a province of its own with its own units.
    let end = chrono::NaiveDate::from_ymd_opt(2020, 12, 31).unwrap();
    let tree = cat.units.tree(end);
    let kon_tum: std::collections::HashSet<String> =
        tree.subtree("62@2025-06-30").iter().map(|u| u.key.clone()).collect();
    assert!(
        kon_tum.len() > 90,
        "Kon Tum's districts, communes and departments: {}",
        kon_tum.len()
    );
    let then = stdout_json(&run(
        &[
            "indicators",
            "--period",
            "2020",
            "--unit",
            "62",
            "--as-of",
            "2020-12-31",
            "--format",
            "json",
        ],
        dir.path(),
    ));
    let want = hd4_of(&cat, &generated, |k| kon_tum.contains(k));
    assert!(want > 0.0 && want < everything);
    assert!((find(&then, "62@2025-06-30") - want).abs() < 1e-6);
    // A unit code that did not exist then is an input error, not an empty table.
    let none = run(
        &[
            "indicators",
            "--period",
            "2020",
            "--unit",
            "21548",
            "--as-of",
            "2020-12-31",
        ],
        dir.path(),
    );
    assert_eq!(none.status.code(), Some(2), "{}", String::from_utf8_lossy(&none.stderr));
}

/// An export of a period before 07/2025 holds the returns of the units of then under the unit
/// asked for, communes merged or divided since among them (the store keeps the codes as sent), and
/// an export of one of those communes only its own.
#[test]
fn an_export_of_2020_holds_the_communes_of_2020_merged_since() {
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("store");
    let store = pbgdpl_store::open(&store_dir).unwrap();
    // Xã Trà Bùi (21142) was divided on 01/07/2025; Phường Nguyễn Nghiêm (21025) kept its code.
    let subs: Vec<_> = ["21142", "21025"]
        .iter()
        .map(|unit| {
            let cell = pbgdpl_catalog::model::CellValue {
                row: "01".into(),
                column: 1,
                value: pbgdpl_catalog::model::Value::Int(1000),
                cell: None,
            };
            crate::incremental::submission(unit, "F01", "2020S1", vec![cell])
        })
        .collect();
    assert!(store.submit(&subs).unwrap().iter().all(Result::is_ok));
    drop(store);
    let s = store_dir.display().to_string();
    let export = |unit: &str| {
        let out = run(
            &[
                "--store", &s, "export", "--period", "2020S1", "--unit", unit, "--format", "json",
            ],
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let mut units: Vec<String> = stdout_json(&out)
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["unit"].as_str().unwrap().to_owned())
            .collect();
        units.sort();
        units
    };
    assert_eq!(export("51"), ["21025", "21142"]);
    assert_eq!(export("21142"), ["21142"]);
}
