//! PostgreSQL as the system of record when one file is not enough: several app servers on one
//! database (the Ministry, a province behind a load balancer). Same schema, same rules as the
//! embedded store, kept by the database across processes instead of by one writer per process:
//!
//! - every write is one transaction that first takes advisory locks in a fixed order — the periods it
//!   touches (shared; `lock_period` takes its period exclusive), then the returns it versions
//!   (exclusive) — so two servers storing the same return wait for each other, versions are strictly
//!   ordered, and a lock taken on one server refuses the returns another is storing;
//! - a lock wait is bounded (`lock_timeout`), after which the store answers [`Error::Busy`] (HTTP
//!   503 with `Retry-After`), never a validation error;
//! - a commit is durable when it returns (PostgreSQL's default `synchronous_commit = on`).
//!
//! Instants stay RFC 3339 text as in SQLite, so records read back identical from both backends.

use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use pbgdpl_catalog::model::{CellValue, ReturnRecord, StoredValue, SurveySubmission, SurveyVersion, Value};
use pbgdpl_catalog::{Role, User};
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, GenericClient, NoTls, Row, Transaction};

use crate::auth::{TOKEN_DAYS, hash_password, random_token, sha256_hex};
use crate::shared::{
    content_hash, event, lock, matching_user, no_such_user, rejection_audit, stored_audit, survey_audit,
    survey_content, ts, unlock_event, user_added_event, user_of,
};
use crate::{
    Actor, AuditEvent, AuditRecord, Changes, Error, PeriodLock, Refused, Rejection, RejectionRecord, Result, Store,
    Stored, Submission, UserRecord,
};

mod embedded {
    refinery::embed_migrations!("migrations/postgres");
}

/// Connections kept open between requests.
const MAX_IDLE: usize = 16;

/// The generation: it changes whenever a version of a return or a survey is stored. A counter
/// (migration V3) rather than the highest id, which misses a lower id committed after a higher one,
/// or a count of the versions, which costs a scan of them on every request.
const GENERATION_SQL: &str = "SELECT n FROM store_generation";

/// Raises the generation: the last statement of a transaction that stored a version. Its row lock
/// orders the commits that raise it, and is held only from here to the commit, so writers storing
/// different returns wait for each other no longer than a commit takes.
fn next_generation(tx: &mut Transaction<'_>) -> Result<()> {
    tx.execute("UPDATE store_generation SET n = n + 1", &[])?;
    Ok(())
}

/// Advisory lock namespaces (the first key of `pg_advisory_xact_lock(int, int)`).
const LOCK_PERIOD: i32 = 1;
const LOCK_RETURN: i32 = 2;

/// The PostgreSQL store: a pool of connections to one database.
pub struct PostgresStore {
    config: postgres::Config,
    /// The URL without its password, for messages.
    shown: String,
    idle: Mutex<Vec<Client>>,
}

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        match e.code() {
            Some(c) if *c == SqlState::LOCK_NOT_AVAILABLE || *c == SqlState::T_R_DEADLOCK_DETECTED => Error::Busy,
            Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::QUERY_CANCELED => Error::Busy,
            Some(c) if c.code().starts_with("08") || c.code().starts_with("53") || c.code().starts_with("57") => {
                Error::Unavailable(e.to_string())
            }
            Some(_) => Error::Postgres(e),
            // No SQL state: the connection itself failed (refused, closed, timed out).
            None => Error::Unavailable(e.to_string()),
        }
    }
}

/// Whether a store location names a PostgreSQL database rather than a folder.
pub(crate) fn is_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// `url` with the password of its user info, if any, replaced by `***`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((info, host)) if info.contains(':') => {
            let user = info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

impl PostgresStore {
    /// Connects to the database of `url` (`postgres://user@host:port/db`, libpq's URL form) and brings
    /// its schema to the current version.
    pub fn open(url: &str) -> Result<PostgresStore> {
        let shown = without_password(url);
        let config: postgres::Config = url
            .parse()
            .map_err(|e| Error::Input(format!("địa chỉ PostgreSQL không hợp lệ `{shown}`: {e}")))?;
        let store = PostgresStore {
            config,
            shown,
            idle: Mutex::default(),
        };
        let mut client = store.connect()?;
        // Two servers starting at once on a new database: one migrates, the other waits for it.
        client.batch_execute("SELECT pg_advisory_lock(0, 0)")?;
        let migrated = embedded::migrations::runner()
            .run(&mut client)
            .map(|_| ())
            .map_err(|e| Error::Migration(e.to_string()));
        client.batch_execute("SELECT pg_advisory_unlock(0, 0)")?;
        migrated?;
        lock(&store.idle).push(client);
        Ok(store)
    }

