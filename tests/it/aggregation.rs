//! The aggregation rules of `indicators.md`, each pinned by a case computed by hand.

use crate::support::{assert_close, catalog_with_units, compute, engine_over, find};

/// Province 99 with a ward, two communes, a mixed-area district-like unit and a department.
const UNITS: &str = "code,name,kind,parent,area
99,Tỉnh Thử,province,,
W1,Phường Một,ward,99,
C1,Xã Một,commune,99,
C2,Xã Hai,commune,99,
M1,Xã Hỗn Hợp,commune,99,mixed
D1,Sở Tư pháp,department,99,
";

#[test]
fn a_rate_is_the_ratio_of_sums_not_the_average_of_rates() {
    let cat = catalog_with_units("u.csv", UNITS);
    // C1 trained 90 of 100 (90%), C2 1 of 10 (10%): the average of rates would be 50%.
    let e = engine_over(
        &cat,
        &[
            ("C1", "F01", "2026S1", "03", 1, 100),
            ("C1", "F01", "2026S1", "04", 1, 90),
            ("C2", "F01", "2026S1", "03", 1, 10),
            ("C2", "F01", "2026S1", "04", 1, 1),
        ],
        &[],
    );
    let v = compute(&e, "2026S1", "99");
    let cds3 = find(&v, "CDS-3", "99");
    assert_close(cds3.value, 100.0 * 91.0 / 110.0, "CDS-3 province");
    assert_eq!((cds3.numerator, cds3.denominator), (Some(91), Some(110)));
    assert_close(find(&v, "CDS-3", "C2").value, 10.0, "CDS-3 of C2");
}

#[test]
fn a_missing_unit_is_not_a_zero() {
    let cat = catalog_with_units("u.csv", UNITS);
    let c1 = [
        ("C1", "F01", "2026S1", "05", 1, 10),
        ("C1", "F01", "2026S1", "06", 1, 5),
    ];
    // C2 reports zero online trainings out of 10: it pulls the rate down.
    let mut with_zero = c1.to_vec();
    with_zero.extend([
        ("C2", "F01", "2026S1", "05", 1, 10),
        ("C2", "F01", "2026S1", "06", 1, 0),
    ]);
    let zero = compute(&engine_over(&cat, &with_zero, &[]), "2026S1", "99");
    assert_close(find(&zero, "CDS-4", "99").value, 25.0, "with a zero");
    // C2 did not report: the rate is over the reporting units, and coverage says who is missing.
    let missing = compute(&engine_over(&cat, &c1, &[]), "2026S1", "99");
    let m = find(&missing, "CDS-4", "99");
    assert_close(m.value, 50.0, "with C2 missing");
    // Due: W1, C1, C2, M1 and D1 file F01 → 5 units; C1 and C2 reported in the first case.
    assert_eq!((m.reporting, m.due), (1, 5));
    assert_close(m.coverage, 0.2, "coverage with C2 missing");
    assert_close(find(&zero, "CDS-4", "99").coverage, 0.4, "coverage with C2's zero");
    // A unit that reported nothing has no value of its own, not 0%.
    assert_eq!(find(&missing, "CDS-4", "C2").value, None);
}

#[test]
fn the_official_annual_return_supersedes_the_preliminary_one() {
    let cat = catalog_with_units("u.csv", UNITS);
    let cells = [
        ("C1", "F01", "2026P", "03", 1, 100),
        ("C1", "F01", "2026P", "04", 1, 50),
        ("C1", "F01", "2026", "03", 1, 100),
        ("C1", "F01", "2026", "04", 1, 80),
        // C2 sent only the preliminary edition: it still counts for the year.
        ("C2", "F01", "2026P", "03", 1, 100),
        ("C2", "F01", "2026P", "04", 1, 60),
        // Semiannual figures never add up into a year.
        ("C2", "F01", "2026S1", "04", 1, 99),
    ];
    let e = engine_over(&cat, &cells, &[]);
    let year = compute(&e, "2026", "99");
    let v = find(&year, "CDS-3", "99");
    assert_close(v.value, 100.0 * (80.0 + 60.0) / 200.0, "official year");
    assert_eq!(v.basis.as_deref(), Some("mixed"));
    assert_eq!(find(&year, "CDS-3", "C1").basis.as_deref(), Some("official"));
    assert_eq!(find(&year, "CDS-3", "C2").basis.as_deref(), Some("preliminary"));
    let prelim = compute(&e, "2026P", "99");
    assert_close(
        find(&prelim, "CDS-3", "99").value,
        100.0 * (50.0 + 60.0) / 200.0,
        "preliminary",
    );
}

