//! One timeline from 2019 to 2030: units through the reorganisation of 01/07/2025 (today's view and
//! the view as it stood on a date), the code that names different units at different times, the
//! units each period expects, and the four seed plans — each pinned by a case computed by hand from
//! `fixtures/catalog/units.csv` and the plan files.

use chrono::NaiveDate;
use pbgdpl_catalog::model::{ReturnStatus, StoredValue, Value};
use pbgdpl_catalog::{Catalog, Period};
use pbgdpl_engine::View;
use pbgdpl_ingest::pipeline::ingest_drafts;

use crate::support::{
    assert_close, block_on, bundled_catalog, compute, compute_in, engine_over, engine_over_values, find, memory_store,
    national_catalog, opts,
};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn period(code: &str) -> Period {
    Period::parse(code).unwrap()
}

fn as_of(y: i32, m: u32, d: u32) -> View {
    View::AsOf(day(y, m, d))
}

#[test]
fn a_2020_return_of_a_former_kon_tum_ward_counts_in_todays_quang_ngai() {
    let cat = bundled_catalog();
    // 2020: Phường Duy Tân (23284, Thành phố Kon Tum, province 62) reached 600 of 1.000 urban
    // residents; Phường Nguyễn Nghiêm (21025, Thành phố Quảng Ngãi, old province 51) 2.400 of 3.000.
    let e = engine_over(
        &cat,
        &[
            ("23284", "F01", "2020", "01", 2, 1000),
            ("23284", "F01", "2020", "02", 2, 600),
            ("21025", "F01", "2020", "01", 2, 3000),
            ("21025", "F01", "2020", "02", 2, 2400),
        ],
        &[],
    );
    // Today's Quảng Ngãi holds both provinces' history: (600 + 2.400) / (1.000 + 3.000).
    let today = compute(&e, "2020", "51");
    let cds1 = find(&today, "CDS-1", "51");
    assert_close(cds1.value, 75.0, "today's 51 in 2020");
    assert_eq!((cds1.numerator, cds1.denominator), (Some(3000), Some(4000)));
    // Each old ward's figures sit in the ward it became (both kept their codes).
    assert_close(find(&today, "CDS-1", "23284").value, 60.0, "today's Phường Đăk Cấm");
    assert_eq!(find(&today, "CDS-1", "23284").unit_name, "Phường Đăk Cấm");
    assert_close(find(&today, "CDS-1", "21025").value, 80.0, "today's Phường Cẩm Thành");
    // As the units stood at the end of 2020: old Quảng Ngãi and Kon Tum apart, districts between.
    let then = as_of(2020, 12, 31);
    let old_qn = compute_in(&e, "2020", "51", then);
    assert_close(find(&old_qn, "CDS-1", "51@2025-06-30").value, 80.0, "old 51 as of 2020");
    assert_close(
        find(&old_qn, "CDS-1", "522@2025-06-30").value,
        80.0,
        "Thành phố Quảng Ngãi (district)",
    );
    let kon_tum = compute_in(&e, "2020", "62", then);
    assert_close(
        find(&kon_tum, "CDS-1", "62@2025-06-30").value,
        60.0,
        "Kon Tum as of 2020",
    );
    assert_close(
        find(&kon_tum, "CDS-1", "608@2025-06-30").value,
        60.0,
        "Thành phố Kon Tum (district)",
    );
    // Kon Tum is not a unit of today: asked for in today's view, it is shown as it last stood.
    let kt_today = compute(&e, "2020", "62");
    assert_close(
        find(&kt_today, "CDS-1", "62@2025-06-30").value,
        60.0,
        "Kon Tum, settled on its last day",
    );
}