    /// The database, for messages (no password).
    pub fn location(&self) -> &str {
        &self.shown
    }

    fn connect(&self) -> Result<Client> {
        let mut client = self
            .config
            .connect(NoTls)
            .map_err(|e| Error::Unavailable(format!("{}: {e}", self.shown)))?;
        // A write waits at most 5 s for another's locks (then `Busy`), a statement runs at most
        // a minute, and a transaction left open by a dead request is ended by the server.
        client.batch_execute(
            "SET lock_timeout = '5s'; SET statement_timeout = '60s'; \
             SET idle_in_transaction_session_timeout = '60s'",
        )?;
        Ok(client)
    }

    /// Runs `f` on a pooled connection.
    fn with<T>(&self, f: impl FnOnce(&mut Client) -> Result<T>) -> Result<T> {
        let pooled = lock(&self.idle).pop();
        let mut client = match pooled {
            Some(c) if !c.is_closed() => c,
            _ => self.connect()?,
        };
        let out = f(&mut client);
        if !client.is_closed() {
            let mut idle = lock(&self.idle);
            if idle.len() < MAX_IDLE {
                idle.push(client);
            }
        }
        out
    }

    /// Runs `f` in one transaction, committed when `f` succeeds and rolled back otherwise.
    fn write<T>(&self, f: impl FnOnce(&mut Transaction<'_>) -> Result<T>) -> Result<T> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let out = f(&mut tx)?;
            tx.commit()?;
            Ok(out)
        })
    }

    fn read<T>(&self, f: impl FnOnce(&mut Client) -> Result<T>) -> Result<T> {
        self.with(f)
    }
}

fn returns_where(c: &mut impl GenericClient, cond: &str, p: &[&(dyn ToSql + Sync)]) -> Result<Vec<ReturnRecord>> {
    let sql = format!(
        "SELECT id, unit, form, period, version, received_at, submitted_by, source, file_name, file_sha256
         FROM returns WHERE {cond}"
    );
    Ok(c.query(&sql, p)?
        .iter()
        .map(|r| ReturnRecord {
            id: r.get(0),
            unit: r.get(1),
            form: r.get(2),
            period: r.get(3),
            version: r.get(4),
            received_at: r.get(5),
            submitted_by: r.get(6),
            source: r.get(7),
            file_name: r.get(8),
            file_sha256: r.get(9),
        })
        .collect())
}

/// The values of the returns `cond` picks that are the latest of their return among the versions
/// `among` picks (a condition on `x`; `TRUE`: every stored version).
fn values_where(
    c: &mut impl GenericClient,
    cond: &str,
    among: &str,
    p: &[&(dyn ToSql + Sync)],
) -> Result<Vec<StoredValue>> {
    let sql = format!(
        "SELECT r.unit, r.form, r.period, v.row_code, v.col, v.num, v.txt, r.version
         FROM returns r JOIN cell_values v ON v.return_id = r.id
         WHERE {cond} AND r.version = (SELECT MAX(version) FROM returns x
                                       WHERE x.unit = r.unit AND x.form = r.form AND x.period = r.period
                                         AND {among})
         ORDER BY r.unit, r.form, r.period, v.row_code, v.col"
    );
    Ok(c.query(&sql, p)?
        .iter()
        .map(|r| {
            let num: Option<i64> = r.get(5);
            StoredValue {
                unit: r.get(0),
                form: r.get(1),
                period: r.get(2),
                row: r.get(3),
                column: r.get::<_, i32>(4) as u32,
                value: match num {
                    Some(n) => Value::Int(n),
                    None => Value::Text(r.get::<_, Option<String>>(6).unwrap_or_default()),
                },
                version: r.get(7),
            }
        })
        .collect())
}

/// A read-only transaction in which every statement sees one snapshot of the database.
fn snapshot(c: &mut Client) -> Result<Transaction<'_>> {
    Ok(c.build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?)
}

