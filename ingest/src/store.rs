//! The store of record: an embedded SQLite database (WAL, one file) holding every version of every
//! return, its values in long form, who sent it, when and from which file. A return is stored whole or
//! not at all; a resubmission is a new version; an identical one changes nothing.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::{CellValue, Issue, Value};
use crate::{Error, Result, io_err};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS returns (
    id INTEGER PRIMARY KEY,
    unit TEXT NOT NULL,
    form TEXT NOT NULL,
    period TEXT NOT NULL,
    version INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    submitted_by TEXT,
    source TEXT NOT NULL,
    file_name TEXT,
    file_sha256 TEXT,
    content_sha256 TEXT NOT NULL,
    UNIQUE (unit, form, period, version)
);
CREATE TABLE IF NOT EXISTS cell_values (
    return_id INTEGER NOT NULL REFERENCES returns(id),
    row_code TEXT NOT NULL,
    col INTEGER NOT NULL,
    num INTEGER,
    txt TEXT,
    PRIMARY KEY (return_id, row_code, col)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS warnings (
    return_id INTEGER NOT NULL REFERENCES returns(id),
    issue_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejections (
    id INTEGER PRIMARY KEY,
    unit TEXT,
    form TEXT,
    period TEXT,
    received_at TEXT NOT NULL,
    submitted_by TEXT,
    source TEXT NOT NULL,
    file_name TEXT,
    file_sha256 TEXT,
    issues_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    unit TEXT,
    token_sha256 TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_name TEXT NOT NULL REFERENCES users(name),
    csrf TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS login_links (
    token_sha256 TEXT PRIMARY KEY,
    user_name TEXT NOT NULL REFERENCES users(name),
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS period_locks (
    period TEXT PRIMARY KEY,
    locked_at TEXT NOT NULL,
    locked_by TEXT
);
"#;

/// An accepted return to store.
#[derive(Debug, Clone)]
pub struct Submission {
    pub unit: String,
    pub form: String,
    pub period: String,
    pub values: Vec<CellValue>,
    pub warnings: Vec<Issue>,
    pub received_at: DateTime<Utc>,
    pub submitted_by: Option<String>,
    /// `file`, `api` or `web`.
    pub source: String,
    pub file_name: Option<String>,
    pub file_sha256: Option<String>,
}

/// A refused submission, for the audit log.
#[derive(Debug, Clone)]
pub struct Rejection<'a> {
    pub unit: Option<&'a str>,
    pub form: Option<&'a str>,
    pub period: Option<&'a str>,
    pub received_at: DateTime<Utc>,
    pub submitted_by: Option<&'a str>,
    pub source: &'a str,
    pub file_name: Option<&'a str>,
    pub file_sha256: Option<&'a str>,
    pub issues: &'a [Issue],
}

/// A refused submission as the audit log keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct RejectionRecord {
    pub received_at: String,
    pub file_name: Option<String>,
    pub issues: Vec<Issue>,
}

/// What storing a submission did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stored {
    pub version: i64,
    /// False for an identical re-submission (no new version).
    pub new_version: bool,
    /// Cells whose value differs from the previous version: (row, column, before, after).
    pub changed: Vec<(String, u32, Option<String>, Option<String>)>,
}

/// One stored version of a return (for listings).
#[derive(Debug, Clone, Serialize)]
pub struct ReturnRecord {
    pub id: i64,
    pub unit: String,
    pub form: String,
    pub period: String,
    pub version: i64,
    pub received_at: String,
    pub submitted_by: Option<String>,
    pub source: String,
    pub file_name: Option<String>,
    pub file_sha256: Option<String>,
}

/// One value of the latest version of a return.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredValue {
    pub unit: String,
    pub form: String,
    pub period: String,
    pub row: String,
    pub column: u32,
    pub value: Value,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub name: String,
    pub role: String,
    pub unit: Option<String>,
}

/// The embedded database.
pub struct Store {
    conn: Connection,
    path: Option<PathBuf>,
}

/// A period closed for submissions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodLock {
    pub period: String,
    pub locked_at: String,
    pub locked_by: Option<String>,
}

impl Store {
    /// Opens (creating on first use) the store in a folder: `DIR/pbgdpl.sqlite3`.
    pub fn open(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let path = dir.join("pbgdpl.sqlite3");
        let conn = Connection::open(&path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(SCHEMA)?;
        conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1')",
            [],
        )?;
        Ok(Store { conn, path: Some(path) })
    }