#[test]
fn over_a_phase_flows_are_summed_and_stocks_take_the_last_year() {
    let cat = catalog_with_units("u.csv", UNITS);
    let cells = [
        // Rows 03/04 are stocks (staff, trained), rows 05/06 flows (trainings).
        ("C1", "F01", "2025", "03", 1, 100),
        ("C1", "F01", "2025", "04", 1, 50),
        ("C1", "F01", "2025", "05", 1, 10),
        ("C1", "F01", "2025", "06", 1, 4),
        ("C1", "F01", "2026", "03", 1, 120),
        ("C1", "F01", "2026", "04", 1, 90),
        ("C1", "F01", "2026", "05", 1, 20),
        ("C1", "F01", "2026", "06", 1, 16),
        // C2 reported only in 2025: its last reported year counts for the stocks.
        ("C2", "F01", "2025", "03", 1, 50),
        ("C2", "F01", "2025", "04", 1, 25),
    ];
    let e = engine_over(&cat, &cells, &[]);
    let phase = compute(&e, "2025-2026", "99");
    assert_close(
        find(&phase, "CDS-3", "99").value,
        100.0 * (90.0 + 25.0) / (120.0 + 50.0),
        "stocks: last year per unit",
    );
    assert_close(
        find(&phase, "CDS-4", "99").value,
        100.0 * (4.0 + 16.0) / (10.0 + 20.0),
        "flows: summed",
    );
    assert_eq!(find(&phase, "CDS-4", "99").numerator, Some(20));
}

#[test]
fn a_zero_denominator_is_no_data() {
    let cat = catalog_with_units("u.csv", UNITS);
    let e = engine_over(
        &cat,
        &[("C1", "F01", "2026S1", "05", 1, 0), ("C1", "F01", "2026S1", "06", 1, 0)],
        &[],
    );
    let v = compute(&e, "2026S1", "99");
    let cds4 = find(&v, "CDS-4", "99");
    assert_eq!(cds4.value, None, "0/0 is no data, not 0% and not an error");
    assert_eq!(cds4.status, None);
    assert_eq!(cds4.denominator, Some(0));
    // No F01 at all: no data either.
    assert_eq!(find(&v, "CDS-1", "99").value, None);
}

#[test]
fn urban_and_rural_come_from_the_columns_or_else_from_the_unit_type() {
    let cat = catalog_with_units("u.csv", UNITS);
    let cells = [
        // W1 is a ward (urban by kind) and fills only the totals.
        ("W1", "F01", "2026S1", "01", 1, 1000),
        ("W1", "F01", "2026S1", "02", 1, 800),
        // C1 fills the split columns.
        ("C1", "F01", "2026S1", "01", 1, 500),
        ("C1", "F01", "2026S1", "01", 2, 0),
        ("C1", "F01", "2026S1", "01", 3, 500),
        ("C1", "F01", "2026S1", "02", 1, 300),
        ("C1", "F01", "2026S1", "02", 2, 0),
        ("C1", "F01", "2026S1", "02", 3, 300),
        // M1 has a mixed area and fills only the totals: left out of CDS-1/2, counted as missing.
        ("M1", "F01", "2026S1", "01", 1, 700),
        ("M1", "F01", "2026S1", "02", 1, 600),
    ];
    let v = compute(&engine_over(&cat, &cells, &[]), "2026S1", "99");
    let cds1 = find(&v, "CDS-1", "99");
    assert_close(cds1.value, 80.0, "CDS-1: W1's totals attributed to urban");
    assert_eq!((cds1.numerator, cds1.denominator), (Some(800), Some(1000)));
    assert_eq!(
        (cds1.reporting, cds1.due),
        (2, 4),
        "W1 and C1 report; C2 and M1 are missing"
    );
    let cds2 = find(&v, "CDS-2", "99");
    assert_close(cds2.value, 60.0, "CDS-2 from C1's columns only");
    assert_eq!(find(&v, "CDS-1", "M1").value, None);
    // HĐ-2's denominator is the whole population, M1 included.
    let e2 = engine_over(
        &cat,
        &[cells.as_slice(), &[("D1", "F02", "2026S1", "02", 1, 2200)]].concat(),
        &[],
    );
    let hd2 = find(&compute(&e2, "2026S1", "99"), "HĐ-2", "99").clone();
    assert_close(
        hd2.value,
        1000.0 * 2200.0 / 2200.0,
        "HĐ-2: department attendees over territorial population",
    );
}