fn audit_in(tx: &mut Transaction<'_>, by: &Actor, e: &AuditEvent) -> Result<()> {
    tx.execute(
        AUDIT_SQL,
        &[&ts(by.at), &by.user, &by.from, &e.action, &e.subject, &e.detail],
    )?;
    Ok(())
}

fn user_exists(tx: &mut Transaction<'_>, name: &str) -> Result<bool> {
    Ok(tx.query_opt("SELECT 1 FROM users WHERE name = $1", &[&name])?.is_some())
}

fn user_row(r: &Row) -> User {
    user_of(r.get(0), r.get(1), r.get(2))
}

/// Takes the advisory locks of a batch in one fixed order (periods, then returns, each sorted), so
/// that two servers storing overlapping batches wait for each other instead of deadlocking.
fn lock_batch(tx: &mut Transaction<'_>, subs: &[Submission]) -> Result<()> {
    let mut periods: Vec<&str> = subs.iter().map(|s| s.period.as_str()).collect();
    periods.sort_unstable();
    periods.dedup();
    let mut keys: Vec<String> = subs
        .iter()
        .map(|s| format!("{}/{}/{}", s.unit, s.form, s.period))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    tx.execute(
        "SELECT pg_advisory_xact_lock_shared($1, hashtext(p)) FROM unnest($2::text[]) AS p",
        &[&LOCK_PERIOD, &periods],
    )?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext(k)) FROM unnest($2::text[]) AS k",
        &[&LOCK_RETURN, &keys],
    )?;
    Ok(())
}

/// The statements of a submission, prepared once per batch: a statement sent as text is parsed and
/// planned on every call, a round trip each, which at hundreds of returns a batch was most of the
/// time a batch took.
struct Statements {
    locked: postgres::Statement,
    latest: postgres::Statement,
    insert_return: postgres::Statement,
    insert_cells: postgres::Statement,
    insert_warnings: postgres::Statement,
    previous_cells: postgres::Statement,
    audit: postgres::Statement,
}

impl Statements {
    fn prepare(tx: &mut Transaction<'_>) -> Result<Statements> {
        Ok(Statements {
            locked: tx.prepare("SELECT 1 FROM period_locks WHERE period = $1")?,
            latest: tx.prepare(
                "SELECT id, version, content_sha256 FROM returns WHERE unit = $1 AND form = $2 AND period = $3
                 ORDER BY version DESC LIMIT 1",
            )?,
            insert_return: tx.prepare(
                "INSERT INTO returns (unit, form, period, version, received_at, submitted_by, source, client, file_name, file_sha256, content_sha256)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            )?,
            // One statement for all cells (a round trip per cell would dominate on a network).
            insert_cells: tx.prepare(
                "INSERT INTO cell_values (return_id, row_code, col, num, txt)
                 SELECT $1, * FROM unnest($2::text[], $3::int[], $4::bigint[], $5::text[])",
            )?,
            insert_warnings: tx
                .prepare("INSERT INTO warnings (return_id, issue_json) SELECT $1, * FROM unnest($2::text[])")?,
            previous_cells: tx.prepare("SELECT row_code, col, num, txt FROM cell_values WHERE return_id = $1")?,
            audit: tx.prepare(AUDIT_SQL)?,
        })
    }
}

const AUDIT_SQL: &str =
    "INSERT INTO audit (at, user_name, client, action, subject, detail) VALUES ($1, $2, $3, $4, $5, $6)";

fn store_one(tx: &mut Transaction<'_>, st: &Statements, sub: &Submission) -> Result<Stored> {
    let mut values: Vec<CellValue> = sub.values.clone();
    values.sort_by(|a, b| (&a.row, a.column).cmp(&(&b.row, b.column)));
    let content = content_hash(&sub.unit, &sub.form, &sub.period, &values);
    let latest = tx
        .query_opt(&st.latest, &[&sub.unit, &sub.form, &sub.period])?
        .map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1), r.get::<_, String>(2)));
    if let Some((_, version, hash)) = &latest
        && *hash == content
    {
        return Ok(Stored {
            version: *version,
            new_version: false,
            changed: Vec::new(),
        });
    }
    let version = latest.as_ref().map_or(1, |(_, v, _)| v + 1);
    let id: i64 = tx
        .query_one(
            &st.insert_return,
            &[
                &sub.unit,
                &sub.form,
                &sub.period,
                &version,
                &ts(sub.received_at),
                &sub.submitted_by,
                &sub.source,
                &sub.client,
                &sub.file_name,
                &sub.file_sha256,
                &content,
            ],
        )?
        .get(0);
    let rows: Vec<&str> = values.iter().map(|v| v.row.as_str()).collect();
    let cols: Vec<i32> = values.iter().map(|v| v.column as i32).collect();
    let nums: Vec<Option<i64>> = values.iter().map(|v| v.value.as_i64()).collect();
    let txts: Vec<Option<&str>> = values
        .iter()
        .map(|v| match &v.value {
            Value::Int(_) => None,
            Value::Text(t) => Some(t.as_str()),
        })
        .collect();
    tx.execute(&st.insert_cells, &[&id, &rows, &cols, &nums, &txts])?;
    let warnings: Vec<String> = sub
        .warnings
        .iter()
        .map(|w| serde_json::to_string(w).unwrap_or_default())
        .collect();
    if !warnings.is_empty() {
        tx.execute(&st.insert_warnings, &[&id, &warnings])?;
    }
    let changed = match latest {
        Some((prev_id, _, _)) => {
            let before = tx
                .query(&st.previous_cells, &[&prev_id])?
                .iter()
                .map(|r| {
                    let num: Option<i64> = r.get(2);
                    let txt: Option<String> = r.get(3);
                    (r.get(0), r.get::<_, i32>(1) as u32, num.map(|n| n.to_string()).or(txt))
                })
                .collect();
            crate::shared::changed_cells(before, &values)
        }
        None => Vec::new(),
    };
    Ok(Stored {
        version,
        new_version: true,
        changed,
    })
}

