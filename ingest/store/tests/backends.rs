//! The rules every backend keeps, run against each: the embedded SQLite store, and PostgreSQL when
//! `PBGDPL_TEST_POSTGRES` names a server (`scripts/test.sh` starts one) — then also against two
//! stores on one database, as two app servers are; and what only SQLite does (its file, backups).

use std::sync::{Arc, Barrier};

use chrono::{DateTime, Utc};
use pbgdpl_catalog::Role;
use pbgdpl_catalog::model::{CellValue, SurveyRow, SurveySubmission, Value};
use pbgdpl_store::{
    Actor, Error, FILE_NAME, PostgresStore, Refused, SqliteStore, Store, Stored, Submission, TOKEN_DAYS, restore,
    sha256_hex, testing,
};

fn at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-05T03:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn sub(values: &[(&str, u32, i64)]) -> Submission {
    Submission {
        unit: "99001".into(),
        form: "F01".into(),
        period: "2026S1".into(),
        values: values
            .iter()
            .map(|(r, c, v)| CellValue {
                row: (*r).into(),
                column: *c,
                value: Value::Int(*v),
                cell: None,
            })
            .collect(),
        warnings: Vec::new(),
        received_at: at(),
        submitted_by: None,
        source: "api".into(),
        client: None,
        file_name: None,
        file_sha256: None,
    }
}

fn one(store: &dyn Store, s: &Submission) -> Result<Stored, Refused> {
    store.submit(std::slice::from_ref(s)).unwrap().pop().unwrap()
}

/// Each case as a test per backend. Without a PostgreSQL server the PostgreSQL tests say so on
/// stderr and pass; `scripts/test.sh` always provides one.
macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $case() {
                super::$case(&pbgdpl_store::SqliteStore::in_memory().unwrap());
            })*
        }
        mod postgres {
            $(#[test]
            fn $case() {
                match pbgdpl_store::testing::fresh_store_url(stringify!($case)) {
                    Some(url) => super::$case(&pbgdpl_store::PostgresStore::open(&url).unwrap()),
                    None => eprintln!("skipped: {} is not set", pbgdpl_store::testing::ENV),
                }
            })*
        }
    };
}

on_every_backend!(
    resubmission_is_a_new_version_and_identical_is_a_no_op,
    a_locked_period_refuses_inside_the_write_and_the_log_keeps_who_locked_it,
    tokens_expire_rotate_and_die_with_their_user,
    passwords_sessions_and_login_links,
    rejections_are_logged_with_their_rules_and_nothing_stored,
    survey_files_are_versions_and_a_lock_refuses_them,
    changes_after_an_id_are_the_versions_since_and_their_latest_values,
    a_period_up_to_an_id_is_what_a_reader_holding_that_id_sees,
);

fn survey(answers: &[&str]) -> SurveySubmission {
    SurveySubmission {
        survey: "KS-CDS".into(),
        period: "2026S1".into(),
        rows: answers
            .iter()
            .enumerate()
            .map(|(i, a)| SurveyRow {
                line: i as u32 + 2,
                respondent: Some(format!("r{i}")),
                unit: "99001".into(),
                area: Some("urban".into()),
                weight: None,
                date: None,
                answers: [("CDS-5".to_owned(), (*a).to_owned())].into_iter().collect(),
            })
            .collect(),
        received_at: at(),
        submitted_by: Some("stp".into()),
        source: "api".into(),
        client: None,
        file_name: Some("ks.csv".into()),
        file_sha256: None,
    }
}

