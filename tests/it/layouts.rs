//! Property test: returns written with random real-world layouts read back exactly — rows shuffled,
//! blank and note rows, the table moved right and down behind an STT column, extra columns, numbers
//! as text in several styles, codes as numbers or quoted text, merged headers, NFD labels.

use pbgdpl_catalog::Catalog;
use pbgdpl_catalog::model::Value;
use pbgdpl_ingest::read::{Limits, WorkbookOutcome, read_workbook};
use pbgdpl_ingest::validate::{Context, validate};
use proptest::prelude::*;
use rust_xlsxwriter::{Format, Workbook};
use unicode_normalization::UnicodeNormalization;

#[derive(Debug, Clone)]
struct Layout {
    top: u32,
    left: u16,
    stt: bool,
    shuffle: Vec<usize>,
    blank_after: Vec<bool>,
    num_style: Vec<u8>,
    code_style: u8,
    notes: bool,
    merged_header: bool,
    nfd: bool,
    number_row: bool,
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        0u32..4,
        0u16..3,
        any::<bool>(),
        Just((0..9).collect::<Vec<usize>>()).prop_shuffle(),
        proptest::collection::vec(any::<bool>(), 9),
        proptest::collection::vec(0u8..6, 18),
        0u8..4,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(top, left, stt, shuffle, blank_after, num_style, code_style, notes, merged_header, nfd, number_row)| {
                Layout {
                    top,
                    left,
                    stt,
                    shuffle,
                    blank_after,
                    num_style,
                    code_style,
                    notes,
                    merged_header,
                    nfd,
                    number_row,
                }
            },
        )
}

/// F02 values: (row, [col1, col2 or none]) with col2 ≤ col1.
fn values() -> impl Strategy<Value = Vec<(i64, Option<i64>)>> {
    proptest::collection::vec((0i64..2_000_000, 0u32..=100), 9).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (a, pct))| {
                let two_cols = [0, 1, 5, 6].contains(&i);
                (a, two_cols.then_some(a * i64::from(pct) / 100))
            })
            .collect()
    })
}

/// A count with its thousands grouped by `sep` (`1.234`, `1 234`).
fn group(v: i64, sep: &str) -> String {
    pbgdpl_catalog::text::group_vi(v).replace('.', sep)
}

