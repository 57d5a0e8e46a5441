//! The embedded store: one SQLite file in WAL mode, so that pages and the API read while an import
//! writes. Writes go through one writer connection per process and take the write lock up front
//! (`BEGIN IMMEDIATE`), waiting a bounded time for another process's writer: a deferred transaction
//! that reads before it writes would fail at once with "database is locked" when another writer
//! commits first, and tell a unit that its valid return is corrupt. Commits are `synchronous=FULL`:
//! a return acknowledged is on disk.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use pbgdpl_catalog::model::{CellValue, ReturnRecord, StoredValue, SurveySubmission, SurveyVersion, Value};
use pbgdpl_catalog::{Role, User};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::auth::{TOKEN_DAYS, hash_password, random_token, sha256_hex};
use crate::shared::{
    content_hash, event, lock, matching_user, no_such_user, rejection_audit, stored_audit, survey_audit,
    survey_content, ts, unlock_event, user_added_event, user_of,
};
use crate::{
    Actor, AuditEvent, AuditRecord, ChangedCell, Changes, Error, PeriodLock, Refused, Rejection, RejectionRecord,
    Result, Store, Stored, Submission, UserRecord, io_err,
};

mod embedded {
    refinery::embed_migrations!("migrations/sqlite");
}

/// The generation: it changes whenever a version of a return or a survey is stored. One writer at a
/// time and no deletions make the highest id enough, read from the index on every request; a count
/// of the versions cost 25 ms a request on the whole country's 509,035.
const GENERATION_SQL: &str = "SELECT (SELECT COALESCE(MAX(id), 0) FROM returns) * 1000003 \
     + (SELECT COUNT(*) FROM survey_versions) * 1000000007";

/// The file inside the store folder.
pub const FILE_NAME: &str = "pbgdpl.sqlite3";

/// How long a writer waits for another process's writer before the store answers "busy".
const WRITE_WAIT: Duration = Duration::from_secs(5);

/// Connections kept open for readers.
const MAX_IDLE_READERS: usize = 16;

/// How a commit reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=FULL`: the WAL is synced at every commit; a return acknowledged survives a power
    /// cut. What the store always uses.
    Full,
    /// `synchronous=NORMAL`: the last commits may be lost in a power cut. Only for the benchmark that
    /// measures what `Full` costs.
    Normal,
}