fn survey_files_are_versions_and_a_lock_refuses_them(store: &dyn Store) {
    let before = store.generation().unwrap();
    let first = store.submit_survey(&survey(&["5", "4", "2"])).unwrap().unwrap();
    assert_eq!((first.version, first.new_version), (1, true));
    assert_ne!(
        store.generation().unwrap(),
        before,
        "a stored survey changes the generation"
    );
    let same = store.submit_survey(&survey(&["5", "4", "2"])).unwrap().unwrap();
    assert_eq!((same.version, same.new_version), (1, false));
    let second = store.submit_survey(&survey(&["5", "1"])).unwrap().unwrap();
    assert_eq!((second.version, second.new_version), (2, true));
    let latest = store.surveys().unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!((latest[0].version, latest[0].rows.len()), (2, 2));
    assert_eq!(latest[0].rows[1].answers["CDS-5"], "1");
    assert!(store.lock_period("2026S1", &Actor::cli(at())).unwrap());
    assert_eq!(
        store.submit_survey(&survey(&["3"])).unwrap(),
        Err(Refused::PeriodLocked)
    );
    assert_eq!(store.surveys().unwrap()[0].version, 2);
    let audit = store.audit_log(None, 50).unwrap();
    assert_eq!(audit.iter().filter(|a| a.action == "survey.stored").count(), 2);
}

fn changes_after_an_id_are_the_versions_since_and_their_latest_values(store: &dyn Store) {
    let empty = store.changes_after(0).unwrap();
    assert_eq!((empty.returns.len(), empty.values.len(), empty.seen), (0, 0, 0));
    assert_eq!(empty.generation, store.generation().unwrap());
    let first = one(store, &sub(&[("01", 1, 100), ("02", 1, 50)])).unwrap();
    let mut other = sub(&[("01", 1, 7)]);
    other.unit = "99002".into();
    one(store, &other).unwrap();
    let everything = store.changes_after(0).unwrap();
    assert_eq!(
        (everything.returns.len(), everything.values.len(), everything.seen),
        (2, 3, 0)
    );
    let last = everything.returns.iter().map(|r| r.id).max().unwrap();
    // A reader holding both versions: a new version of the first return is all it misses, with
    // that return's latest values (not the other return's, not version 1's).
    one(store, &sub(&[("01", 1, 120), ("02", 1, 50)])).unwrap();
    let since = store.changes_after(last).unwrap();
    assert_eq!(
        since
            .returns
            .iter()
            .map(|r| (r.unit.as_str(), r.version))
            .collect::<Vec<_>>(),
        [("99001", 2)]
    );
    let mut latest: Vec<(String, i64, Option<i64>)> = since
        .values
        .iter()
        .map(|v| (v.row.clone(), v.version, v.value.as_i64()))
        .collect();
    latest.sort();
    assert_eq!(latest, [("01".into(), 2, Some(120)), ("02".into(), 2, Some(50))]);
    assert_eq!(
        since.seen, 2,
        "the versions up to the reader's id, to check it holds them all"
    );
    assert_eq!(since.generation, store.generation().unwrap());
    assert_eq!(first.version, 1);
    // Nothing new: nothing to apply, and the same generation.
    let after = store.changes_after(since.returns[0].id).unwrap();
    assert_eq!((after.returns.len(), after.values.len(), after.seen), (0, 0, 3));
    assert_eq!(after.surveys, 0);
    store.submit_survey(&survey(&["5"])).unwrap().unwrap();
    assert_eq!(store.changes_after(0).unwrap().surveys, 1);
}