#[test]
fn a_divided_communes_share_applies_to_numerator_and_denominator_alike() {
    let cat = bundled_catalog();
    // Xã Trà Bùi (21142) was divided between Xã Cà Đam (21136, share 0,4654) and Xã Tây Trà Bồng
    // (21157, share 0,5346) by area. In 2020 it trained 500 of 1.000 staff; Xã Trà Tân (21136, whole
    // into Cà Đam) trained 100 of 100.
    let e = engine_over(
        &cat,
        &[
            ("21142", "F01", "2020", "03", 1, 1000),
            ("21142", "F01", "2020", "04", 1, 500),
            ("21136", "F01", "2020", "03", 1, 100),
            ("21136", "F01", "2020", "04", 1, 100),
        ],
        &[],
    );
    let v = compute(&e, "2020", "51");
    // Cà Đam: (500 × 0,4654 + 100) / (1.000 × 0,4654 + 100) = 332,7 / 565,4.
    let ca_dam = find(&v, "CDS-3", "21136");
    assert_close(ca_dam.value, 100.0 * 332.7 / 565.4, "Cà Đam");
    assert_eq!((ca_dam.numerator, ca_dam.denominator), (Some(333), Some(565)));
    // Tây Trà Bồng: 267,3 / 534,6 = 50 %: a share on one side only would not give Trà Bùi's own rate.
    assert_close(find(&v, "CDS-3", "21157").value, 50.0, "Tây Trà Bồng");
    // The shares add up to one: the province counts Trà Bùi once, 600 / 1.100.
    assert_close(find(&v, "CDS-3", "51").value, 100.0 * 600.0 / 1100.0, "province");
    // As of 2020, Trà Bùi is itself, in Trà Bồng district (525).
    let then = compute_in(&e, "2020", "525", as_of(2020, 12, 31));
    assert_close(
        find(&then, "CDS-3", "21142@2025-06-30").value,
        50.0,
        "Trà Bùi as of 2020",
    );
    assert_close(
        find(&then, "CDS-3", "525@2025-06-30").value,
        100.0 * 600.0 / 1100.0,
        "Trà Bồng district",
    );
}

#[test]
fn a_reused_code_means_the_old_unit_in_2020_and_the_new_one_in_2026() {
    let cat = bundled_catalog();
    // 21025 was Phường Nguyễn Nghiêm until 30/06/2025 and is Phường Cẩm Thành since.
    assert_eq!(
        cat.units.at("21025", day(2020, 12, 31)).unwrap().name,
        "Phường Nguyễn Nghiêm"
    );
    assert_eq!(
        cat.units.at("21025", day(2026, 6, 30)).unwrap().name,
        "Phường Cẩm Thành"
    );
    let e = engine_over(
        &cat,
        &[
            ("21025", "F02", "2020", "01", 1, 40),
            ("21025", "F02", "2020", "01", 2, 10),
            ("21025", "F02", "2026S1", "01", 1, 30),
            ("21025", "F02", "2026S1", "01", 2, 30),
        ],
        &[
            ("21025", "F02", "2020", "2021-01-10"),
            ("21025", "F02", "2026S1", "2026-06-01"),
        ],
    );
    // Each stored return belongs to the unit of its period, by key (an ended unit's key carries its
    // last day).
    let keys: Vec<(&str, &str)> = e.returns().map(|r| (r.unit.as_str(), r.period.as_str())).collect();
    assert_eq!(keys, [("21025@2025-06-30", "2020"), ("21025", "2026S1")]);
    let own = block_on(e.unit_values(&pbgdpl_catalog::PeriodSpec::parse("2020").unwrap(), "51")).unwrap();
    assert_eq!(own.keys().collect::<Vec<_>>(), ["21025@2025-06-30"]);
    // As of 2020 the 2020 return counts in district 522 (the old ward's parent), 10 of 40 = 25 %; the
    // 2026 one belongs to a unit that did not exist then.
    let then = compute_in(&e, "2020", "522", as_of(2020, 12, 31));
    assert_close(
        find(&then, "HĐ-1", "522@2025-06-30").value,
        25.0,
        "district 522 in 2020",
    );
    assert_eq!(
        find(&then, "HĐ-1", "21025@2025-06-30").unit_name,
        "Phường Nguyễn Nghiêm"
    );
    let now = compute(&e, "2026S1", "51");
    assert_close(find(&now, "HĐ-1", "21025").value, 100.0, "Phường Cẩm Thành in 2026");
    assert_eq!(find(&now, "HĐ-1", "21025").unit_name, "Phường Cẩm Thành");
    // The report for 2020 names the ward of 2020.
    let due_2020 = e.completeness(&period("2020"), "51").unwrap();
    let ward = due_2020
        .iter()
        .find(|x| x.unit.code == "21025" && x.form.id == "F02")
        .unwrap();
    assert_eq!(ward.unit.name, "Phường Nguyễn Nghiêm");
    assert_eq!(ward.received, Some(day(2021, 1, 10)));
}

