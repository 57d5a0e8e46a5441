//! The narrative report: its text pinned by a snapshot, and the .docx opened by LibreOffice.

use std::path::Path;
use std::process::Command;

use pbgdpl_catalog::{Period, PeriodSpec};
use pbgdpl_engine::Engine;
use pbgdpl_ingest::pipeline;
use pbgdpl_reports::bundle::Report;

use crate::support::{engine_of, memory_store, opts, sample_catalog, samples};

/// A report's facts, computed by the engine as the CLI and the web app compute them.
fn report<'e>(engine: &'e Engine, period: &str, unit: &str) -> Report<'e> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(Report::compute(engine, Period::parse(period).unwrap(), unit))
        .unwrap()
}

#[test]
fn the_narrative_report_of_the_samples() {
    let cat = sample_catalog();
    let store = memory_store();
    let files = pipeline::collect_files(&[samples().join("returns")]).unwrap().files;
    pipeline::ingest_files(&cat, &store, &files, &opts(), &mut |_, _| {}).unwrap();
    let engine = engine_of(&cat, &store);
    let input = report(&engine, "2026S1", "99");
    let date = chrono::NaiveDate::from_ymd_opt(2026, 6, 25).unwrap();
    let blocks = pbgdpl_reports::narrative::narrative(&input, date);
    let text = pbgdpl_reports::narrative::to_text(&blocks);
    assert!(text.contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") && text.contains("Độc lập - Tự do - Hạnh phúc"));
    assert!(
        text.contains("CDS-1: đạt 73,48%"),
        "figures from the engine, written the Vietnamese way"
    );
    insta::assert_snapshot!("narrative_2026S1", text);

    // LibreOffice opens the .docx and converts it to PDF.
    let dir = tempfile::tempdir().unwrap();
    let docx = dir.path().join("bao-cao.docx");
    let bytes = pbgdpl_reports::narrative::to_docx(&blocks).unwrap();
    // The chart of the indicators is in the document as a PNG, referenced from its body.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
    let media: Vec<String> = zip
        .file_names()
        .filter_map(Result::ok)
        .filter(|n| n.starts_with("word/media/") && n.ends_with(".png"))
        .map(|n| n.into_owned())
        .collect();
    assert_eq!(media.len(), 1, "one chart: {media:?}");
    let mut png = Vec::new();
    std::io::Read::read_to_end(&mut zip.by_name(&media[0]).unwrap(), &mut png).unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "a real PNG"
    );
    let mut body = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut body).unwrap();
    assert!(body.contains("<pic:pic"), "the body places the picture");
    // Page numbers in the top margin from page 2 (Nghị định 30): a PAGE field, a blank first page header.
    assert!(body.contains("<w:titlePg"), "a different first page");
    let headers: Vec<String> = zip
        .file_names()
        .filter_map(Result::ok)
        .filter(|n| n.starts_with("word/header"))
        .map(|n| n.into_owned())
        .collect();
    let with_page = headers
        .iter()
        .filter(|h| {
            let mut xml = String::new();
            std::io::Read::read_to_string(&mut zip.by_name(h).unwrap(), &mut xml).unwrap();
            xml.contains(">PAGE<")
        })
        .count();
    assert_eq!((headers.len(), with_page), (2, 1), "{headers:?}");
    std::fs::write(&docx, &bytes).unwrap();
    let out = Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            dir.path().join("lo").display()
        ))
        .args(["--headless", "--norestore", "--convert-to", "pdf", "--outdir"])
        .arg(dir.path())
        .arg(&docx)
        .output()
        .expect("LibreOffice is installed by scripts/test.sh");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pdf = dir.path().join("bao-cao.pdf");
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF") && bytes.len() > 10_000, "a real PDF");
    // Keep a copy to look at (pdftoppm renders it to PNG).
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../screenshots/bao-cao-2026S1.pdf");
    let _ = std::fs::create_dir_all(keep.parent().unwrap());
    let _ = std::fs::copy(&pdf, keep);
}