/// The embedded SQLite store.
pub struct SqliteStore {
    path: Option<PathBuf>,
    /// The one writer of this process (and, for an in-memory store, the only connection).
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl SqliteStore {
    /// Opens (creating on first use, migrating to the current schema) the store in a folder:
    /// `DIR/pbgdpl.sqlite3`.
    pub fn open(dir: &Path) -> Result<SqliteStore> {
        SqliteStore::open_with(dir, Durability::Full)
    }

    /// [`SqliteStore::open`] with another durability, for the benchmark.
    pub fn open_with(dir: &Path, durability: Durability) -> Result<SqliteStore> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let path = dir.join(FILE_NAME);
        let mut writer = Connection::open(&path)?;
        writer.busy_timeout(WRITE_WAIT)?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        // Acknowledged means durable: FULL syncs the WAL at every commit (NORMAL may lose the last
        // transactions in a power cut). The cost is measured in BENCHMARKS.md.
        let synchronous = match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        writer.pragma_update(None, "synchronous", synchronous)?;
        writer.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut writer)?;
        Ok(SqliteStore {
            path: Some(path),
            writer: Mutex::new(writer),
            readers: Mutex::default(),
        })
    }

    /// A store in memory, for tests.
    pub fn in_memory() -> Result<SqliteStore> {
        let mut conn = Connection::open_in_memory()?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn)?;
        Ok(SqliteStore {
            path: None,
            writer: Mutex::new(conn),
            readers: Mutex::default(),
        })
    }

    /// The database file (none for an in-memory store).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Runs `f` on a reader connection (the writer's for an in-memory store).
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let Some(path) = &self.path else {
            return f(&lock(&self.writer));
        };
        let idle = lock(&self.readers).pop();
        let conn = match idle {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                c.busy_timeout(WRITE_WAIT)?;
                c
            }
        };
        let out = f(&conn);
        let mut pool = lock(&self.readers);
        if pool.len() < MAX_IDLE_READERS {
            pool.push(conn);
        }
        out
    }

    /// Runs `f` in a write transaction that holds the write lock from its first statement.
    fn write<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    fn returns_where(conn: &Connection, cond: &str, p: impl rusqlite::Params) -> Result<Vec<ReturnRecord>> {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT id, unit, form, period, version, received_at, submitted_by, source, file_name, file_sha256
             FROM returns WHERE {cond}"
        ))?;
        let rows = stmt.query_map(p, |r| {
            Ok(ReturnRecord {
                id: r.get(0)?,
                unit: r.get(1)?,
                form: r.get(2)?,
                period: r.get(3)?,
                version: r.get(4)?,
                received_at: r.get(5)?,
                submitted_by: r.get(6)?,
                source: r.get(7)?,
                file_name: r.get(8)?,
                file_sha256: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The values of the returns `cond` picks that are the latest of their return among the versions
    /// `among` picks (a condition on `x`; `TRUE`: every stored version).
    fn values_where(conn: &Connection, cond: &str, among: &str, p: impl rusqlite::Params) -> Result<Vec<StoredValue>> {
        let sql = format!(
            "SELECT r.unit, r.form, r.period, v.row_code, v.col, v.num, v.txt, r.version
             FROM returns r JOIN cell_values v ON v.return_id = r.id
             WHERE {cond} AND r.version = (SELECT MAX(version) FROM returns x
                                           WHERE x.unit = r.unit AND x.form = r.form AND x.period = r.period
                                             AND {among})
             ORDER BY r.unit, r.form, r.period, v.row_code, v.col"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(p, |r| {
            let num: Option<i64> = r.get(5)?;
            let txt: Option<String> = r.get(6)?;
            Ok(StoredValue {
                unit: r.get(0)?,
                form: r.get(1)?,
                period: r.get(2)?,
                row: r.get(3)?,
                column: r.get(4)?,
                value: match num {
                    Some(n) => Value::Int(n),
                    None => Value::Text(txt.unwrap_or_default()),
                },
                version: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    embedded::migrations::runner()
        .run(conn)
        .map(|_| ())
        .map_err(|e| Error::Migration(e.to_string()))
}

fn audit_in(conn: &Connection, by: &Actor, e: &AuditEvent) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit (at, user_name, client, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![ts(by.at), by.user, by.from, e.action, e.subject, e.detail])?;
    Ok(())
}

fn user_exists(conn: &Connection, name: &str) -> Result<bool> {
    Ok(
        conn.query_row("SELECT COUNT(*) FROM users WHERE name = ?1", params![name], |r| {
            r.get::<_, i64>(0)
        })? > 0,
    )
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(user_of(r.get(0)?, &r.get::<_, String>(1)?, r.get(2)?))
}

impl Store for SqliteStore {
    fn submit(&self, subs: &[Submission]) -> Result<Vec<Result<Stored, Refused>>> {
        self.write(|tx| {
            let mut out = Vec::with_capacity(subs.len());
            for sub in subs {
                let locked: bool = tx
                    .prepare_cached("SELECT COUNT(*) FROM period_locks WHERE period = ?1")?
                    .query_row(params![sub.period], |r| r.get::<_, i64>(0))?
                    > 0;
                if locked {
                    out.push(Err(Refused::PeriodLocked));
                    continue;
                }
                let stored = store_one(tx, sub)?;
                if stored.new_version {
                    let (by, e) = stored_audit(sub, stored.version);
                    audit_in(tx, &by, &e)?;
                }
                out.push(Ok(stored));
            }
            Ok(out)
        })
    }

    fn log_rejection(&self, r: &Rejection<'_>) -> Result<()> {
        let json = serde_json::to_string(r.issues).map_err(|e| Error::Unavailable(e.to_string()))?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO rejections (unit, form, period, received_at, submitted_by, source, file_name, file_sha256, issues_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![r.unit, r.form, r.period, ts(r.received_at), r.submitted_by, r.source, r.file_name, r.file_sha256, json],
            )?;
            let (by, e) = rejection_audit(r);
            audit_in(tx, &by, &e)
        })
    }

    fn submit_survey(&self, sub: &SurveySubmission) -> Result<Result<Stored, Refused>> {
        let (json, content) = survey_content(sub)?;
        self.write(|tx| {
            let locked: bool = tx
                .prepare_cached("SELECT COUNT(*) FROM period_locks WHERE period = ?1")?
                .query_row(params![sub.period], |r| r.get::<_, i64>(0))?
                > 0;
            if locked {
                return Ok(Err(Refused::PeriodLocked));
            }
            let latest: Option<(i64, String)> = tx
                .prepare_cached(
                    "SELECT version, content_sha256 FROM survey_versions WHERE survey = ?1 AND period = ?2
                     ORDER BY version DESC LIMIT 1",
                )?
                .query_row(params![sub.survey, sub.period], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
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
            tx.execute(
                "INSERT INTO survey_versions (survey, period, version, received_at, submitted_by, source, client,
                 file_name, file_sha256, content_sha256, respondents, rows_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    sub.survey,
                    sub.period,
                    version,
                    ts(sub.received_at),
                    sub.submitted_by,
                    sub.source,
                    sub.client,
                    sub.file_name,
                    sub.file_sha256,
                    content,
                    sub.rows.len() as i64,
                    json
                ],
            )?;
            let (by, e) = survey_audit(sub, version);
            audit_in(tx, &by, &e)?;
            Ok(Ok(Stored {
                version,
                new_version: true,
                changed: Vec::new(),
            }))
        })
    }

    fn surveys(&self) -> Result<Vec<SurveyVersion>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT survey, period, version, received_at, submitted_by, file_name, rows_json FROM survey_versions s
                 WHERE version = (SELECT MAX(version) FROM survey_versions x WHERE x.survey = s.survey AND x.period = s.period)
                 ORDER BY survey, period",
            )?;
            let rows = stmt.query_map([], |r| {
                let json: String = r.get(6)?;
                Ok((
                    SurveyVersion {
                        survey: r.get(0)?,
                        period: r.get(1)?,
                        version: r.get(2)?,
                        received_at: r.get(3)?,
                        submitted_by: r.get(4)?,
                        file_name: r.get(5)?,
                        rows: Vec::new(),
                    },
                    json,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (mut v, json) = row?;
                v.rows = serde_json::from_str(&json).map_err(|e| Error::Unavailable(format!("survey rows: {e}")))?;
                out.push(v);
            }
            Ok(out)
        })
    }

    fn latest_values(&self, period: Option<&str>) -> Result<Vec<StoredValue>> {
        self.read(|c| match period {
            Some(p) => SqliteStore::values_where(c, "r.period = ?1", "TRUE", params![p]),
            None => SqliteStore::values_where(c, "1 = 1", "TRUE", params![]),
        })
    }

    fn latest_return_values(&self, unit: &str, form: &str, period: &str) -> Result<Vec<StoredValue>> {
        self.read(|c| {
            SqliteStore::values_where(
                c,
                "r.unit = ?1 AND r.form = ?2 AND r.period = ?3",
                "TRUE",
                params![unit, form, period],
            )
        })
    }

    fn returns(&self, period: Option<&str>) -> Result<Vec<ReturnRecord>> {
        self.read(|c| {
            SqliteStore::returns_where(
                c,
                "(?1 IS NULL OR period = ?1) ORDER BY unit, form, period, version",
                params![period],
            )
        })
    }

    fn rejections(&self, unit: &str) -> Result<Vec<RejectionRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT received_at, file_name, issues_json FROM rejections WHERE unit = ?1 ORDER BY id DESC LIMIT 200",
            )?;
            let rows = stmt.query_map(params![unit], |r| {
                let json: String = r.get(2)?;
                Ok(RejectionRecord {
                    received_at: r.get(0)?,
                    file_name: r.get(1)?,
                    issues: serde_json::from_str(&json).unwrap_or_default(),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn periods(&self) -> Result<Vec<String>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT DISTINCT period FROM returns")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn generation(&self) -> Result<i64> {
        self.read(|c| Ok(c.query_row(GENERATION_SQL, [], |r| r.get(0))?))
    }

    fn changes_after(&self, after: i64) -> Result<Changes> {
        self.read(|c| {
            // One read transaction: the statements see one snapshot of the file.
            let tx = c.unchecked_transaction()?;
            let changes = Changes {
                returns: SqliteStore::returns_where(&tx, "id > ?1 ORDER BY id", params![after])?,
                values: SqliteStore::values_where(&tx, "r.id > ?1", "TRUE", params![after])?,
                seen: tx.query_row("SELECT COUNT(*) FROM returns WHERE id <= ?1", params![after], |r| {
                    r.get(0)
                })?,
                surveys: tx.query_row("SELECT COUNT(*) FROM survey_versions", [], |r| r.get(0))?,
                generation: tx.query_row(GENERATION_SQL, [], |r| r.get(0))?,
                last_id: tx.query_row("SELECT COALESCE(MAX(id), 0) FROM returns", [], |r| r.get(0))?,
            };
            tx.finish()?;
            Ok(changes)
        })
    }

    fn period_upto(&self, period: &str, upto: i64) -> Result<(Vec<ReturnRecord>, Vec<StoredValue>)> {
        self.read(|c| {
            let tx = c.unchecked_transaction()?;
            let returns = SqliteStore::returns_where(
                &tx,
                "period = ?1 AND id <= ?2 ORDER BY unit, form, version",
                params![period, upto],
            )?;
            let values =
                SqliteStore::values_where(&tx, "r.period = ?1 AND r.id <= ?2", "x.id <= ?2", params![period, upto])?;
            tx.finish()?;
            Ok((returns, values))
        })
    }

    fn period_locks(&self) -> Result<Vec<PeriodLock>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT period, locked_at, locked_by FROM period_locks ORDER BY period")?;
            let rows = stmt.query_map([], |r| {
                Ok(PeriodLock {
                    period: r.get(0)?,
                    locked_at: r.get(1)?,
                    locked_by: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn lock_period(&self, period: &str, by: &Actor) -> Result<bool> {
        self.write(|tx| {
            let who = by.user.clone().or_else(|| by.from.clone());
            let n = tx.execute(
                "INSERT OR IGNORE INTO period_locks (period, locked_at, locked_by) VALUES (?1, ?2, ?3)",
                params![period, ts(by.at), who],
            )?;
            if n == 1 {
                audit_in(tx, by, &event("period.lock", Some(period.to_owned()), None))?;
            }
            Ok(n == 1)
        })
    }

    fn unlock_period(&self, period: &str, by: &Actor) -> Result<bool> {
        self.write(|tx| {
            let was: Option<(String, Option<String>)> = tx
                .query_row(
                    "SELECT locked_at, locked_by FROM period_locks WHERE period = ?1",
                    params![period],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((at, who)) = was else {
                return Ok(false);
            };
            tx.execute("DELETE FROM period_locks WHERE period = ?1", params![period])?;
            audit_in(tx, by, &unlock_event(period, &at, who.as_deref()))?;
            Ok(true)
        })
    }

    fn add_user(&self, name: &str, role: Role, unit: Option<&str>, by: &Actor) -> Result<String> {
        let token = random_token("pbg")?;
        let expires = by.at + chrono::Duration::days(TOKEN_DAYS);
        self.write(|tx| {
            if user_exists(tx, name)? {
                return Err(Error::Input(format!("người dùng `{name}` đã tồn tại")));
            }
            tx.execute(
                "INSERT INTO users (name, role, unit, token_sha256, created_at, token_expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![name, role.id(), unit, sha256_hex(token.as_bytes()), ts(by.at), ts(expires)],
            )?;
            audit_in(tx, by, &user_added_event(name, role, unit))
        })?;
        Ok(token)
    }

    fn set_password(&self, name: &str, password: &str, by: &Actor) -> Result<()> {
        let hash = hash_password(password)?;
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE users SET password_hash = ?1 WHERE name = ?2",
                params![hash, name],
            )?;
            if n == 0 {
                return Err(no_such_user(name));
            }
            // A changed password ends every session opened with the old one.
            tx.execute("DELETE FROM sessions WHERE user_name = ?1", params![name])?;
            audit_in(tx, by, &event("user.password", Some(name.to_owned()), None))
        })
    }

    fn check_password(&self, name: &str, password: &str) -> Result<Option<User>> {
        let row: Option<(User, Option<String>)> = self.read(|c| {
            Ok(c.query_row(
                "SELECT name, role, unit, password_hash FROM users WHERE name = ?1 AND disabled_at IS NULL",
                params![name],
                |r| Ok((user_row(r)?, r.get(3)?)),
            )
            .optional()?)
        })?;
        Ok(matching_user(row, password))
    }

    fn rotate_token(&self, name: &str, by: &Actor) -> Result<String> {
        let token = random_token("pbg")?;
        let expires = by.at + chrono::Duration::days(TOKEN_DAYS);
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE users SET token_sha256 = ?1, token_expires_at = ?2 WHERE name = ?3",
                params![sha256_hex(token.as_bytes()), ts(expires), name],
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
                "UPDATE users SET disabled_at = COALESCE(disabled_at, ?1) WHERE name = ?2",
                params![ts(by.at), name],
            )?;
            if n == 0 {
                return Err(no_such_user(name));
            }
            tx.execute("DELETE FROM sessions WHERE user_name = ?1", params![name])?;
            tx.execute("DELETE FROM login_links WHERE user_name = ?1", params![name])?;
            audit_in(tx, by, &event("user.disable", Some(name.to_owned()), None))
        })
    }

    fn users(&self) -> Result<Vec<UserRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT name, role, unit, created_at, disabled_at, token_expires_at, password_hash IS NOT NULL
                 FROM users ORDER BY name",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(UserRecord {
                    user: user_row(r)?,
                    created_at: r.get(3)?,
                    disabled_at: r.get(4)?,
                    token_expires_at: r.get(5)?,
                    has_password: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn user_by_token(&self, token: &str, now: DateTime<Utc>) -> Result<Option<User>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT name, role, unit FROM users
                 WHERE token_sha256 = ?1 AND disabled_at IS NULL AND (token_expires_at IS NULL OR token_expires_at > ?2)",
                params![sha256_hex(token.as_bytes()), ts(now)],
                user_row,
            )
            .optional()?)
        })
    }

    fn create_session(&self, name: &str, now: DateTime<Utc>, hours: i64) -> Result<(String, String)> {
        let (token, csrf) = (random_token("s")?, random_token("c")?);
        let expires = ts(now + chrono::Duration::hours(hours));
        self.write(|tx| {
            tx.execute(
                "INSERT INTO sessions (token_sha256, user_name, csrf, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![sha256_hex(token.as_bytes()), name, csrf, expires],
            )?;
            // Expired sessions are of no use to anyone: clear them as new ones open.
            tx.execute("DELETE FROM sessions WHERE expires_at <= ?1", params![ts(now)])?;
            Ok(())
        })?;
        Ok((token, csrf))
    }

    fn session(&self, token: &str, now: DateTime<Utc>) -> Result<Option<(User, String)>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT u.name, u.role, u.unit, s.csrf FROM sessions s JOIN users u ON u.name = s.user_name
                 WHERE s.token_sha256 = ?1 AND s.expires_at > ?2 AND u.disabled_at IS NULL",
                params![sha256_hex(token.as_bytes()), ts(now)],
                |r| Ok((user_row(r)?, r.get(3)?)),
            )
            .optional()?)
        })
    }

    fn end_session(&self, token: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM sessions WHERE token_sha256 = ?1",
                params![sha256_hex(token.as_bytes())],
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
                "INSERT INTO login_links (token_sha256, user_name, expires_at) VALUES (?1, ?2, ?3)",
                params![sha256_hex(token.as_bytes()), name, expires],
            )?;
            Ok(())
        })?;
        Ok(token)
    }

    fn use_login_link(&self, token: &str, now: DateTime<Utc>) -> Result<Option<String>> {
        let hash = sha256_hex(token.as_bytes());
        self.write(|tx| {
            let name: Option<String> = tx
                .query_row(
                    "SELECT l.user_name FROM login_links l JOIN users u ON u.name = l.user_name
                     WHERE l.token_sha256 = ?1 AND l.expires_at > ?2 AND u.disabled_at IS NULL",
                    params![hash, ts(now)],
                    |r| r.get(0),
                )
                .optional()?;
            tx.execute("DELETE FROM login_links WHERE token_sha256 = ?1", params![hash])?;
            Ok(name)
        })
    }

    fn audit(&self, by: &Actor, e: &AuditEvent) -> Result<()> {
        self.write(|tx| audit_in(tx, by, e))
    }

    fn audit_log(&self, since: Option<DateTime<Utc>>, limit: usize) -> Result<Vec<AuditRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, at, user_name, client, action, subject, detail FROM
                   (SELECT * FROM audit WHERE (?1 IS NULL OR at >= ?1) ORDER BY id DESC LIMIT ?2)
                 ORDER BY id",
            )?;
            let rows = stmt.query_map(params![since.map(ts), limit as i64], |r| {
                Ok(AuditRecord {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    user: r.get(2)?,
                    from: r.get(3)?,
                    action: r.get(4)?,
                    subject: r.get(5)?,
                    detail: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn backup(&self, to: &Path) -> Result<()> {
        if to.exists() {
            return Err(Error::Input(format!("{} đã tồn tại; chọn tệp khác", to.display())));
        }
        let target = to.to_string_lossy().into_owned();
        // VACUUM INTO writes a consistent snapshot from one read transaction, while others go on
        // reading and writing.
        self.read(|c| {
            c.execute("VACUUM INTO ?1", params![target])?;
            Ok(())
        })
    }

    fn integrity_check(&self) -> Result<Vec<String>> {
        self.read(|c| {
            let mut stmt = c.prepare("PRAGMA integrity_check")?;
            let rows: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            Ok(rows.into_iter().filter(|r| r != "ok").collect())
        })
    }

    fn is_empty(&self) -> Result<bool> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT (SELECT COUNT(*) FROM returns) + (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM rejections)",
                [],
                |r| r.get::<_, i64>(0),
            )? == 0)
        })
    }
}

