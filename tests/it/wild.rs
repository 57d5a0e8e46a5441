//! Workbooks as Excel really writes them, read exactly: the 1904 date system of Excel for Mac, the
//! binary .xlsb, a macro-enabled .xlsm (`fixtures/samples/wild/`, made by its `make.mjs`), and a
//! chart sheet beside the return; and a folder ingest that names every file it cannot read.

use std::collections::BTreeMap;
use std::path::PathBuf;

use pbgdpl_catalog::model::{ReturnStatus, Value};
use pbgdpl_ingest::pipeline;
use pbgdpl_ingest::read::{Limits, WorkbookOutcome, read_workbook};
use serde_json::Value as Json;

use crate::support::{memory_store, opts, repo, sample_catalog};

fn wild() -> PathBuf {
    repo().join("fixtures/samples/wild")
}

/// (unit, form) → (row, column) → value, as the reader gives it.
type Read = BTreeMap<(String, String), BTreeMap<(String, u32), Value>>;

fn read(bytes: &[u8]) -> Read {
    let cat = sample_catalog();
    let WorkbookOutcome::Returns(returns) = read_workbook(&cat, "wild", bytes, &Limits::default()) else {
        panic!("the workbook was refused")
    };
    let mut out = Read::new();
    for (draft, issues) in returns {
        assert!(issues.is_empty(), "{issues:#?}");
        let key = (draft.unit.clone().unwrap(), draft.form.clone().unwrap());
        out.insert(
            key,
            draft.values.into_iter().map(|v| ((v.row, v.column), v.value)).collect(),
        );
    }
    out
}

fn truth() -> Read {
    let t: Json = serde_json::from_str(&std::fs::read_to_string(wild().join("truth.json")).unwrap()).unwrap();
    let mut out = Read::new();
    for r in t["returns"].as_array().unwrap() {
        let cells = r["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                let value = match &v["value"] {
                    Json::Number(n) => Value::Int(n.as_i64().unwrap()),
                    other => Value::Text(other.as_str().unwrap().to_owned()),
                };
                (
                    (
                        v["row"].as_str().unwrap().to_owned(),
                        v["column"].as_u64().unwrap() as u32,
                    ),
                    value,
                )
            })
            .collect();
        out.insert(
            (
                r["unit"].as_str().unwrap().to_owned(),
                r["form"].as_str().unwrap().to_owned(),
            ),
            cells,
        );
    }
    out
}

#[test]
fn the_1904_date_system_xlsb_and_xlsm_read_exactly() {
    let want = truth();
    for file in ["mac_1904.xlsx", "binary.xlsb", "macros.xlsm"] {
        let have = read(&std::fs::read(wild().join(file)).unwrap());
        assert_eq!(have, want, "{file}");
    }
    // The completion dates in particular: 15/03/2026, not four years and a day earlier.
    let have = read(&std::fs::read(wild().join("mac_1904.xlsx")).unwrap());
    assert_eq!(
        have[&("STP".to_owned(), "F03".to_owned())][&("NV02".to_owned(), 2)],
        Value::Text("2026-03-15".into())
    );
}

#[test]
fn a_chart_sheet_is_passed_over_like_any_sheet_that_is_not_a_return() {
    use rust_xlsxwriter::{Chart, ChartType, Workbook};
    let mut wb = Workbook::new();
    // The chart sheet first, as people put a summary chart in front.
    let chart_sheet = wb.add_chartsheet();
    chart_sheet.set_name("Biểu đồ").unwrap();
    let mut chart = Chart::new(ChartType::Column);
    chart.add_series().set_values("='Biểu 01'!$D$9:$D$16");
    chart_sheet.insert_chart(0, 0, &chart).unwrap();
    let ws = wb.add_worksheet();
    ws.set_name("Biểu 01").unwrap();
    let rows: [&[&str]; 8] = [
        &["Biểu số 01/CĐS-PBGDPL"],
        &["Đơn vị báo cáo: Phường Thạnh Lý"],
        &["Mã đơn vị: 99001"],
        &["KẾT QUẢ THỰC HIỆN CHUYỂN ĐỔI SỐ TRONG CÔNG TÁC PHỔ BIẾN, GIÁO DỤC PHÁP LUẬT"],
        &["Kỳ báo cáo: 6 tháng đầu năm 2026"],
        &[],
        &["Mã số", "Chỉ tiêu", "Đơn vị tính", "Tổng số", "Thành thị", "Nông thôn"],
        &["(A)", "(B)", "(C)", "(1)", "(2)", "(3)"],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, text) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, *text).unwrap();
        }
    }
    let figures: [(&str, &[f64]); 8] = [
        ("01", &[5000.0, 5000.0, 0.0]),
        ("02", &[3000.0, 3000.0, 0.0]),
        ("03", &[20.0]),
        ("04", &[15.0]),
        ("05", &[4.0]),
        ("06", &[3.0]),
        ("07", &[100.0]),
        ("08", &[90.0]),
    ];
    for (i, (code, values)) in figures.iter().enumerate() {
        let r = 8 + i as u32;
        ws.write_string(r, 0, *code).unwrap();
        for (j, v) in values.iter().enumerate() {
            ws.write_number(r, 3 + j as u16, *v).unwrap();
        }
    }
    let bytes = wb.save_to_buffer().unwrap();
    let have = read(&bytes);
    let want = truth();
    let key = ("99001".to_owned(), "F01".to_owned());
    assert_eq!(have.get(&key), want.get(&key));
    assert_eq!(have.len(), 1, "the chart sheet is no return");
}

#[test]
fn a_folder_ingest_lists_every_file_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(wild().join("binary.xlsb"), dir.path().join("binary.xlsb")).unwrap();
    std::fs::write(dir.path().join("ghi-chu.txt"), "Ghi chú: nộp trước 06/06").unwrap();
    std::fs::write(dir.path().join("bao-cao.pdf"), b"%PDF-1.7 not a workbook").unwrap();
    std::fs::write(dir.path().join("~$binary.xlsb"), b"lock").unwrap();
    let collected = pipeline::collect_files(&[dir.path().to_owned()]).unwrap();
    assert_eq!(
        collected.skipped.len(),
        1,
        "the Office lock file is left out, and counted"
    );
    let store = memory_store();
    let summary = pipeline::ingest_files(&sample_catalog(), &store, &collected.files, &opts(), &mut |_, _| {}).unwrap();
    let refused: Vec<_> = summary
        .returns
        .iter()
        .filter(|r| r.status == ReturnStatus::Rejected)
        .map(|r| (r.file.clone().unwrap(), r.errors[0].rule.id()))
        .collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    for (file, rule) in &refused {
        assert!(file.ends_with(".txt") || file.ends_with(".pdf"), "{file}");
        assert_eq!(*rule, "not_a_workbook");
    }
    let accepted = summary
        .returns
        .iter()
        .filter(|r| r.status == ReturnStatus::Accepted)
        .count();
    assert_eq!(accepted, 2, "both returns of the .xlsb");
}