impl Store for PostgresStore {
    fn submit(&self, subs: &[Submission]) -> Result<Vec<Result<Stored, Refused>>> {
        self.write(|tx| {
            lock_batch(tx, subs)?;
            let st = Statements::prepare(tx)?;
            let mut out = Vec::with_capacity(subs.len());
            for sub in subs {
                let locked = tx.query_opt(&st.locked, &[&sub.period])?.is_some();
                if locked {
                    out.push(Err(Refused::PeriodLocked));
                    continue;
                }
                let stored = store_one(tx, &st, sub)?;
                if stored.new_version {
                    let (by, e) = stored_audit(sub, stored.version);
                    tx.execute(
                        &st.audit,
                        &[&ts(by.at), &by.user, &by.from, &e.action, &e.subject, &e.detail],
                    )?;
                }
                out.push(Ok(stored));
            }
            if out.iter().any(|s| s.as_ref().is_ok_and(|s| s.new_version)) {
                next_generation(tx)?;
            }
            Ok(out)
        })
    }

    fn log_rejection(&self, r: &Rejection<'_>) -> Result<()> {
        let json = serde_json::to_string(r.issues).map_err(|e| Error::Unavailable(e.to_string()))?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO rejections (unit, form, period, received_at, submitted_by, source, file_name, file_sha256, issues_json)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[&r.unit, &r.form, &r.period, &ts(r.received_at), &r.submitted_by, &r.source, &r.file_name, &r.file_sha256, &json],
            )?;
            let (by, e) = rejection_audit(r);
            audit_in(tx, &by, &e)
        })
    }

    fn submit_survey(&self, sub: &SurveySubmission) -> Result<Result<Stored, Refused>> {
        let (json, content) = survey_content(sub)?;
        self.write(|tx| {
            // The same order as returns: the period shared (a lock waits for it), then the survey.
            tx.execute(
                "SELECT pg_advisory_xact_lock_shared($1, hashtext($2))",
                &[&LOCK_PERIOD, &sub.period],
            )?;
            let key = format!("survey/{}/{}", sub.survey, sub.period);
            tx.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", &[&LOCK_RETURN, &key])?;
            if tx
                .query_opt("SELECT 1 FROM period_locks WHERE period = $1", &[&sub.period])?
                .is_some()
            {
                return Ok(Err(Refused::PeriodLocked));
            }
            let latest = tx
                .query_opt(
                    "SELECT version, content_sha256 FROM survey_versions WHERE survey = $1 AND period = $2
                     ORDER BY version DESC LIMIT 1",
                    &[&sub.survey, &sub.period],
                )?
                .map(|r| (r.get::<_, i64>(0), r.get::<_, String>(1)));
            if let Some((version, hash)) = &latest
                && *hash == content
            {
                return Ok(Ok(Stored {
                    version: *version,
                    new_version: false,
                    changed: Vec::new(),
                }));
            }
            let version = latest.map_or(1, |(v, _)| v + 1);
            let respondents = sub.rows.len() as i64;
            tx.execute(
                "INSERT INTO survey_versions (survey, period, version, received_at, submitted_by, source, client,
                 file_name, file_sha256, content_sha256, respondents, rows_json)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                &[
                    &sub.survey,
                    &sub.period,
                    &version,
                    &ts(sub.received_at),
                    &sub.submitted_by,
                    &sub.source,
                    &sub.client,
                    &sub.file_name,
                    &sub.file_sha256,
                    &content,
                    &respondents,
                    &json,
                ],
            )?;
            let (by, e) = survey_audit(sub, version);
            audit_in(tx, &by, &e)?;
            next_generation(tx)?;
            Ok(Ok(Stored {
                version,
                new_version: true,
                changed: Vec::new(),
            }))
        })
    }

    fn surveys(&self) -> Result<Vec<SurveyVersion>> {
        self.read(|c| {
            let rows = c.query(
                "SELECT survey, period, version, received_at, submitted_by, file_name, rows_json FROM survey_versions s
                 WHERE version = (SELECT MAX(version) FROM survey_versions x WHERE x.survey = s.survey AND x.period = s.period)
                 ORDER BY survey, period",
                &[],
            )?;
            rows.iter()
                .map(|r| {
                    let json: String = r.get(6);
                    Ok(SurveyVersion {
                        survey: r.get(0),
                        period: r.get(1),
                        version: r.get(2),
                        received_at: r.get(3),
                        submitted_by: r.get(4),
                        file_name: r.get(5),
                        rows: serde_json::from_str(&json)
                            .map_err(|e| Error::Unavailable(format!("survey rows: {e}")))?,
                    })
                })
                .collect()
        })
    }

    fn latest_values(&self, period: Option<&str>) -> Result<Vec<StoredValue>> {
        self.read(|c| match period {
            Some(p) => values_where(c, "r.period = $1", "TRUE", &[&p]),
            None => values_where(c, "TRUE", "TRUE", &[]),
        })
    }

    fn latest_return_values(&self, unit: &str, form: &str, period: &str) -> Result<Vec<StoredValue>> {
        self.read(|c| {
            values_where(
                c,
                "r.unit = $1 AND r.form = $2 AND r.period = $3",
                "TRUE",
                &[&unit, &form, &period],
            )
        })
    }

    fn returns(&self, period: Option<&str>) -> Result<Vec<ReturnRecord>> {
        self.read(|c| {
            returns_where(
                c,
                "($1::text IS NULL OR period = $1) ORDER BY unit, form, period, version",
                &[&period],
            )
        })
    }

    fn rejections(&self, unit: &str) -> Result<Vec<RejectionRecord>> {
        self.read(|c| {
            Ok(c.query(
                "SELECT received_at, file_name, issues_json FROM rejections WHERE unit = $1 ORDER BY id DESC LIMIT 200",
                &[&unit],
            )?
            .iter()
            .map(|r| RejectionRecord {
                received_at: r.get(0),
                file_name: r.get(1),
                issues: serde_json::from_str(r.get::<_, &str>(2)).unwrap_or_default(),
            })
            .collect())
        })
    }

    fn periods(&self) -> Result<Vec<String>> {
        self.read(|c| {
            Ok(c.query("SELECT DISTINCT period FROM returns", &[])?
                .iter()
                .map(|r| r.get(0))
                .collect())
        })
    }

    fn generation(&self) -> Result<i64> {
        // Read on every request: a return another server stored is seen by the next request here.
        self.read(|c| Ok(c.query_one(GENERATION_SQL, &[])?.get(0)))
    }

    fn changes_after(&self, after: i64) -> Result<Changes> {
        self.read(|c| {
            let mut tx = snapshot(c)?;
            let changes = Changes {
                returns: returns_where(&mut tx, "id > $1 ORDER BY id", &[&after])?,
                values: values_where(&mut tx, "r.id > $1", "TRUE", &[&after])?,
                seen: tx
                    .query_one("SELECT COUNT(*) FROM returns WHERE id <= $1", &[&after])?
                    .get(0),
                surveys: tx.query_one("SELECT COUNT(*) FROM survey_versions", &[])?.get(0),
                generation: tx.query_one(GENERATION_SQL, &[])?.get(0),
                last_id: tx.query_one("SELECT COALESCE(MAX(id), 0) FROM returns", &[])?.get(0),
            };
            tx.commit()?;
            Ok(changes)
        })
    }

    fn period_upto(&self, period: &str, upto: i64) -> Result<(Vec<ReturnRecord>, Vec<StoredValue>)> {
        self.read(|c| {
            let mut tx = snapshot(c)?;
            let returns = returns_where(
                &mut tx,
                "period = $1 AND id <= $2 ORDER BY unit, form, version",
                &[&period, &upto],
            )?;
            let values = values_where(&mut tx, "r.period = $1 AND r.id <= $2", "x.id <= $2", &[&period, &upto])?;
            tx.commit()?;
            Ok((returns, values))
        })
    }

    fn period_locks(&self) -> Result<Vec<PeriodLock>> {
        self.read(|c| {
            Ok(c.query(
                "SELECT period, locked_at, locked_by FROM period_locks ORDER BY period",
                &[],
            )?
            .iter()
            .map(|r| PeriodLock {
                period: r.get(0),
                locked_at: r.get(1),
                locked_by: r.get(2),
            })
            .collect())
        })
    }

    fn lock_period(&self, period: &str, by: &Actor) -> Result<bool> {
        self.write(|tx| {
            // Exclusive: waits for the returns of this period being stored, on any server.
            tx.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                &[&LOCK_PERIOD, &period],
            )?;
            let who = by.user.clone().or_else(|| by.from.clone());
            let n = tx.execute(
                "INSERT INTO period_locks (period, locked_at, locked_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&period, &ts(by.at), &who],
            )?;
            if n == 1 {
                audit_in(tx, by, &event("period.lock", Some(period.to_owned()), None))?;
            }
            Ok(n == 1)
        })
    }

    fn unlock_period(&self, period: &str, by: &Actor) -> Result<bool> {
        self.write(|tx| {
            let was = tx.query_opt(
                "DELETE FROM period_locks WHERE period = $1 RETURNING locked_at, locked_by",
                &[&period],
            )?;
            let Some(row) = was else {
                return Ok(false);
            };
            let (at, who): (String, Option<String>) = (row.get(0), row.get(1));
            audit_in(tx, by, &unlock_event(period, &at, who.as_deref()))?;
            Ok(true)
        })
    }

    fn add_user(&self, name: &str, role: Role, unit: Option<&str>, by: &Actor) -> Result<String> {
        let token = random_token("pbg")?;
        let expires = by.at + chrono::Duration::days(TOKEN_DAYS);
        self.write(|tx| {
            let n = tx.execute(
                "INSERT INTO users (name, role, unit, token_sha256, created_at, token_expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
                &[
                    &name,
                    &role.id(),
                    &unit,
                    &sha256_hex(token.as_bytes()),
                    &ts(by.at),
                    &ts(expires),
                ],
            )?;
            if n == 0 {
                return Err(Error::Input(format!("người dùng `{name}` đã tồn tại")));
            }
            audit_in(tx, by, &user_added_event(name, role, unit))
        })?;
        Ok(token)
    }

    fn set_password(&self, name: &str, password: &str, by: &Actor) -> Result<()> {
        let hash = hash_password(password)?;
        self.write(|tx| {
            let n = tx.execute("UPDATE users SET password_hash = $1 WHERE name = $2", &[&hash, &name])?;
            if n == 0 {
                return Err(no_such_user(name));
            }
            // A changed password ends every session opened with the old one.
            tx.execute("DELETE FROM sessions WHERE user_name = $1", &[&name])?;
            audit_in(tx, by, &event("user.password", Some(name.to_owned()), None))
        })
    }

    fn check_password(&self, name: &str, password: &str) -> Result<Option<User>> {
        let row = self.read(|c| {
            Ok(c.query_opt(
                "SELECT name, role, unit, password_hash FROM users WHERE name = $1 AND disabled_at IS NULL",
                &[&name],
            )?
            .map(|r| (user_row(&r), r.get::<_, Option<String>>(3))))
        })?;
        Ok(matching_user(row, password))
    }

    fn rotate_token(&self, name: &str, by: &Actor) -> Result<String> {
        let token = random_token("pbg")?;
        let expires = by.at + chrono::Duration::days(TOKEN_DAYS);
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE users SET token_sha256 = $1, token_expires_at = $2 WHERE name = $3",
                &[&sha256_hex(token.as_bytes()), &ts(expires), &name],
            )?;
            if n == 0 {
                return Err(no_such_user(name));
            }
            audit_in(tx, by, &event("user.token", Some(name.to_owned()), None))
        })?;
        Ok(token)
    }

    fn disable_user(&self, name: &str, by: &Actor) -> Result<()> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE users SET disabled_at = COALESCE(disabled_at, $1) WHERE name = $2",
                &[&ts(by.at), &name],
            )?;
            if n == 0 {
                return Err(no_such_user(name));
            }
            tx.execute("DELETE FROM sessions WHERE user_name = $1", &[&name])?;
            tx.execute("DELETE FROM login_links WHERE user_name = $1", &[&name])?;
            audit_in(tx, by, &event("user.disable", Some(name.to_owned()), None))
        })
    }

    fn users(&self) -> Result<Vec<UserRecord>> {
        self.read(|c| {
            Ok(c.query(
                "SELECT name, role, unit, created_at, disabled_at, token_expires_at, password_hash IS NOT NULL
                 FROM users ORDER BY name",
                &[],
            )?
            .iter()
            .map(|r| UserRecord {
                user: user_row(r),
                created_at: r.get(3),
                disabled_at: r.get(4),
                token_expires_at: r.get(5),
                has_password: r.get(6),
            })
            .collect())
        })
    }

    fn user_by_token(&self, token: &str, now: DateTime<Utc>) -> Result<Option<User>> {
        self.read(|c| {
            Ok(c.query_opt(
                "SELECT name, role, unit FROM users
                 WHERE token_sha256 = $1 AND disabled_at IS NULL AND (token_expires_at IS NULL OR token_expires_at > $2)",
                &[&sha256_hex(token.as_bytes()), &ts(now)],
            )?
            .map(|r| user_row(&r)))
        })
    }

    fn create_session(&self, name: &str, now: DateTime<Utc>, hours: i64) -> Result<(String, String)> {
        let (token, csrf) = (random_token("s")?, random_token("c")?);
        let expires = ts(now + chrono::Duration::hours(hours));
        self.write(|tx| {
            tx.execute(
                "INSERT INTO sessions (token_sha256, user_name, csrf, expires_at) VALUES ($1, $2, $3, $4)",
                &[&sha256_hex(token.as_bytes()), &name, &csrf, &expires],
            )?;
            // Expired sessions are of no use to anyone: clear them as new ones open.
            tx.execute("DELETE FROM sessions WHERE expires_at <= $1", &[&ts(now)])?;
            Ok(())
        })?;
        Ok((token, csrf))
    }

    fn session(&self, token: &str, now: DateTime<Utc>) -> Result<Option<(User, String)>> {
        self.read(|c| {
            Ok(c.query_opt(
                "SELECT u.name, u.role, u.unit, s.csrf FROM sessions s JOIN users u ON u.name = s.user_name
                 WHERE s.token_sha256 = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
                &[&sha256_hex(token.as_bytes()), &ts(now)],
            )?
            .map(|r| (user_row(&r), r.get(3))))
        })
    }

    fn end_session(&self, token: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM sessions WHERE token_sha256 = $1",
                &[&sha256_hex(token.as_bytes())],
            )?;
            Ok(())
        })
    }

    fn create_login_link(&self, name: &str, now: DateTime<Utc>, minutes: i64) -> Result<String> {
        let token = random_token("l")?;
        let expires = ts(now + chrono::Duration::minutes(minutes));
        self.write(|tx| {
            if !user_exists(tx, name)? {
                return Err(no_such_user(name));
            }
            tx.execute(
                "INSERT INTO login_links (token_sha256, user_name, expires_at) VALUES ($1, $2, $3)",
                &[&sha256_hex(token.as_bytes()), &name, &expires],
            )?;
            Ok(())
        })?;
        Ok(token)
    }

    fn use_login_link(&self, token: &str, now: DateTime<Utc>) -> Result<Option<String>> {
        let hash = sha256_hex(token.as_bytes());
        self.write(|tx| {
            // Deleted and read in one statement: two servers using one link, only one gets a user.
            let row = tx.query_opt(
                "DELETE FROM login_links l USING users u
                 WHERE l.token_sha256 = $1 AND u.name = l.user_name
                 RETURNING l.user_name, l.expires_at > $2 AND u.disabled_at IS NULL",
                &[&hash, &ts(now)],
            )?;
            Ok(row.filter(|r| r.get::<_, bool>(1)).map(|r| r.get(0)))
        })
    }

    fn audit(&self, by: &Actor, e: &AuditEvent) -> Result<()> {
        self.write(|tx| audit_in(tx, by, e))
    }

    fn audit_log(&self, since: Option<DateTime<Utc>>, limit: usize) -> Result<Vec<AuditRecord>> {
        self.read(|c| {
            Ok(c.query(
                "SELECT id, at, user_name, client, action, subject, detail FROM
                   (SELECT * FROM audit WHERE ($1::text IS NULL OR at >= $1) ORDER BY id DESC LIMIT $2) AS newest
                 ORDER BY id",
                &[&since.map(ts), &(limit as i64)],
            )?
            .iter()
            .map(|r| AuditRecord {
                id: r.get(0),
                at: r.get(1),
                user: r.get(2),
                from: r.get(3),
                action: r.get(4),
                subject: r.get(5),
                detail: r.get(6),
            })
            .collect())
        })
    }

    fn backup(&self, _to: &Path) -> Result<()> {
        // A consistent copy of a live PostgreSQL database is the server's own tool's job.
        Err(Error::Input(format!(
            "kho PostgreSQL ({}): sao lưu bằng `pg_dump --format=custom`, phục hồi bằng `pg_restore`",
            self.shown
        )))
    }

    fn integrity_check(&self) -> Result<Vec<String>> {
        // PostgreSQL checks its own pages; what is ours to check is that every value has its return.
        self.read(|c| {
            let orphans: i64 = c
                .query_one(
                    "SELECT COUNT(*) FROM cell_values v WHERE NOT EXISTS (SELECT 1 FROM returns r WHERE r.id = v.return_id)",
                    &[],
                )?
                .get(0);
            Ok(if orphans == 0 {
                Vec::new()
            } else {
                vec![format!("{orphans} giá trị không thuộc báo cáo nào")]
            })
        })
    }

    fn is_empty(&self) -> Result<bool> {
        self.read(|c| {
            let n: i64 = c
                .query_one(
                    "SELECT (SELECT COUNT(*) FROM returns) + (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM rejections)",
                    &[],
                )?
                .get(0);
            Ok(n == 0)
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn messages_never_show_the_password() {
        assert_eq!(
            super::without_password("postgres://an:bí-mật@db:5432/pbgdpl"),
            "postgres://an:***@db:5432/pbgdpl"
        );
        assert_eq!(
            super::without_password("postgres://an@db/pbgdpl"),
            "postgres://an@db/pbgdpl"
        );
        assert_eq!(
            super::without_password("postgresql://db/pbgdpl"),
            "postgresql://db/pbgdpl"
        );
    }
}

/// For tests on a shared server: a new, empty schema and the URL of a store inside it.
#[doc(hidden)]
pub mod testing {
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The server the tests use: `PBGDPL_TEST_POSTGRES` (set by `scripts/test.sh`), or none.
    pub const ENV: &str = "PBGDPL_TEST_POSTGRES";

    /// A URL for a store in a fresh schema of the test server, or `None` when no server is set.
    pub fn fresh_store_url(label: &str) -> Option<String> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let base = std::env::var(ENV).ok().filter(|u| !u.is_empty())?;
        let schema = format!(
            "t_{}_{}_{}",
            label
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(24)
                .collect::<String>(),
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        )
        .to_lowercase();
        let mut client =
            postgres::Client::connect(&base, postgres::NoTls).unwrap_or_else(|e| panic!("{ENV}={base}: {e}"));
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
            ))
            .unwrap_or_else(|e| panic!("creating schema {schema}: {e}"));
        let sep = if base.contains('?') { '&' } else { '?' };
        Some(format!("{base}{sep}options=-csearch_path%3D{schema}"))
    }
}
