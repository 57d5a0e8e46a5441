//! The engine that updates instead of rebuilding: an engine applied with what the store stored since
//! it was built ([`Engine::apply`] over [`Store::changes_after`]) gives the figures of an engine built
//! over the whole store — for the period the new returns belong to, for the periods they do not,
//! for a year and a phase, and for a return of a unit that has since ended — and an engine that
//! reads its periods on first use gives them too.

use pbgdpl_catalog::model::{CellValue, Value};
use pbgdpl_catalog::{Catalog, Period, PeriodSpec};
use pbgdpl_engine::{Engine, IndicatorValue, Snapshot};
use pbgdpl_store::{Store, Submission};

use crate::support::{block_on, bundled_catalog, compute, engine_of, memory_store, now};

/// Generated returns of every unit of `code`, as submissions.
fn generated(cat: &Catalog, code: &str, seed: u64) -> Vec<Submission> {
    let period = Period::parse(code).unwrap();
    pbgdpl_fixtures::generate::generate(cat, &period, seed, 0.05)
        .into_iter()
        .flat_map(|r| {
            let unit = r.unit;
            r.forms
                .into_iter()
                .map(move |(form, values)| submission(&unit, &form, code, values))
        })
        .collect()
}

pub(crate) fn submission(unit: &str, form: &str, period: &str, values: Vec<CellValue>) -> Submission {
    Submission {
        unit: unit.into(),
        form: form.into(),
        period: period.into(),
        values,
        warnings: Vec::new(),
        received_at: now(),
        submitted_by: None,
        source: "api".into(),
        client: None,
        file_name: None,
        file_sha256: None,
    }
}

fn store_all(store: &dyn Store, subs: &[Submission]) {
    assert!(store.submit(subs).unwrap().iter().all(Result::is_ok));
}

/// A return resubmitted with its first whole-number cell raised by `by`.
fn corrected(sub: &Submission, by: i64) -> Submission {
    let mut next = sub.clone();
    let cell = next
        .values
        .iter_mut()
        .find(|c| matches!(c.value, Value::Int(_)))
        .expect("a whole-number cell");
    if let Value::Int(n) = &mut cell.value {
        *n += by;
    }
    next
}

/// The figures, with values to nine decimals: sums of shares added in another order may differ
/// in the last bit.
fn figures(values: Vec<IndicatorValue>) -> Vec<String> {
    values
        .into_iter()
        .map(|v| {
            format!(
                "{} {} {} {:?} {:?} {:?} {:?} {:?} {} {} {:?}",
                v.indicator,
                v.unit,
                v.period,
                v.value.map(|x| format!("{x:.9}")),
                v.numerator,
                v.denominator,
                v.coverage.map(|x| format!("{x:.9}")),
                v.status,
                v.reporting,
                v.due,
                v.basis
            )
        })
        .collect()
}

/// Who owes which return of `period` under `unit`, and what arrived.
fn due(e: &Engine, period: &Period, unit: &str) -> Vec<(String, String, Option<chrono::NaiveDate>, Option<i64>)> {
    e.completeness(period, unit)
        .unwrap()
        .iter()
        .map(|x| (x.unit.key.clone(), x.form.id.clone(), x.received, x.version))
        .collect()
}

fn changes_of(store: &dyn Store, after: i64) -> (Snapshot, i64) {
    let c = store.changes_after(after).unwrap();
    (
        Snapshot {
            values: c.values,
            returns: c.returns,
        },
        c.seen,
    )
}