fn store_one(tx: &Connection, sub: &Submission) -> Result<Stored> {
    let mut values = sub.values.clone();
    values.sort_by(|a, b| (&a.row, a.column).cmp(&(&b.row, b.column)));
    let content = content_hash(&sub.unit, &sub.form, &sub.period, &values);
    let latest: Option<(i64, i64, String)> = tx
        .prepare_cached(
            "SELECT id, version, content_sha256 FROM returns WHERE unit = ?1 AND form = ?2 AND period = ?3
             ORDER BY version DESC LIMIT 1",
        )?
        .query_row(params![sub.unit, sub.form, sub.period], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
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
    tx.prepare_cached(
        "INSERT INTO returns (unit, form, period, version, received_at, submitted_by, source, client, file_name, file_sha256, content_sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        sub.unit,
        sub.form,
        sub.period,
        version,
        ts(sub.received_at),
        sub.submitted_by,
        sub.source,
        sub.client,
        sub.file_name,
        sub.file_sha256,
        content
    ])?;
    let id = tx.last_insert_rowid();
    {
        let mut ins = tx.prepare_cached(
            "INSERT INTO cell_values (return_id, row_code, col, num, txt) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for v in &values {
            let (num, txt) = match &v.value {
                Value::Int(n) => (Some(*n), None),
                Value::Text(t) => (None, Some(t.as_str())),
            };
            ins.execute(params![id, v.row, v.column, num, txt])?;
        }
        let mut warn = tx.prepare_cached("INSERT INTO warnings (return_id, issue_json) VALUES (?1, ?2)")?;
        for w in &sub.warnings {
            warn.execute(params![id, serde_json::to_string(w).unwrap_or_default()])?;
        }
    }
    let changed = match latest {
        Some((prev_id, _, _)) => changed_cells(tx, prev_id, &values)?,
        None => Vec::new(),
    };
    Ok(Stored {
        version,
        new_version: true,
        changed,
    })
}