fn write(cat: &Catalog, l: &Layout, vals: &[(i64, Option<i64>)]) -> Vec<u8> {
    let form = cat.form("F02").unwrap();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Bao cao HĐ").unwrap();
    let text = |s: &str| {
        if l.nfd {
            s.nfd().collect::<String>()
        } else {
            s.to_owned()
        }
    };
    let t = l.top;
    let bold = Format::new().set_bold();
    ws.write_string(t, 0, text("Biểu số 02/HĐ-PBGDPL")).unwrap();
    ws.write_string(t + 1, 0, text("Đơn vị báo cáo: Phường Thạnh Lý"))
        .unwrap();
    ws.write_string(t + 2, 0, "Mã đơn vị: 99001").unwrap();
    ws.merge_range(t + 3, 0, t + 3, 6, &text(&form.title), &bold).unwrap();
    ws.write_string(t + 4, 0, text("Kỳ báo cáo: 6 tháng đầu năm 2026"))
        .unwrap();
    let c0 = l.left + u16::from(l.stt);
    let h = t + 6;
    if l.stt {
        ws.write_string(h, c0 - 1, "STT").unwrap();
    }
    ws.write_string(h, c0, text("Mã số")).unwrap();
    ws.write_string(h, c0 + 1, text("Chỉ tiêu")).unwrap();
    ws.write_string(h, c0 + 2, text("Đơn vị tính")).unwrap();
    let mut data_row = h + 1;
    if l.merged_header {
        ws.merge_range(h, c0 + 3, h, c0 + 4, &text("Số liệu"), &bold).unwrap();
        ws.write_string(h + 1, c0 + 3, text("Tổng số")).unwrap();
        ws.write_string(h + 1, c0 + 4, text("Trong đó: trên môi trường số"))
            .unwrap();
        data_row += 1;
    } else {
        ws.write_string(h, c0 + 3, text("Tổng số")).unwrap();
        ws.write_string(h, c0 + 4, text("Trong đó: trên môi trường số"))
            .unwrap();
    }
    if l.notes {
        ws.write_string(h, c0 + 5, text("Ghi chú")).unwrap();
    }
    if l.number_row {
        for (i, label) in ["(A)", "(B)", "(C)", "(1)", "(2)"].iter().enumerate() {
            ws.write_string(data_row, c0 + i as u16, *label).unwrap();
        }
        data_row += 1;
    }
    let mut r = data_row;
    for (k, &i) in l.shuffle.iter().enumerate() {
        let row = &form.rows[i];
        if l.stt {
            ws.write_number(r, c0 - 1, (k + 1) as f64).unwrap();
        }
        let n = i + 1;
        match l.code_style {
            0 => ws.write_string(r, c0, format!("{n:02}")).unwrap(),
            1 => ws.write_number(r, c0, n as f64).unwrap(),
            2 => ws.write_string(r, c0, format!("'{n:02}")).unwrap(),
            _ => ws.write_string(r, c0, n.to_string()).unwrap(),
        };
        ws.write_string(r, c0 + 1, text(&row.label)).unwrap();
        ws.write_string(r, c0 + 2, text(&row.unit)).unwrap();
        let (a, b) = vals[i];
        for (j, v) in [Some(a), b].into_iter().enumerate() {
            let Some(v) = v else { continue };
            let c = c0 + 3 + j as u16;
            match l.num_style[i * 2 + j] {
                0 => ws.write_number(r, c, v as f64).unwrap(),
                1 => ws.write_string(r, c, group(v, ".")).unwrap(),
                2 => ws.write_string(r, c, group(v, " ")).unwrap(),
                3 => ws.write_string(r, c, format!("{} {}", v, text(&row.unit))).unwrap(),
                4 => ws.write_string(r, c, format!("{v}.0")).unwrap(),
                _ => ws.write_string(r, c, format!("{},00", group(v, "."))).unwrap(),
            };
        }
        if l.notes {
            ws.write_string(r, c0 + 5, "số liệu ước tính").unwrap();
        }
        r += 1;
        if l.blank_after[k] {
            r += 1;
        }
    }
    ws.write_string(r + 1, c0 + 1, text("Người lập biểu")).unwrap();
    ws.write_string(r + 1, c0 + 3, text("Thủ trưởng đơn vị")).unwrap();
    wb.save_to_buffer().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_layouts_read_back_exactly(l in layout(), vals in values()) {
        let cat = crate::support::sample_catalog();
        let bytes = write(&cat, &l, &vals);
        let WorkbookOutcome::Returns(mut returns) = read_workbook(&cat, "gen.xlsx", &bytes, &Limits::default()) else {
            panic!("not read as a workbook of returns");
        };
        prop_assert_eq!(returns.len(), 1);
        let (draft, issues) = &mut returns[0];
        prop_assert!(issues.is_empty(), "{:?}", issues);
        let errors: Vec<_> = validate(&cat, draft, &Context::default()).into_iter().filter(|i| i.is_error()).collect();
        prop_assert!(errors.is_empty(), "{:?}", errors);
        prop_assert_eq!(draft.unit.as_deref(), Some("99001"));
        prop_assert_eq!(draft.period.as_deref(), Some("2026S1"));
        let mut want = Vec::new();
        for (i, (a, b)) in vals.iter().enumerate() {
            want.push((format!("{:02}", i + 1), 1, *a));
            if let Some(b) = b {
                want.push((format!("{:02}", i + 1), 2, *b));
            }
        }
        let mut got: Vec<_> = draft.values.iter().map(|v| (v.row.clone(), v.column, match v.value { Value::Int(n) => n, Value::Text(_) => -1 })).collect();
        got.sort();
        want.sort();
        prop_assert_eq!(got, want);
    }
}