#[test]
fn coverage_for_2020_expects_the_units_of_2020_with_their_levels_deadlines() {
    let cat = bundled_catalog();
    let e = engine_over(
        &cat,
        &[],
        &[
            ("21025", "F01", "2020", "2021-01-18"),
            ("522", "F01", "2020", "2021-01-25"),
            ("23284", "F01", "2020", "2021-01-25"),
        ],
    );
    let due = e.completeness(&period("2020"), "51").unwrap();
    // Counted by hand in units.csv for 31/12/2020 under today's 51: 170 communes and wards of old
    // Quảng Ngãi and 102 of Kon Tum, 13 + 10 districts, 11 + 10 departments (Sở Dân tộc và Tôn giáo
    // begins in 2025; Sở Thông tin và Truyền thông still exists) = 316 units owing F01 and F02; F03
    // from the 20 leads of Kon Tum's plan 1655/KH-UBND (its 10 departments and 10 districts).
    let count = |form: &str| due.iter().filter(|x| x.form.id == form).count();
    assert_eq!((count("F01"), count("F02"), count("F03")), (316, 316, 20));
    assert!(
        due.iter().all(|x| x.unit.valid_on(day(2020, 12, 31))),
        "only 2020's units"
    );
    // Districts have their own deadline (31/01), communes theirs (20/01).
    let deadline = |code: &str| {
        due.iter()
            .find(|x| x.unit.code == code && x.form.id == "F01")
            .unwrap()
            .deadline
    };
    assert_eq!(deadline("522"), Some(day(2021, 1, 31)));
    assert_eq!(deadline("21025"), Some(day(2021, 1, 20)));
    // BC-1 = 3 / 652; BC-2: the ward's return of 25/01 would be late, the district's is not — the
    // Kon Tum ward's is late: 2 / 652.
    let v = compute(&e, "2020", "51");
    let bc1 = find(&v, "BC-1", "51");
    assert_eq!((bc1.numerator, bc1.denominator), (Some(3), Some(652)));
    assert_eq!(find(&v, "BC-2", "51").numerator, Some(2));
    // Today, the same province expects today's 96 communes and 11 departments.
    let today = e.completeness(&period("2026S1"), "51").unwrap();
    assert_eq!(today.iter().filter(|x| x.form.id == "F01").count(), 107);
    // As the tree stood in 2020, old Quảng Ngãi alone: 170 + 13 + 11 units, no plan so no F03.
    let old = e.completeness_in(&period("2020"), "51", as_of(2020, 12, 31)).unwrap();
    assert_eq!(old.iter().filter(|x| x.form.id == "F01").count(), 194);
    assert!(old.iter().all(|x| x.form.id != "F03"));
}

#[test]
fn a_2020_return_of_a_code_that_only_exists_since_2025_is_refused() {
    let cat = bundled_catalog();
    // Đặc khu Lý Sơn (21548) began on 01/07/2025: in 2020 the code named no unit.
    assert!(cat.units.at("21548", day(2020, 12, 31)).is_none());
    let draft = |period: &str| {
        pbgdpl_catalog::model::JsonReturn {
            form: "F02".into(),
            unit: "21548".into(),
            period: period.into(),
            values: vec![pbgdpl_catalog::model::JsonValue {
                row: "01".into(),
                column: 1,
                value: Value::Int(3),
            }],
        }
        .into_draft()
    };
    let store = memory_store();
    let old = ingest_drafts(&cat, &store, vec![draft("2020")], &opts()).unwrap();
    let r = &old.returns[0];
    assert_eq!(r.status, ReturnStatus::Rejected);
    assert_eq!(r.errors[0].rule.id(), "unknown_unit", "{:?}", r.errors);
    let new = ingest_drafts(&cat, &store, vec![draft("2026S1")], &opts()).unwrap();
    assert_eq!(
        new.returns[0].status,
        ReturnStatus::Accepted,
        "{:?}",
        new.returns[0].errors
    );
}

// ---- The four seed plans -------------------------------------------------------------------------

