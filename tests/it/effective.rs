//! The period's effective values, which the engine builds in Rust (`eff`), agree row for row with
//! their definition in SQL over the stored values (`vals`) — the definition the engine ran as a
//! view until December 2026 — for every kind of period: a half-year, a preliminary year, an
//! official year that only some units sent (the rest keep their preliminary figures), and a phase
//! of years (flows summed, stocks from each unit and form's last year, some units silent in the
//! last year).

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::array_value_to_string;
use pbgdpl_catalog::{Period, PeriodSpec};
use pbgdpl_engine::Engine;
use pbgdpl_store::Store;

use crate::support::{block_on, bundled_catalog, engine_of, memory_store};

/// Every row of the batches as text, sorted: a multiset to compare.
fn rows(batches: &[RecordBatch]) -> Vec<String> {
    let mut out: Vec<String> = batches
        .iter()
        .flat_map(|b| {
            (0..b.num_rows()).map(move |r| {
                (0..b.num_columns())
                    .map(|c| array_value_to_string(b.column(c), r).unwrap())
                    .collect::<Vec<_>>()
                    .join("|")
            })
        })
        .collect();
    out.sort();
    out
}

/// One year's figures in SQL: per unit and form the official return where there is one, else the
/// preliminary one.
fn annual_sql(y: i32, with_year: bool) -> String {
    let yr = if with_year {
        format!(", {y} AS yr")
    } else {
        String::new()
    };
    format!(
        "SELECT v.unit, v.form, v.row_code, v.col, v.num, v.txt, \
         CASE WHEN v.period = '{y}' THEN 'official' ELSE 'preliminary' END AS src{yr} \
         FROM vals v JOIN (SELECT unit, form, MIN(CASE WHEN period = '{y}' THEN 0 ELSE 1 END) AS pref \
                           FROM vals WHERE period IN ('{y}', '{y}P') GROUP BY unit, form) pk \
           ON v.unit = pk.unit AND v.form = pk.form \
         WHERE v.period IN ('{y}', '{y}P') AND (CASE WHEN v.period = '{y}' THEN 0 ELSE 1 END) = pk.pref"
    )
}

/// `eff` in SQL.
fn eff_sql(spec: &PeriodSpec) -> String {
    match spec {
        PeriodSpec::Single(p) if p.code() == p.year.to_string() => annual_sql(p.year, false),
        PeriodSpec::Single(p) => {
            let src = if p.code().ends_with('P') {
                "preliminary"
            } else {
                "semiannual"
            };
            format!(
                "SELECT unit, form, row_code, col, num, txt, '{src}' AS src FROM vals WHERE period = '{}'",
                p.code()
            )
        }
        PeriodSpec::Years { from, to } => {
            let years: Vec<String> = (*from..=*to).map(|y| annual_sql(y, true)).collect();
            let annual = format!("({})", years.join(" UNION ALL "));
            format!(
                "SELECT a.unit, a.form, a.row_code, a.col, SUM(a.num) AS num, MAX(a.txt) AS txt, \
                        CASE WHEN MIN(a.src) = MAX(a.src) THEN MIN(a.src) ELSE 'mixed' END AS src \
                 FROM {annual} a JOIN rowkinds k ON a.form = k.form AND a.row_code = k.row_code \
                 WHERE k.flow GROUP BY a.unit, a.form, a.row_code, a.col \
                 UNION ALL \
                 SELECT a.unit, a.form, a.row_code, a.col, a.num, a.txt, a.src \
                 FROM {annual} a JOIN rowkinds k ON a.form = k.form AND a.row_code = k.row_code \
                 JOIN (SELECT unit, form, MAX(yr) AS yr FROM {annual} GROUP BY unit, form) l \
                   ON a.unit = l.unit AND a.form = l.form AND a.yr = l.yr \
                 WHERE NOT k.flow"
            )
        }
    }
}

fn query(engine: &Engine, spec: &PeriodSpec, sql: &str) -> Vec<String> {
    rows(&block_on(engine.period_sql(spec, sql)).unwrap())
}

#[test]
fn the_effective_values_agree_with_their_definition_in_sql() {
    let cat = bundled_catalog();
    let store = memory_store();
    let units: Vec<String> = cat.units.list.iter().map(|u| u.code.clone()).collect();
    let silent_in_2024 = |unit: &str| units.iter().position(|u| u == unit).is_some_and(|i| i % 3 == 0);
    for (code, seed) in [
        ("2022P", 1),
        ("2022", 2),
        ("2023P", 3),
        ("2023", 4),
        ("2024S1", 5),
        ("2024P", 6),
        ("2024", 7),
    ] {
        let period = Period::parse(code).unwrap();
        let subs: Vec<_> = pbgdpl_fixtures::generate::generate(&cat, &period, seed, 0.05)
            .into_iter()
            // 2024's official edition from every other unit only; a third of the units send nothing
            // for the year 2024 (their last year is 2023).
            .filter(|r| !(code.starts_with("2024") && code != "2024S1" && silent_in_2024(&r.unit)))
            .filter(|r| code != "2024" || units.iter().position(|u| *u == r.unit).is_some_and(|i| i % 2 == 1))
            .flat_map(|r| {
                let unit = r.unit;
                r.forms
                    .into_iter()
                    .map(move |(form, values)| crate::incremental::submission(&unit, &form, code, values))
            })
            .collect();
        assert!(store.submit(&subs).unwrap().iter().all(Result::is_ok));
    }
    let engine = engine_of(&cat, &store);
    let rust_eff = "SELECT unit, form, row_code, col, num, txt, src FROM eff";
    for code in ["2024S1", "2024P", "2024", "2022-2024"] {
        let spec = PeriodSpec::parse(code).unwrap();
        let (eff, want) = (query(&engine, &spec, rust_eff), query(&engine, &spec, &eff_sql(&spec)));
        assert!(want.len() > 1000, "{code}: {} rows", want.len());
        assert_eq!(eff, want, "eff of {code}");
    }
    // Both editions and the phase's mixing show: the official year keeps preliminary figures where
    // no official return came, and the phase mixes them.
    let srcs = |code: &str| {
        let spec = PeriodSpec::parse(code).unwrap();
        let mut s: Vec<String> = query(&engine, &spec, "SELECT DISTINCT src FROM eff");
        s.dedup();
        s
    };
    assert_eq!(srcs("2024"), ["official", "preliminary"]);
    assert_eq!(srcs("2022-2024"), ["mixed", "official", "preliminary"]);
}