    /// A store in memory, for tests.
    pub fn in_memory() -> Result<Store> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store { conn, path: None })
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Stores accepted returns in one transaction (one durable commit for the batch), each return in a
    /// savepoint of its own so that one failure leaves the others and nothing of itself.
    pub fn submit_batch(&mut self, subs: &[Submission]) -> Result<Vec<Result<Stored>>> {
        let mut tx = self.conn.transaction()?;
        let mut out = Vec::with_capacity(subs.len());
        for sub in subs {
            let mut sp = tx.savepoint()?;
            match store_one(&sp, sub) {
                Ok(stored) => {
                    sp.commit()?;
                    out.push(Ok(stored));
                }
                Err(e) => {
                    sp.rollback()?;
                    drop(sp);
                    out.push(Err(e));
                }
            }
        }
        tx.commit()?;
        Ok(out)
    }

    pub fn submit(&mut self, sub: &Submission) -> Result<Stored> {
        self.submit_batch(std::slice::from_ref(sub))?
            .pop()
            .unwrap_or_else(|| Err(Error::StoreData("nothing stored".into())))
    }

    /// Records a rejected submission for the audit trail: who sent what, when, and why it was refused.
    /// No value of a rejected return is stored.
    pub fn log_rejection(&mut self, r: &Rejection<'_>) -> Result<()> {
        let json = serde_json::to_string(r.issues).map_err(|e| Error::StoreData(e.to_string()))?;
        self.conn.execute(
            "INSERT INTO rejections (unit, form, period, received_at, submitted_by, source, file_name, file_sha256, issues_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![r.unit, r.form, r.period, r.received_at.to_rfc3339(), r.submitted_by, r.source, r.file_name, r.file_sha256, json],
        )?;
        Ok(())
    }

    /// Latest accepted values of a period (every unit), in long form.
    pub fn latest_values(&self, period: &str) -> Result<Vec<StoredValue>> {
        self.values_where("r.period = ?1", params![period])
    }

    /// Latest accepted values of every period.
    pub fn all_latest_values(&self) -> Result<Vec<StoredValue>> {
        self.values_where("1 = 1", params![])
    }

    fn values_where(&self, cond: &str, p: impl rusqlite::Params) -> Result<Vec<StoredValue>> {
        let sql = format!(
            "SELECT r.unit, r.form, r.period, v.row_code, v.col, v.num, v.txt, r.version
             FROM returns r JOIN cell_values v ON v.return_id = r.id
             WHERE {cond} AND r.version = (SELECT MAX(version) FROM returns x
                                           WHERE x.unit = r.unit AND x.form = r.form AND x.period = r.period)
             ORDER BY r.unit, r.form, r.period, v.row_code, v.col"
        );
        let mut stmt = self.conn.prepare(&sql)?;
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

    /// Every stored version of every return (optionally of one period), oldest first.
    pub fn returns(&self, period: Option<&str>) -> Result<Vec<ReturnRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, unit, form, period, version, received_at, submitted_by, source, file_name, file_sha256
             FROM returns WHERE (?1 IS NULL OR period = ?1) ORDER BY unit, form, period, version",
        )?;
        let rows = stmt.query_map(params![period], |r| {
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

    /// Refused submissions of a unit, newest first.
    pub fn rejections(&self, unit: &str) -> Result<Vec<RejectionRecord>> {
        let mut stmt = self.conn.prepare(
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
    }

    /// The values of the latest version of one return, for the `jump` warning.
    pub fn latest_return_values(&self, unit: &str, form: &str, period: &str) -> Result<Vec<StoredValue>> {
        self.values_where(
            "r.unit = ?1 AND r.form = ?2 AND r.period = ?3",
            params![unit, form, period],
        )
    }

    /// The periods that have at least one stored return.
    pub fn periods(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("SELECT DISTINCT period FROM returns")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// A number that changes whenever a return is stored (for caches of computed results).
    pub fn generation(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(MAX(id), 0) * 1000003 + COUNT(*) FROM returns",
            [],
            |r| r.get(0),
        )?)
    }

    pub fn locked_periods(&self) -> Result<Vec<String>> {
        Ok(self.period_locks()?.into_iter().map(|l| l.period).collect())
    }

    /// The locked periods with who locked them and when, oldest period first.
    pub fn period_locks(&self) -> Result<Vec<PeriodLock>> {
        let mut stmt = self
            .conn
            .prepare("SELECT period, locked_at, locked_by FROM period_locks ORDER BY period")?;
        let rows = stmt.query_map([], |r| {
            Ok(PeriodLock {
                period: r.get(0)?,
                locked_at: r.get(1)?,
                locked_by: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Locks a period once its report is sent: returns for it are refused (`period_locked`) until it
    /// is unlocked. Returns false when it was already locked (the first lock is kept).
    pub fn lock_period(&mut self, period: &str, by: Option<&str>) -> Result<bool> {
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO period_locks (period, locked_at, locked_by) VALUES (?1, ?2, ?3)",
            params![period, Utc::now().to_rfc3339(), by],
        )?;
        Ok(n == 1)
    }

    /// Unlocks a period; returns false when it was not locked.
    pub fn unlock_period(&mut self, period: &str) -> Result<bool> {
        Ok(self
            .conn
            .execute("DELETE FROM period_locks WHERE period = ?1", params![period])?
            == 1)
    }

    /// Creates a user and returns its API token (shown once; only its hash is kept).
    pub fn add_user(&mut self, name: &str, role: &str, unit: Option<&str>) -> Result<String> {
        let token = random_token("pbg")?;
        self.conn
            .execute(
                "INSERT INTO users (name, role, unit, token_sha256, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, role, unit, sha256_hex(token.as_bytes()), Utc::now().to_rfc3339()],
            )
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    Error::StoreData(format!("user `{name}` already exists"))
                }
                e => Error::Store(e),
            })?;
        Ok(token)
    }

    /// Sets the password a person logs in to the web app with (stored as an Argon2id hash).
    pub fn set_password(&mut self, name: &str, password: &str) -> Result<()> {
        use argon2::password_hash::{PasswordHasher, SaltString};
        if password.chars().count() < 8 {
            return Err(Error::StoreData("mật khẩu cần ít nhất 8 ký tự".into()));
        }
        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw).map_err(|e| Error::StoreData(format!("no randomness: {e}")))?;
        let salt = SaltString::encode_b64(&raw).map_err(|e| Error::StoreData(e.to_string()))?;
        let hash = argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| Error::StoreData(e.to_string()))?
            .to_string();
        let n = self.conn.execute(
            "UPDATE users SET password_hash = ?1 WHERE name = ?2",
            params![hash, name],
        )?;
        if n == 0 {
            return Err(Error::StoreData(format!("user `{name}` does not exist")));
        }
        Ok(())
    }

    /// The user whose name and password these are.
    pub fn check_password(&self, name: &str, password: &str) -> Result<Option<User>> {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let row: Option<(String, String, Option<String>, Option<String>)> = self
            .conn
            .query_row(
                "SELECT name, role, unit, password_hash FROM users WHERE name = ?1",
                params![name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((name, role, unit, Some(hash))) = row else {
            return Ok(None);
        };
        let ok = PasswordHash::new(&hash)
            .map(|h| {
                argon2::Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false);
        Ok(ok.then_some(User { name, role, unit }))
    }

    /// Opens a browser session for a user: (session token for the cookie, CSRF token for forms).
    pub fn create_session(&mut self, name: &str, hours: i64) -> Result<(String, String)> {
        let (token, csrf) = (random_token("s")?, random_token("c")?);
        let expires = (Utc::now() + chrono::Duration::hours(hours)).to_rfc3339();
        self.conn.execute(
            "INSERT INTO sessions (token_sha256, user_name, csrf, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![sha256_hex(token.as_bytes()), name, csrf, expires],
        )?;
        Ok((token, csrf))
    }

    /// The user and CSRF token of a live session.
    pub fn session(&self, token: &str) -> Result<Option<(User, String)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT u.name, u.role, u.unit, s.csrf FROM sessions s JOIN users u ON u.name = s.user_name
                 WHERE s.token_sha256 = ?1 AND s.expires_at > ?2",
                params![sha256_hex(token.as_bytes()), Utc::now().to_rfc3339()],
                |r| {
                    Ok((
                        User {
                            name: r.get(0)?,
                            role: r.get(1)?,
                            unit: r.get(2)?,
                        },
                        r.get(3)?,
                    ))
                },
            )
            .optional()?)
    }

    pub fn end_session(&mut self, token: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM sessions WHERE token_sha256 = ?1",
            params![sha256_hex(token.as_bytes())],
        )?;
        Ok(())
    }

    /// A one-time login link token, valid for `minutes` (an administrator sends it to a person).
    pub fn create_login_link(&mut self, name: &str, minutes: i64) -> Result<String> {
        if self
            .conn
            .query_row("SELECT COUNT(*) FROM users WHERE name = ?1", params![name], |r| {
                r.get::<_, i64>(0)
            })?
            == 0
        {
            return Err(Error::StoreData(format!("user `{name}` does not exist")));
        }
        let token = random_token("l")?;
        let expires = (Utc::now() + chrono::Duration::minutes(minutes)).to_rfc3339();
        self.conn.execute(
            "INSERT INTO login_links (token_sha256, user_name, expires_at) VALUES (?1, ?2, ?3)",
            params![sha256_hex(token.as_bytes()), name, expires],
        )?;
        Ok(token)
    }

    /// Uses up a login link: the user it was for, if it is valid and unused.
    pub fn use_login_link(&mut self, token: &str) -> Result<Option<String>> {
        let hash = sha256_hex(token.as_bytes());
        let name: Option<String> = self
            .conn
            .query_row(
                "SELECT user_name FROM login_links WHERE token_sha256 = ?1 AND expires_at > ?2",
                params![hash, Utc::now().to_rfc3339()],
                |r| r.get(0),
            )
            .optional()?;
        self.conn
            .execute("DELETE FROM login_links WHERE token_sha256 = ?1", params![hash])?;
        Ok(name)
    }

    /// The user a bearer token belongs to.
    pub fn user_by_token(&self, token: &str) -> Result<Option<User>> {
        Ok(self
            .conn
            .query_row(
                "SELECT name, role, unit FROM users WHERE token_sha256 = ?1",
                params![sha256_hex(token.as_bytes())],
                |r| {
                    Ok(User {
                        name: r.get(0)?,
                        role: r.get(1)?,
                        unit: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn users(&self) -> Result<Vec<User>> {
        let mut stmt = self.conn.prepare("SELECT name, role, unit FROM users ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            Ok(User {
                name: r.get(0)?,
                role: r.get(1)?,
                unit: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

fn store_one(tx: &rusqlite::Connection, sub: &Submission) -> Result<Stored> {
    let mut values = sub.values.clone();
    values.sort_by(|a, b| (&a.row, a.column).cmp(&(&b.row, b.column)));
    let content = content_hash(&sub.unit, &sub.form, &sub.period, &values);
    let latest: Option<(i64, i64, String)> = tx
        .query_row(
            "SELECT id, version, content_sha256 FROM returns WHERE unit = ?1 AND form = ?2 AND period = ?3
             ORDER BY version DESC LIMIT 1",
            params![sub.unit, sub.form, sub.period],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
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
    tx.execute(
        "INSERT INTO returns (unit, form, period, version, received_at, submitted_by, source, file_name, file_sha256, content_sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            sub.unit,
            sub.form,
            sub.period,
            version,
            sub.received_at.to_rfc3339(),
            sub.submitted_by,
            sub.source,
            sub.file_name,
            sub.file_sha256,
            content
        ],
    )?;
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
    let mut changed = Vec::new();
    if let Some((prev_id, _, _)) = latest {
        let mut stmt = tx.prepare_cached("SELECT row_code, col, num, txt FROM cell_values WHERE return_id = ?1")?;
        let before: Vec<(String, u32, Option<String>)> = stmt
            .query_map(params![prev_id], |r| {
                let num: Option<i64> = r.get(2)?;
                let txt: Option<String> = r.get(3)?;
                Ok((r.get(0)?, r.get(1)?, num.map(|n| n.to_string()).or(txt)))
            })?
            .collect::<rusqlite::Result<_>>()?;
        for v in &values {
            let old = before
                .iter()
                .find(|(r, c, _)| *r == v.row && *c == v.column)
                .and_then(|b| b.2.clone());
            let new = Some(v.value.to_text());
            if old != new {
                changed.push((v.row.clone(), v.column, old, new));
            }
        }
        for (r, c, old) in before {
            if !values.iter().any(|v| v.row == r && v.column == c) {
                changed.push((r, c, old, None));
            }
        }
    }
    Ok(Stored {
        version,
        new_version: true,
        changed,
    })
}

fn content_hash(unit: &str, form: &str, period: &str, values: &[CellValue]) -> String {
    let mut h = Sha256::new();
    for part in [unit, form, period] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    for v in values {
        h.update(v.row.as_bytes());
        h.update([0]);
        h.update(v.column.to_le_bytes());
        match &v.value {
            Value::Int(n) => {
                h.update([1]);
                h.update(n.to_le_bytes());
            }
            Value::Text(t) => {
                h.update([2]);
                h.update(t.as_bytes());
                h.update([0]);
            }
        }
    }
    hex(&h.finalize())
}

/// 256 random bits, hex, with a prefix that says what the token is for.
fn random_token(prefix: &str) -> Result<String> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| Error::StoreData(format!("no randomness: {e}")))?;
    Ok(format!("{prefix}_{}", hex(&raw)))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
            received_at: Utc::now(),
            submitted_by: None,
            source: "api".into(),
            file_name: None,
            file_sha256: None,
        }
    }

    #[test]
    fn resubmission_is_a_new_version_and_identical_is_a_no_op() {
        let mut store = Store::in_memory().unwrap();
        let first = store.submit(&sub(&[("01", 1, 100), ("02", 1, 50)])).unwrap();
        assert_eq!((first.version, first.new_version), (1, true));
        let same = store.submit(&sub(&[("02", 1, 50), ("01", 1, 100)])).unwrap();
        assert_eq!((same.version, same.new_version), (1, false));
        let changed = store.submit(&sub(&[("01", 1, 120), ("02", 1, 50)])).unwrap();
        assert_eq!((changed.version, changed.new_version), (2, true));
        assert_eq!(
            changed.changed,
            vec![("01".to_string(), 1, Some("100".to_string()), Some("120".to_string()))]
        );
        // Both versions stay; the latest counts.
        assert_eq!(store.returns(Some("2026S1")).unwrap().len(), 2);
        let latest = store.latest_values("2026S1").unwrap();
        assert_eq!(
            latest.iter().find(|v| v.row == "01").map(|v| v.value.clone()),
            Some(Value::Int(120))
        );
    }

    #[test]
    fn tokens_are_stored_hashed() {
        let mut store = Store::in_memory().unwrap();
        let token = store.add_user("an", "reporter", Some("99001")).unwrap();
        let user = store.user_by_token(&token).unwrap().unwrap();
        assert_eq!((user.name.as_str(), user.unit.as_deref()), ("an", Some("99001")));
        assert!(store.user_by_token("pbg_wrong").unwrap().is_none());
        let stored: String = store
            .conn
            .query_row("SELECT token_sha256 FROM users", [], |r| r.get(0))
            .unwrap();
        assert_ne!(stored, token);
        assert!(store.add_user("an", "viewer", None).is_err());
    }

    #[test]
    fn passwords_sessions_and_login_links() {
        let mut store = Store::in_memory().unwrap();
        store.add_user("lan", "viewer", None).unwrap();
        assert!(store.set_password("lan", "ngắn").is_err(), "too short");
        store.set_password("lan", "mật-khẩu-dài").unwrap();
        assert_eq!(
            store.check_password("lan", "mật-khẩu-dài").unwrap().map(|u| u.role),
            Some("viewer".into())
        );
        assert!(store.check_password("lan", "sai").unwrap().is_none());
        assert!(store.check_password("ai", "mật-khẩu-dài").unwrap().is_none());
        let (token, csrf) = store.create_session("lan", 8).unwrap();
        let (user, got_csrf) = store.session(&token).unwrap().unwrap();
        assert_eq!((user.name.as_str(), got_csrf), ("lan", csrf));
        store.end_session(&token).unwrap();
        assert!(store.session(&token).unwrap().is_none());
        let link = store.create_login_link("lan", 15).unwrap();
        assert_eq!(store.use_login_link(&link).unwrap().as_deref(), Some("lan"));
        assert_eq!(store.use_login_link(&link).unwrap(), None, "a link works once");
    }
}