/// A lead's task-form cells: status, and for a done task its completion date.
fn task_cells(unit: &str, period: &str, task: &str, done_on: Option<&str>) -> Vec<StoredValue> {
    let text = |column: u32, t: &str| StoredValue {
        unit: unit.into(),
        form: "F03".into(),
        period: period.into(),
        row: task.into(),
        column,
        value: Value::Text(t.into()),
        version: 1,
    };
    match done_on {
        Some(d) => vec![text(1, "Đã hoàn thành"), text(2, d)],
        None => vec![text(1, "Đang thực hiện")],
    }
}

/// Cells for `done` of a task's leads (in plan order) completed on `on`, the others in progress.
fn leads_done(cat: &Catalog, plan: &str, task: &str, period: &str, done: usize, on: &str) -> Vec<StoredValue> {
    let plan = cat.plans.iter().find(|p| p.id == plan).unwrap();
    let leads = &plan.task(task).unwrap().leads;
    leads
        .iter()
        .enumerate()
        .flat_map(|(i, l)| task_cells(l, period, task, (i < done).then_some(on)))
        .collect()
}

fn lead_count(cat: &Catalog, plan: &str, task: &str) -> usize {
    cat.plans
        .iter()
        .find(|p| p.id == plan)
        .unwrap()
        .task(task)
        .unwrap()
        .leads
        .len()
}

/// The task section of the narrative report for a unit, as text.
fn task_section(e: &pbgdpl_engine::Engine, period: &str, unit: &str, view: View) -> String {
    let report = block_on(pbgdpl_reports::bundle::Report::compute_in(
        e,
        self::period(period),
        unit,
        view,
    ))
    .unwrap();
    let text = pbgdpl_reports::narrative::to_text(&pbgdpl_reports::narrative::narrative(&report, day(2027, 1, 5)));
    let start = text.find("TIẾN ĐỘ THỰC HIỆN NHIỆM VỤ").expect("a task section");
    let end = text[start..].find("KHÓ KHĂN").map_or(text.len(), |i| start + i);
    text[start..end].to_owned()
}

#[test]
fn plan_137_quang_ngai_2026() {
    let cat = bundled_catalog();
    let plan = "137/KH-UBND";
    let f03 = cat.form("F03").unwrap();
    assert_eq!(
        cat.rows_of(f03, "STP", &period("2026S1")).len(),
        15,
        "its 15 tasks are F03's rows"
    );
    // NV01's leads: the 11 departments of 01/07/2025 and the 96 communal units.
    assert_eq!(lead_count(&cat, plan, "NV01"), 107);
    // Due by 31/12/2026: the yearly tasks from 2025 (NV01, NV04, NV05, NV06, NV08, NV10, NV11, NV12,
    // NV14, NV15); NV02 (2030), NV03 (2028), NV07 (2027), NV13 (2030) and NV09 (from 2027) are not.
    let mut values = Vec::new();
    values.extend(leads_done(&cat, plan, "NV01", "2026", 97, "2026-11-20")); // 97/107 ≥ 90 %: met
    values.extend(leads_done(&cat, plan, "NV10", "2026", 96, "2026-11-20")); // 96/107 < 90 %
    values.extend(leads_done(&cat, plan, "NV11", "2026", 0, ""));
    for t in ["NV04", "NV05", "NV08", "NV12", "NV14"] {
        values.extend(task_cells("STP", "2026", t, Some("2026-10-01")));
    }
    values.extend(task_cells("STP", "2026", "NV15", Some("2027-01-05"))); // done, but late
    values.extend(task_cells("STP", "2026", "NV06", Some("2026-10-01"))); // STC did not report
    let e = engine_over_values(&cat, values, &[]);
    // Met: NV01, NV04, NV05, NV08, NV12, NV14 — 6 of 10.
    let nv1 = find(&compute(&e, "2026", "51"), "NV-1", "51").clone();
    assert_eq!((nv1.numerator, nv1.denominator), (Some(6), Some(10)));
    assert_close(nv1.value, 60.0, "NV-1 of 137/KH-UBND");
    let section = task_section(&e, "2026", "51", View::Present);
    assert!(section.contains("97/107 (90,7 %)"), "{section}");
    assert!(section.contains("NV15"), "{section}");
}