/// The cells of a new version whose value differs from the version `prev_id`.
fn changed_cells(tx: &Connection, prev_id: i64, values: &[CellValue]) -> Result<Vec<ChangedCell>> {
    let mut stmt = tx.prepare_cached("SELECT row_code, col, num, txt FROM cell_values WHERE return_id = ?1")?;
    let before: Vec<(String, u32, Option<String>)> = stmt
        .query_map(params![prev_id], |r| {
            let num: Option<i64> = r.get(2)?;
            let txt: Option<String> = r.get(3)?;
            Ok((r.get(0)?, r.get(1)?, num.map(|n| n.to_string()).or(txt)))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(crate::shared::changed_cells(before, values))
}

/// Replaces the store in `dir` by a backup file after checking the backup's integrity; the store it
/// replaces is kept beside it (`pbgdpl.sqlite3.before-restore-<time>`). The server must be stopped.
pub fn restore(dir: &Path, backup: &Path, by: &Actor) -> Result<PathBuf> {
    let check = Connection::open_with_flags(backup, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let problems: Vec<String> = {
        let mut stmt = check.prepare("PRAGMA integrity_check")?;
        stmt.query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .filter(|r| r != "ok")
            .collect()
    };
    if !problems.is_empty() {
        return Err(Error::Input(format!(
            "{}: bản sao lưu hỏng ({})",
            backup.display(),
            problems.join("; ")
        )));
    }
    let has_returns: bool = check
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'returns'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n == 1)?;
    drop(check);
    if !has_returns {
        return Err(Error::Input(format!(
            "{}: không phải bản sao lưu của pbgdpl",
            backup.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let live = dir.join(FILE_NAME);
    let kept = dir.join(format!("{FILE_NAME}.before-restore-{}", by.at.format("%Y%m%dT%H%M%S")));
    if live.exists() {
        std::fs::rename(&live, &kept).map_err(io_err(&live))?;
        for ext in ["-wal", "-shm"] {
            let side = dir.join(format!("{FILE_NAME}{ext}"));
            if side.exists() {
                let _ = std::fs::rename(&side, dir.join(format!("{}{ext}", kept.display())));
            }
        }
    }
    std::fs::copy(backup, &live).map_err(io_err(&live))?;
    let store = SqliteStore::open(dir)?;
    store.audit(by, &event("store.restore", Some(backup.display().to_string()), None))?;
    Ok(kept)
}