#[test]
fn an_applied_engine_gives_the_figures_of_one_built_over_the_whole_store() {
    let cat = bundled_catalog();
    let store = memory_store();
    let (y2024, s2026) = (generated(&cat, "2024", 3), generated(&cat, "2026S1", 5));
    store_all(&store, &y2024);
    store_all(&store, &s2026);
    let (everything, _) = changes_of(&store, 0);
    let before = Engine::new(cat.clone(), everything).unwrap();

    // Then: a period the engine had nothing of (2026P), a corrected 2026S1 return, and a corrected
    // 2024 return of a unit that has since ended (its figures count in today's successor).
    store_all(&store, &generated(&cat, "2026P", 7));
    let ended = y2024
        .iter()
        .find(|s| cat.units.get(&s.unit).is_some_and(|u| u.valid_to.is_some()))
        .expect("a 2024 return of a unit that has since ended");
    store_all(&store, &[corrected(&s2026[0], 40), corrected(ended, 25)]);

    let (changes, seen) = changes_of(&store, before.last_id());
    assert_eq!(seen, before.versions() as i64, "the engine holds every earlier version");
    let applied = before.apply(changes).unwrap();
    let whole = engine_of(&cat, &store);
    assert_eq!(applied.versions(), whole.versions());
    assert_eq!(applied.last_id(), whole.last_id());

    // The province and each of its units (`compute` gives a unit and its children).
    let province = cat.province.code.clone();
    for period in ["2024", "2026S1", "2026P", "2026", "2024-2026"] {
        assert_eq!(
            figures(compute(&applied, period, &province)),
            figures(compute(&whole, period, &province)),
            "{period}"
        );
        let spec = PeriodSpec::parse(period).unwrap();
        assert_eq!(
            block_on(applied.form_totals(&spec, &province)).unwrap(),
            block_on(whole.form_totals(&spec, &province)).unwrap(),
            "{period}"
        );
    }
    for code in ["2026S1", "2026P"] {
        let p = Period::parse(code).unwrap();
        assert_eq!(due(&applied, &p, &province), due(&whole, &p, &province), "{code}");
    }
    // The check can fail: the engine before the changes gives other figures.
    assert_ne!(
        figures(compute(&before, "2026S1", &province)),
        figures(compute(&whole, "2026S1", &province))
    );
    assert_ne!(
        figures(compute(&before, "2024", &province)),
        figures(compute(&whole, "2024", &province))
    );
}

#[test]
fn an_engine_that_reads_its_periods_on_first_use_gives_the_figures_of_one_that_read_everything() {
    use pbgdpl_dashboards::{load_engine, read_periods};
    let cat = bundled_catalog();
    let store = memory_store();
    let (y2024, s2026) = (generated(&cat, "2024", 3), generated(&cat, "2026S1", 5));
    store_all(&store, &y2024);
    store_all(&store, &s2026);
    store_all(&store, &generated(&cat, "2026P", 7));
    let lazy = load_engine(&cat, &store).unwrap().engine;
    let then = engine_of(&cat, &store);
    assert_eq!((lazy.versions(), lazy.last_id()), (then.versions(), then.last_id()));
    assert_eq!(lazy.returns().count(), 0, "nothing read yet");

    // A period not read is refused, never computed without its returns.
    let province = cat.province.code.clone();
    let s1 = PeriodSpec::parse("2026S1").unwrap();
    let refused = block_on(lazy.indicators(&s1, &province));
    assert!(
        matches!(&refused, Err(pbgdpl_engine::Error::NotLoaded(p)) if p == "2026S1"),
        "{refused:?}"
    );
    assert!(matches!(
        lazy.completeness(&Period::parse("2024").unwrap(), &province),
        Err(pbgdpl_engine::Error::NotLoaded(_))
    ));

    // Corrections stored after the engine was made, to a period about to be read and to one that
    // stays unread until after they are applied.
    store_all(&store, &[corrected(&s2026[0], 40), corrected(&y2024[0], 25)]);
    // Read now, 2026S1 is what it was when the engine was made: its versions up to the engine's id.
    let read = read_periods(lazy, &store, &s1.stored_periods()).unwrap();
    assert_eq!(
        figures(compute(&read, "2026S1", &province)),
        figures(compute(&then, "2026S1", &province))
    );
    // Then the changes: applied to 2026S1, left for 2024 to be read with.
    let (changes, seen) = changes_of(&store, read.last_id());
    assert_eq!(seen, read.versions() as i64);
    let applied = read.apply(changes).unwrap();
    assert_eq!(applied.unread_periods(), ["2024", "2026P"]);
    let whole = engine_of(&cat, &store);
    assert_eq!(
        (applied.versions(), applied.last_id()),
        (whole.versions(), whole.last_id())
    );
    for period in ["2026S1", "2024", "2026P", "2026", "2024-2026"] {
        let spec = PeriodSpec::parse(period).unwrap();
        let e = read_periods(applied.clone(), &store, &spec.stored_periods()).unwrap();
        assert_eq!(
            figures(compute(&e, period, &province)),
            figures(compute(&whole, period, &province)),
            "{period}"
        );
        assert_eq!(
            block_on(e.form_totals(&spec, &province)).unwrap(),
            block_on(whole.form_totals(&spec, &province)).unwrap(),
            "{period}"
        );
        if let PeriodSpec::Single(p) = spec {
            assert_eq!(due(&e, &p, &province), due(&whole, &p, &province), "{period}");
        }
    }
    // The check can fail: both corrections change the totals of their period.
    for period in ["2026S1", "2024"] {
        let spec = PeriodSpec::parse(period).unwrap();
        assert_ne!(
            block_on(then.form_totals(&spec, &province)).unwrap(),
            block_on(whole.form_totals(&spec, &province)).unwrap(),
            "{period}"
        );
    }
}