#[test]
fn the_report_workbook_adds_up_the_sample_returns_exactly() {
    let dir = tempfile::tempdir().unwrap();
    // The sample province with its plan: the task sheet and the targets are part of the report.
    let catalog = crate::support::sample_catalog_dir(dir.path()).display().to_string();
    let store = dir.path().join("store").display().to_string();
    let returns = samples().join("returns").display().to_string();
    assert!(
        // A fixed receipt day: the completeness sheet's dates and statuses must not depend on the day the
        // test runs (the 2026S1 deadline is 06/06/2026).
        crate::support::run(
            &[
                "--store",
                &store,
                "--catalog",
                &catalog,
                "ingest",
                "--received-at",
                "2026-06-05",
                &returns
            ],
            dir.path()
        )
        .status
        .success()
    );
    let out = crate::support::run(
        &[
            "--store",
            &store,
            "--catalog",
            &catalog,
            "report",
            "--period",
            "2026S1",
            "--out",
            "out",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(samples().join("truth.json")).unwrap()).unwrap();
    let mut sums: std::collections::BTreeMap<(String, String, u32), i64> = Default::default();
    for r in truth["returns"].as_array().unwrap() {
        for v in r["values"].as_array().unwrap() {
            let key = (
                r["form"].as_str().unwrap().to_owned(),
                v["row"].as_str().unwrap().to_owned(),
                v["column"].as_u64().unwrap() as u32,
            );
            *sums.entry(key).or_default() += v["value"].as_i64().unwrap();
        }
    }
    use calamine::{DataType, Reader};
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook(dir.path().join("out/bao-cao-pbgdpl-99-2026S1.xlsx")).unwrap();
    let mut checked = 0;
    for (form, sheet) in [("F01", "Biểu 01"), ("F02", "Biểu 02")] {
        let range = wb.worksheet_range(sheet).unwrap();
        for row in range.rows() {
            let code = row[0].to_string();
            for c in 1..=3u32 {
                if let Some(want) = sums.get(&(form.to_owned(), code.clone(), c)) {
                    assert_eq!(
                        row[2 + c as usize].as_f64().map(|f| f as i64),
                        Some(*want),
                        "{form} {code} ({c})"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(
        checked,
        sums.len(),
        "every province total of the sample forms is in the workbook"
    );
    // The province-level sheets as text: layout (merged title and headers), labels and figures.
    let bytes = std::fs::read(dir.path().join("out/bao-cao-pbgdpl-99-2026S1.xlsx")).unwrap();
    let names = wb.sheet_names();
    let province: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .take_while(|n| n.starts_with("Biểu"))
        .collect();
    assert_eq!(province, ["Biểu 01", "Biểu 02", "Biểu 03"]);
    let mut sheets = province.clone();
    sheets.extend(["Chỉ tiêu", "Tình hình nộp báo cáo"]);
    insta::assert_snapshot!("report_workbook_2026S1", crate::support::xlsx_dump(&bytes, &sheets));
}

#[test]
fn a_blank_template_has_the_two_level_header_of_the_form() {
    let cat = sample_catalog();
    let unit = cat
        .units
        .list
        .iter()
        .find(|u| u.kind == pbgdpl_catalog::UnitKind::Commune)
        .unwrap();
    let period = Period::parse("2026S1").unwrap();
    let forms: Vec<_> = cat.forms_due(unit, &period).into_iter().map(|f| (f, None)).collect();
    let bytes = pbgdpl_reports::template::return_workbook(&cat, unit, &period, &forms).unwrap();
    let dump = crate::support::xlsx_dump(&bytes, &["Biểu 01"]);
    // `Chia ra` spans Thành thị and Nông thôn; Mã số and Tổng số run down both header rows.
    assert!(
        dump.contains("merged: ") && dump.contains("E8:F8") && dump.contains("A8:A9") && dump.contains("D8:D9"),
        "{dump}"
    );
    insta::assert_snapshot!("template_F01", dump);
}

#[test]
fn the_annual_report_sets_each_figure_beside_the_year_before() {
    use crate::support::{Cell, engine_over};
    let cat = sample_catalog();
    // A ward: 600 of 1,000 residents reached in 2025, 750 in 2026; 80 then 100 dissemination sessions.
    let cells: Vec<Cell<'_>> = vec![
        ("99001", "F01", "2025", "01", 1, 1000),
        ("99001", "F01", "2025", "02", 1, 600),
        ("99001", "F01", "2026", "01", 1, 1000),
        ("99001", "F01", "2026", "02", 1, 750),
        ("99001", "F02", "2025", "01", 1, 40),
        ("99002", "F02", "2025", "01", 1, 40),
        ("99001", "F02", "2026", "01", 1, 50),
        ("99002", "F02", "2026", "01", 1, 50),
    ];
    let engine = engine_over(&cat, &cells, &[]);
    let input = report(&engine, "2026", "99");
    let date = chrono::NaiveDate::from_ymd_opt(2027, 2, 10).unwrap();
    let text = pbgdpl_reports::narrative::to_text(&pbgdpl_reports::narrative::narrative(&input, date));
    // Indicators: this year, then the year before, in the table and in the chart's data.
    assert!(
        text.contains("| CDS-1 | Tỷ lệ người dân khu vực thành thị") && text.contains("| 75,00% | 60,00% |"),
        "{text}"
    );
    assert!(
        text.contains("CDS-1: 75,00% (mục tiêu 80%; năm trước 60,00%)"),
        "{text}"
    );
    assert!(text.contains("cột xám: năm trước"), "{text}");
    // Activities: summed over the units, with the change.
    assert!(text.contains("| Tổng số | Năm trước | Tăng, giảm |"), "{text}");
    assert!(text.contains("| 100 | 80 | +25,0% |"), "{text}");
    // A report on one unit names it in the title.
    let ward = report(&engine, "2026", "99001");
    let text_ward = pbgdpl_reports::narrative::to_text(&pbgdpl_reports::narrative::narrative(&ward, date));
    assert!(
        text_ward.contains("    Phường Thạnh Lý, năm 2026 (chính thức) ("),
        "{text_ward}"
    );
    assert!(!text.contains("Phường Thạnh Lý, năm"), "the province's report does not");
    // The semiannual report has no such columns.
    let input = report(&engine, "2026S1", "99");
    let text = pbgdpl_reports::narrative::to_text(&pbgdpl_reports::narrative::narrative(&input, date));
    assert!(!text.contains("Năm trước"), "{text}");
}

/// The report's year before and the engine agree unit by unit: a unit that filed only a preliminary
/// return for the year before counts in both (before, the report took the official returns of the
/// whole period or else the preliminary ones, and dropped such a unit from the activity counts).
#[test]
fn r15_the_year_before_counts_a_unit_that_filed_only_a_preliminary_return() {
    use crate::support::{Cell, engine_over};
    let cat = sample_catalog();
    let cells: Vec<Cell<'_>> = vec![
        // 2025: ward 99001 sent its official return, commune 99002 only the preliminary one.
        ("99001", "F02", "2025", "01", 1, 40),
        ("99002", "F02", "2025P", "01", 1, 30),
        ("99001", "F02", "2026", "01", 1, 50),
        ("99002", "F02", "2026", "01", 1, 50),
        ("99001", "F01", "2025", "01", 1, 1000),
        ("99001", "F01", "2025", "02", 1, 600),
        ("99002", "F01", "2025P", "01", 3, 1000),
        ("99002", "F01", "2025P", "02", 3, 500),
        ("99001", "F01", "2026", "01", 1, 1000),
        ("99001", "F01", "2026", "02", 1, 700),
    ];
    let engine = engine_over(&cat, &cells, &[]);
    let input = report(&engine, "2026", "99");
    let previous = input.previous.as_ref().unwrap();
    // 40 official + 30 preliminary, as the engine's own figures for 2025 have it.
    let totals = compute_totals(&engine, "2025", "99");
    assert_eq!(totals.get(&("F02".into(), "01".into(), 1)), Some(&70));
    assert_eq!(previous.totals, totals, "the report's year before is the engine's");
    let date = chrono::NaiveDate::from_ymd_opt(2027, 2, 10).unwrap();
    let text = pbgdpl_reports::narrative::to_text(&pbgdpl_reports::narrative::narrative(&input, date));
    assert!(text.contains("| 100 | 70 | +42,9% |"), "{text}");
    // The indicators of the year before use the same returns: the commune's preliminary rural figures.
    let cds2 = previous
        .indicators
        .iter()
        .find(|v| v.indicator == "CDS-2" && v.unit == "99")
        .unwrap();
    assert_eq!((cds2.numerator, cds2.denominator), (Some(500), Some(1000)));
}

fn compute_totals(engine: &Engine, period: &str, unit: &str) -> pbgdpl_engine::Cells {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(engine.form_totals(&PeriodSpec::parse(period).unwrap(), unit))
        .unwrap()
}