fn a_period_up_to_an_id_is_what_a_reader_holding_that_id_sees(store: &dyn Store) {
    one(store, &sub(&[("01", 1, 100), ("02", 1, 50)])).unwrap();
    let mut other_period = sub(&[("01", 1, 9)]);
    other_period.period = "2025".into();
    one(store, &other_period).unwrap();
    let held = store.changes_after(i64::MAX).unwrap();
    assert_eq!(
        (held.seen, held.returns.len()),
        (2, 0),
        "every version is up to the highest id"
    );
    // Stored after the reader's id: a second version, and a return of another unit.
    one(store, &sub(&[("01", 1, 120)])).unwrap();
    let mut later = sub(&[("01", 1, 7)]);
    later.unit = "99002".into();
    one(store, &later).unwrap();

    let (returns, values) = store.period_upto("2026S1", held.last_id).unwrap();
    assert_eq!(
        returns.iter().map(|r| (r.unit.as_str(), r.version)).collect::<Vec<_>>(),
        [("99001", 1)],
        "the versions up to the id, of that period only"
    );
    let mut cells: Vec<(String, i64, Option<i64>)> = values
        .iter()
        .map(|v| (v.row.clone(), v.version, v.value.as_i64()))
        .collect();
    cells.sort();
    assert_eq!(cells, [("01".into(), 1, Some(100)), ("02".into(), 1, Some(50))]);

    // Up to the newest id: what `latest_values` gives.
    let newest = store.changes_after(i64::MAX).unwrap().last_id;
    let (returns, values) = store.period_upto("2026S1", newest).unwrap();
    assert_eq!(returns.len(), 3);
    let mut now: Vec<_> = values
        .iter()
        .map(|v| (v.unit.clone(), v.row.clone(), v.value.as_i64()))
        .collect();
    let mut latest: Vec<_> = store
        .latest_values(Some("2026S1"))
        .unwrap()
        .iter()
        .map(|v| (v.unit.clone(), v.row.clone(), v.value.as_i64()))
        .collect();
    now.sort();
    latest.sort();
    assert_eq!(now, latest);
    assert!(now.contains(&("99001".into(), "01".into(), Some(120))));
}

fn resubmission_is_a_new_version_and_identical_is_a_no_op(store: &dyn Store) {
    let first = one(store, &sub(&[("01", 1, 100), ("02", 1, 50)])).unwrap();
    assert_eq!((first.version, first.new_version), (1, true));
    let same = one(store, &sub(&[("02", 1, 50), ("01", 1, 100)])).unwrap();
    assert_eq!((same.version, same.new_version), (1, false));
    let changed = one(store, &sub(&[("01", 1, 120), ("02", 1, 50)])).unwrap();
    assert_eq!((changed.version, changed.new_version), (2, true));
    assert_eq!(
        changed.changed,
        vec![("01".to_string(), 1, Some("100".to_string()), Some("120".to_string()))]
    );
    // Both versions stay; the latest counts.
    assert_eq!(store.returns(Some("2026S1")).unwrap().len(), 2);
    let latest = store.latest_values(Some("2026S1")).unwrap();
    assert_eq!(
        latest.iter().find(|v| v.row == "01").map(|v| v.value.clone()),
        Some(Value::Int(120))
    );
    // Two new versions, two audit lines.
    let log = store.audit_log(None, 100).unwrap();
    assert_eq!(
        log.iter()
            .map(|l| l.subject.clone().unwrap_or_default())
            .collect::<Vec<_>>(),
        ["99001/F01/2026S1 v1", "99001/F01/2026S1 v2"]
    );
}

fn a_locked_period_refuses_inside_the_write_and_the_log_keeps_who_locked_it(store: &dyn Store) {
    let admin = Actor {
        user: Some("admin".into()),
        from: Some("127.0.0.1".into()),
        at: at(),
    };
    assert!(store.lock_period("2026S1", &admin).unwrap());
    assert!(!store.lock_period("2026S1", &admin).unwrap(), "the first lock is kept");
    assert_eq!(one(store, &sub(&[("01", 1, 1)])), Err(Refused::PeriodLocked));
    assert!(store.returns(None).unwrap().is_empty(), "nothing of it stored");
    assert!(store.unlock_period("2026S1", &Actor::cli(at())).unwrap());
    assert!(one(store, &sub(&[("01", 1, 1)])).is_ok());
    let log = store.audit_log(None, 10).unwrap();
    let unlock = log.iter().find(|l| l.action == "period.unlock").unwrap();
    assert!(unlock.detail.as_deref().unwrap().contains("admin"), "{unlock:?}");
}