/// CDS-1 and CDS-2 are due from territorial units only (`due = "territorial"`, and so is their
/// denominator): a department that files form 01 anyway counts in neither the numerator nor the
/// denominator, nor among the units reporting. CDS-3 is due from every unit that files the form:
/// there the department counts.
#[test]
fn a_territorial_indicator_counts_territorial_units_only() {
    let cat = catalog_with_units("u.csv", UNITS);
    let cells = [
        ("W1", "F01", "2026S1", "01", 1, 1000),
        ("W1", "F01", "2026S1", "02", 1, 800),
        ("W1", "F01", "2026S1", "03", 1, 200),
        ("W1", "F01", "2026S1", "04", 1, 50),
        // D1 fills the urban column itself (a department has no area to attribute its totals by).
        ("D1", "F01", "2026S1", "01", 2, 5000),
        ("D1", "F01", "2026S1", "02", 2, 100),
        ("D1", "F01", "2026S1", "03", 1, 100),
        ("D1", "F01", "2026S1", "04", 1, 100),
    ];
    let v = compute(&engine_over(&cat, &cells, &[]), "2026S1", "99");
    let cds1 = find(&v, "CDS-1", "99");
    assert_eq!(
        (cds1.numerator, cds1.denominator),
        (Some(800), Some(1000)),
        "CDS-1: W1's figures only, not D1's 100 of 5000"
    );
    assert_close(cds1.value, 80.0, "CDS-1 without the department");
    assert_eq!(
        (cds1.reporting, cds1.due),
        (1, 4),
        "of W1, C1, C2 and M1, W1 reports; D1 is not due"
    );
    let cds3 = find(&v, "CDS-3", "99");
    assert_eq!((cds3.numerator, cds3.denominator), (Some(150), Some(300)));
    assert_close(cds3.value, 50.0, "CDS-3 with the department");
    assert_eq!((cds3.reporting, cds3.due), (2, 5), "W1 and D1 report, of five filers");
}

#[test]
fn targets_status_gap_and_pace() {
    let cat = catalog_with_units("u.csv", UNITS);
    let cells = [
        ("W1", "F01", "2026S1", "01", 1, 1000),
        ("W1", "F01", "2026S1", "02", 1, 750),
    ];
    let v = compute(&engine_over(&cat, &cells, &[]), "2026S1", "99");
    let cds1 = find(&v, "CDS-1", "99");
    assert_eq!(cds1.target, Some(80.0));
    assert_eq!(cds1.status, Some(pbgdpl_engine::Status::ChuaDat));
    assert_close(cds1.gap, -5.0, "gap");
    // Phase 1 ends with 2027: the annual periods 2026 and 2027 are left.
    assert_close(cds1.pace, 2.5, "pace");
    // CDS-5 has no phase-1 target.
    assert_eq!(find(&v, "CDS-5", "99").target, None);
    let at_target = compute(
        &engine_over(
            &cat,
            &[
                ("W1", "F01", "2026S1", "01", 1, 1000),
                ("W1", "F01", "2026S1", "02", 1, 800),
            ],
            &[],
        ),
        "2026S1",
        "99",
    );
    assert_eq!(
        find(&at_target, "CDS-1", "99").status,
        Some(pbgdpl_engine::Status::Dat),
        "exactly the target is Đạt"
    );
}

#[test]
fn reporting_rate_and_timeliness_against_the_deadline() {
    let cat = catalog_with_units("u.csv", UNITS);
    // F01 and F02 are due from the 5 units, and F03 too: the plan's tasks NV01/NV10/NV11 are led by
    // every department and every commune. 15 returns; communes' 6-month deadline is 06/06.
    let received = [
        ("W1", "F01", "2026S1", "2026-06-01"),
        ("W1", "F02", "2026S1", "2026-06-06"),
        ("C1", "F01", "2026S1", "2026-06-07"),
    ];
    let v = compute(&engine_over(&cat, &[], &received), "2026S1", "99");
    let bc1 = find(&v, "BC-1", "99");
    assert_eq!((bc1.numerator, bc1.denominator), (Some(3), Some(15)));
    assert_close(bc1.value, 20.0, "BC-1");
    assert_close(
        find(&v, "BC-2", "99").value,
        100.0 * 2.0 / 15.0,
        "BC-2: the return of 07/06 is late",
    );
}