#[test]
fn plan_1655_kon_tum_2020_in_todays_quang_ngai() {
    let cat = bundled_catalog();
    let plan = "1655/KH-UBND";
    let f03 = cat.form("F03").unwrap();
    assert_eq!(cat.rows_of(f03, "62-STP", &period("2020")).len(), 9);
    assert!(
        cat.rows_of(f03, "62-STP", &period("2023")).is_empty(),
        "no plan after 2021"
    );
    // Leads at 02/07/2019: 10 departments and 10 districts; NV06: STP, VP UBND, STTTT and districts.
    assert_eq!(lead_count(&cat, plan, "NV01"), 20);
    assert_eq!(lead_count(&cat, plan, "NV06"), 13);
    let mut values = Vec::new();
    values.extend(leads_done(&cat, plan, "NV01", "2020", 18, "2020-12-01")); // 18/20 ≥ 90 %: met
    values.extend(leads_done(&cat, plan, "NV02", "2020", 3, "2020-12-01")); // all 3: met
    values.extend(leads_done(&cat, plan, "NV03A", "2020", 2, "2020-12-01")); // 2/3: not
    values.extend(leads_done(&cat, plan, "NV03B", "2020", 1, "2020-12-01")); // met
    values.extend(leads_done(&cat, plan, "NV04", "2020", 17, "2020-12-01")); // 17/20 < 90 %
    values.extend(leads_done(&cat, plan, "NV06", "2020", 12, "2020-12-01")); // 12/13 ≥ 11,7: met
    values.extend(task_cells("62-STTTT", "2020", "NV07", Some("2020-12-01")));
    values.extend(task_cells("62-STP", "2020", "NV07", Some("2021-01-04"))); // late: not met
    let e = engine_over_values(&cat, values, &[]);
    // Due by 31/12/2020: NV01, NV02, NV03A, NV03B, NV03C, NV04, NV06, NV07 (NV05 is per guidance).
    // Met: NV01, NV02, NV03B, NV06 — 4 of 8, in Kon Tum as it was and in today's Quảng Ngãi alike.
    for (unit, view) in [("62", as_of(2020, 12, 31)), ("51", View::Present)] {
        let v = compute_in(&e, "2020", unit, view);
        let key = if unit == "62" { "62@2025-06-30" } else { "51" };
        let nv1 = find(&v, "NV-1", key);
        assert_eq!((nv1.numerator, nv1.denominator), (Some(4), Some(8)), "{unit}");
    }
    // Old Quảng Ngãi had no plan seeded: no NV-1 there.
    let old_qn = compute_in(&e, "2020", "51", as_of(2020, 12, 31));
    assert_eq!(find(&old_qn, "NV-1", "51@2025-06-30").value, None);
    let section = task_section(&e, "2020", "51", View::Present);
    assert!(
        section.contains("NV03C") && section.contains("18/20 (90,0 %)"),
        "{section}"
    );
    assert!(section.contains("Theo hướng dẫn"), "NV05 is shown: {section}");
}

#[test]
fn plan_of_long_an_2021_in_todays_tay_ninh() {
    let cat = national_catalog();
    let plan = "KH thực hiện Đề án 471 năm 2021 (Long An)";
    let f03 = cat.form("F03").unwrap();
    assert_eq!(cat.rows_of(f03, "80-STP", &period("2021")).len(), 6);
    assert!(
        cat.rows_of(f03, "80-STP", &period("2026")).is_empty(),
        "Tây Ninh has no seeded plan"
    );
    let mut values = task_cells("80-STP", "2021", "NV01A", Some("2021-09-15"));
    values.extend(task_cells("80-STP", "2021", "NV01B", Some("2021-09-20")));
    values.extend(task_cells("80-STTTT", "2021", "NV01B", Some("2021-10-05"))); // after Q3: not met
    values.extend(task_cells("80-STP", "2021", "NV04", None));
    let e = engine_over_values(&cat, values, &[]);
    assert!(cat.plans.iter().any(|p| p.id == plan));
    // Due by 31/12/2021: NV01A and NV01B (Q3/2021); NV01C, NV02, NV03 are ongoing, NV04 per guidance.
    // Met: NV01A — 1 of 2, in Long An of 2021 and in today's Tây Ninh (which keeps code 80).
    for view in [as_of(2021, 12, 31), View::Present] {
        let v = compute_in(&e, "2021", "80", view);
        let key = if view == View::Present { "80" } else { "80@2025-06-30" };
        let nv1 = find(&v, "NV-1", key);
        assert_eq!((nv1.numerator, nv1.denominator), (Some(1), Some(2)), "{view:?}");
    }
    let section = task_section(&e, "2021", "80", View::Present);
    assert!(
        section.contains("| NV01B |") && section.contains("| 30/09/2021 | 2/2 | Chưa đạt |"),
        "{section}"
    );
}