fn passwords_sessions_and_login_links(store: &dyn Store) {
    let by = Actor::cli(at());
    store.add_user("lan", Role::Viewer, None, &by).unwrap();
    assert!(store.set_password("lan", "ngắn", &by).is_err(), "too short");
    store.set_password("lan", "mật-khẩu-dài", &by).unwrap();
    assert_eq!(
        store.check_password("lan", "mật-khẩu-dài").unwrap().map(|u| u.role),
        Some(Role::Viewer)
    );
    assert!(store.check_password("lan", "sai").unwrap().is_none());
    assert!(store.check_password("ai", "mật-khẩu-dài").unwrap().is_none());
    let (token, csrf) = store.create_session("lan", at(), 8).unwrap();
    let (user, got_csrf) = store.session(&token, at()).unwrap().unwrap();
    assert_eq!((user.name.as_str(), got_csrf), ("lan", csrf));
    assert!(
        store
            .session(&token, at() + chrono::Duration::hours(9))
            .unwrap()
            .is_none(),
        "expired"
    );
    // A new password ends the sessions of the old one.
    store.set_password("lan", "mật-khẩu-mới-dài", &by).unwrap();
    assert!(store.session(&token, at()).unwrap().is_none());
    let (token, _) = store.create_session("lan", at(), 8).unwrap();
    store.end_session(&token).unwrap();
    assert!(store.session(&token, at()).unwrap().is_none());
    let link = store.create_login_link("lan", at(), 15).unwrap();
    assert_eq!(store.use_login_link(&link, at()).unwrap().as_deref(), Some("lan"));
    assert_eq!(store.use_login_link(&link, at()).unwrap(), None, "a link works once");
}

fn tokens_expire_rotate_and_die_with_their_user(store: &dyn Store) {
    let by = Actor::cli(at());
    let token = store.add_user("an", Role::Reporter, Some("99001"), &by).unwrap();
    let user = store.user_by_token(&token, at()).unwrap().unwrap();
    assert_eq!((user.name.as_str(), user.unit.as_deref()), ("an", Some("99001")));
    assert!(store.user_by_token("pbg_wrong", at()).unwrap().is_none());
    assert!(matches!(
        store.add_user("an", Role::Viewer, None, &by),
        Err(Error::Input(_))
    ));
    let later = at() + chrono::Duration::days(TOKEN_DAYS + 1);
    assert!(store.user_by_token(&token, later).unwrap().is_none(), "expired");
    let new = store.rotate_token("an", &by).unwrap();
    assert!(
        store.user_by_token(&token, at()).unwrap().is_none(),
        "the old token is revoked"
    );
    assert!(store.user_by_token(&new, at()).unwrap().is_some());
    store.disable_user("an", &by).unwrap();
    assert!(store.user_by_token(&new, at()).unwrap().is_none(), "disabled");
}

fn rejections_are_logged_with_their_rules_and_nothing_stored(store: &dyn Store) {
    let issues = vec![pbgdpl_catalog::Issue::error(
        pbgdpl_catalog::Rule::UnknownUnit,
        "đơn vị không có trong danh sách",
    )];
    store
        .log_rejection(&pbgdpl_store::Rejection {
            unit: Some("99001"),
            form: Some("F01"),
            period: Some("2026S1"),
            received_at: at(),
            submitted_by: Some("an"),
            source: "api",
            file_name: Some("bieu01.xlsx"),
            file_sha256: None,
            issues: &issues,
        })
        .unwrap();
    let logged = store.rejections("99001").unwrap();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].file_name.as_deref(), Some("bieu01.xlsx"));
    assert_eq!(logged[0].issues.len(), 1);
    assert!(store.returns(None).unwrap().is_empty());
    assert!(!store.is_empty().unwrap(), "a rejection is history too");
    let log = store.audit_log(None, 10).unwrap();
    assert_eq!(log.last().unwrap().detail.as_deref(), Some("unknown_unit"));
    assert_eq!(store.generation().unwrap(), 0, "no return, no new generation");
}

/// Two stores on one PostgreSQL database stand for two app servers: 40 concurrent versions of one
/// return, half through each, are all stored, numbered 1 to 40 without a gap or a repeat; a period
/// one locks is refused by the other; each sees the other's returns at once.
#[test]
fn two_servers_on_one_postgres_database_never_collide() {
    let Some(url) = testing::fresh_store_url("two_servers") else {
        eprintln!("skipped: {} is not set", testing::ENV);
        return;
    };
    let a = Arc::new(PostgresStore::open(&url).unwrap());
    let b = Arc::new(PostgresStore::open(&url).unwrap());
    let barrier = Arc::new(Barrier::new(40));
    let threads: Vec<_> = (0..40)
        .map(|i| {
            let store: Arc<dyn Store> = if i % 2 == 0 { a.clone() } else { b.clone() };
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                one(&*store, &sub(&[("01", 1, 1_000 + i)]))
            })
        })
        .collect();
    let mut versions: Vec<i64> = threads
        .into_iter()
        .map(|t| t.join().unwrap().expect("never refused").version)
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, (1..=40).collect::<Vec<_>>());
    let stored: Vec<i64> = b.returns(Some("2026S1")).unwrap().iter().map(|r| r.version).collect();
    assert_eq!(stored, (1..=40).collect::<Vec<_>>(), "what a stored, b reads");
    assert_eq!(a.generation().unwrap(), b.generation().unwrap());
    assert!(a.lock_period("2026S1", &Actor::cli(at())).unwrap());
    assert_eq!(one(&*b, &sub(&[("01", 1, 7)])), Err(Refused::PeriodLocked));
    assert!(
        matches!(b.backup(std::path::Path::new("/nonexistent/x")), Err(Error::Input(_))),
        "a live database is copied by pg_dump"
    );
    assert!(a.integrity_check().unwrap().is_empty());
}

#[test]
fn a_malformed_url_is_the_users_mistake_and_an_absent_server_the_operators() {
    let bad = PostgresStore::open("postgres://pbgdpl:secret@127.0.0.1:notaport/pbgdpl")
        .err()
        .unwrap();
    assert!(matches!(bad, Error::Input(_)), "{bad:?}");
    assert!(!bad.to_string().contains("secret"), "{bad}");
    // Nothing listens on port 1.
    let err = PostgresStore::open("postgres://pbgdpl:secret@127.0.0.1:1/pbgdpl")
        .err()
        .unwrap();
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
    assert_eq!(err.fault(), pbgdpl_catalog::Fault::Operator);
    assert!(!err.to_string().contains("secret"), "{err}");
}

#[test]
fn sqlite_stores_tokens_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let token = store
        .add_user("an", Role::Reporter, Some("99001"), &Actor::cli(at()))
        .unwrap();
    let file = rusqlite::Connection::open(dir.path().join(FILE_NAME)).unwrap();
    let stored: String = file
        .query_row("SELECT token_sha256 FROM users", [], |r| r.get(0))
        .unwrap();
    assert_ne!(stored, token);
    assert_eq!(stored, sha256_hex(token.as_bytes()));
}

#[test]
fn a_sqlite_backup_restores_whole_and_a_broken_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("store")).unwrap();
    one(&store, &sub(&[("01", 1, 100)])).unwrap();
    let copy = dir.path().join("copy.sqlite3");
    store.backup(&copy).unwrap();
    assert!(store.backup(&copy).is_err(), "never overwrites");
    one(&store, &sub(&[("01", 1, 200)])).unwrap();
    drop(store);
    restore(&dir.path().join("store"), &copy, &Actor::cli(at())).unwrap();
    let store = SqliteStore::open(&dir.path().join("store")).unwrap();
    assert_eq!(store.returns(None).unwrap().len(), 1, "the state of the backup");
    assert!(store.integrity_check().unwrap().is_empty());
    let junk = dir.path().join("junk.sqlite3");
    std::fs::write(&junk, b"not a database at all, just text").unwrap();
    assert!(restore(&dir.path().join("store"), &junk, &Actor::cli(at())).is_err());
}