#[test]
fn plan_of_quang_ninh_2023_and_its_own_report_deadline() {
    let cat = national_catalog();
    let plan = "KH chuyên đề trọng điểm 2022–2025 (Quảng Ninh)";
    let f03 = cat.form("F03").unwrap();
    assert_eq!(cat.rows_of(f03, "22-STP", &period("2023")).len(), 9);
    // NV03 and NV05: the 5 departments of 30/11/2022 (MTTQ among them) and 13 districts = 18 leads.
    assert_eq!(lead_count(&cat, plan, "NV03"), 18);
    let mut values = leads_done(&cat, plan, "NV03", "2023", 17, "2023-11-01"); // 17/18 ≥ 90 %: met
    values.extend(leads_done(&cat, plan, "NV05", "2023", 16, "2023-11-01")); // 16/18 < 90 %
    values.extend(task_cells("22-STP", "2023", "NV06", Some("2023-11-01")));
    values.extend(task_cells("22-STP", "2023", "NV07", Some("2024-01-10"))); // late
    let e = engine_over_values(&cat, values, &[]);
    // Due by 31/12/2023 (yearly from 2023): NV03, NV05, NV06, NV07, NV08; NV01 is ongoing, NV02, NV04
    // and NV09 per guidance. Met: NV03, NV06 — 2 of 5.
    let nv1 = find(&compute(&e, "2023", "22"), "NV-1", "22").clone();
    assert_eq!((nv1.numerator, nv1.denominator), (Some(2), Some(5)));
    assert_close(nv1.value, 40.0, "NV-1 of Quảng Ninh");
    // The plan's annual report is due before 15/11 — the preliminary year's F03, not the others.
    let due = e.completeness(&period("2023P"), "22").unwrap();
    let stp = |form: &str| {
        due.iter()
            .find(|x| x.unit.code == "22-STP" && x.form.id == form)
            .unwrap()
            .deadline
    };
    assert_eq!(stp("F03"), Some(day(2023, 11, 14)));
    assert_eq!(stp("F01"), Some(day(2023, 11, 7)));
    let section = task_section(&e, "2023", "22", View::Present);
    assert!(section.contains("17/18 (94,4 %)"), "{section}");
}

#[test]
fn a_trend_from_2019_to_2026_marks_the_reorganisation_once_before_the_first_period_after_it() {
    let cat = bundled_catalog();
    assert_eq!(cat.units.reorganisations(), vec![day(2025, 7, 1)]);
    let codes = [
        "2019", "2020", "2021", "2022", "2023", "2024", "2025S1", "2025", "2026S1", "2026P",
    ];
    let periods: Vec<Period> = codes.iter().map(|c| period(c)).collect();
    let marks = pbgdpl_reports::charts::reorganisation_marks(&cat, &periods);
    // 2025S1 ends 30/06/2025, the last day of the old units; 2025 is the first period after them.
    assert_eq!(marks.len(), 1);
    assert_eq!(marks[0].before, 7);
    assert_eq!(marks[0].label, "Sắp xếp ĐVHC 01/07/2025");
    // Periods on one side of the day only: no mark.
    assert!(pbgdpl_reports::charts::reorganisation_marks(&cat, &periods[..7]).is_empty());
    assert!(pbgdpl_reports::charts::reorganisation_marks(&cat, &periods[7..]).is_empty());
    let points: Vec<_> = codes
        .iter()
        .map(|c| pbgdpl_reports::charts::TrendPoint {
            label: c.to_string(),
            value: Some(50.0),
            target: Some(80.0),
        })
        .collect();
    let svg = pbgdpl_reports::charts::trend_svg("CDS-1", &points, "Mục tiêu", &marks, (640, 260)).unwrap();
    assert!(
        svg.contains("Sắp xếp ĐVHC 01/07/2025"),
        "the mark is labelled on the chart"
    );
}
