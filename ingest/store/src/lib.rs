//! The store of record: every version of every return with its values in long form, who sent it,
//! when, from where and from which file; the period locks; the users with their hashed tokens,
//! passwords and sessions; and the audit log of every write and every refused access.
//!
//! ```text
//!  pipeline ──Submission──► Store::submit ──(one write transaction: lock check, new version or
//!                                             unchanged, audit line)──► durable before it answers
//!  engine ◄──StoredValue, ReturnRecord── Store::latest_values, Store::returns
//! ```
//!
//! [`Store`] is the interface a backend implements; [`SqliteStore`] is the embedded default (one
//! file, no server), [`PostgresStore`] the database several app servers share. A return is stored whole or not at all, a resubmission is a new version, an
//! identical one changes nothing, and nothing is ever overwritten.

mod auth;
mod pg;
mod shared;
mod sqlite;

pub use auth::{TOKEN_DAYS, random_token, sha256_hex};
pub use pg::{PostgresStore, testing};
pub use sqlite::{Durability, FILE_NAME, SqliteStore, restore};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use pbgdpl_catalog::model::{CellValue, ReturnRecord, StoredValue, SurveySubmission, SurveyVersion};
use pbgdpl_catalog::{Fault, Issue, Role, User};
use serde::Serialize;

/// Errors of the store, sorted by who must act ([`Error::fault`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Another writer held the store longer than the bounded wait: retry later (HTTP 503).
    #[error("the store is busy; try again in a moment")]
    Busy,
    /// A request the store refuses: a user that exists already, a password too short.
    #[error("{0}")]
    Input(String),
    /// The store's file or server is unusable: missing, read-only, full, corrupt.
    #[error("store: {0}")]
    Unavailable(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("store: {0}")]
    Sqlite(rusqlite::Error),
    #[error("store: {0}")]
    Postgres(postgres::Error),
    #[error("store migrations: {0}")]
    Migration(String),
}

impl Error {
    pub fn fault(&self) -> Fault {
        match self {
            Error::Input(_) => Fault::Input,
            Error::Busy | Error::Unavailable(_) | Error::Io { .. } | Error::Migration(_) => Fault::Operator,
            Error::Sqlite(_) | Error::Postgres(_) => Fault::Bug,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as C;
        match e.sqlite_error_code() {
            Some(C::DatabaseBusy | C::DatabaseLocked) => Error::Busy,
            Some(
                C::DiskFull
                | C::CannotOpen
                | C::ReadOnly
                | C::PermissionDenied
                | C::NotADatabase
                | C::DatabaseCorrupt
                | C::SystemIoFailure,
            ) => Error::Unavailable(e.to_string()),
            _ => Error::Sqlite(e),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}

/// Who did something, from where, and when: every write and every audit line carries one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user name, or `None` for the command line run by the operator.
    pub user: Option<String>,
    /// The client address (web, API) or `cli`.
    pub from: Option<String>,
    pub at: DateTime<Utc>,
}

impl Actor {
    /// The operator at the command line.
    pub fn cli(at: DateTime<Utc>) -> Actor {
        Actor {
            user: None,
            from: Some("cli".into()),
            at,
        }
    }
}

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
    /// The client address it came from (web, API).
    pub client: Option<String>,
    pub file_name: Option<String>,
    pub file_sha256: Option<String>,
}

/// A cell whose value differs from the previous version: (row, column, before, after).
pub type ChangedCell = (String, u32, Option<String>, Option<String>);

/// What storing a submission did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stored {
    pub version: i64,
    /// False for an identical re-submission (no new version).
    pub new_version: bool,
    /// Cells whose value differs from the previous version.
    pub changed: Vec<ChangedCell>,
}

/// Why the store refused one submission of a batch, inside its write transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The period was locked by the time the return reached the store.
    PeriodLocked,
}

/// A refused submission, for the audit trail.
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

/// A refused submission as the store keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct RejectionRecord {
    pub received_at: String,
    pub file_name: Option<String>,
    pub issues: Vec<Issue>,
}

/// A period closed for submissions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodLock {
    pub period: String,
    pub locked_at: String,
    pub locked_by: Option<String>,
}

/// A user as the administrators' listing shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserRecord {
    pub user: User,
    pub created_at: String,
    pub disabled_at: Option<String>,
    pub token_expires_at: Option<String>,
    pub has_password: bool,
}

/// What an audit line records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// `return.stored`, `return.rejected`, `period.lock`, `period.unlock`, `user.add`,
    /// `user.password`, `user.token`, `user.disable`, `login`, `login.failed`, `auth.failed`,
    /// `access.denied`, `store.restore`.
    pub action: String,
    /// What it was about: a return (`unit/form/period v2`), a period, a user name, a path.
    pub subject: Option<String>,
    /// Anything else worth keeping (the HTTP method and path of a refused request).
    pub detail: Option<String>,
}

/// What was stored after a version id ([`Store::changes_after`]), with what tells the reader whether
/// that is all it missed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// Every version stored with a higher id, by id.
    pub returns: Vec<ReturnRecord>,
    /// The latest values of the returns those versions belong to.
    pub values: Vec<StoredValue>,
    /// Versions with an id up to `after`. A reader holding fewer must read everything again: a
    /// writer committed a lower id after the reader's snapshot (PostgreSQL hands out ids at insert,
    /// not at commit).
    pub seen: i64,
    /// Survey versions stored (estimates are recomputed when this changes).
    pub surveys: i64,
    /// The store's generation in the same snapshot.
    pub generation: i64,
    /// The highest version id stored, in the same snapshot (what a reader that reads the periods
    /// later, [`Store::period_upto`], reads them up to).
    pub last_id: i64,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: String,
    pub user: Option<String>,
    pub from: Option<String>,
    pub action: String,
    pub subject: Option<String>,
    pub detail: Option<String>,
}

/// The store of record. Every method is a short, bounded operation; writes are serialised by the
/// backend (one writer at a time, waiting a bounded time for another process's writer) and durable
/// when they return. Implementations are shared by every request of the web app.
pub trait Store: Send + Sync {
    /// Stores accepted returns in one write transaction, each whole or not at all. The period lock is
    /// checked inside the transaction, so a return never slips past a lock taken meanwhile.
    fn submit(&self, subs: &[Submission]) -> Result<Vec<Result<Stored, Refused>>>;
    /// Records a refused submission: who sent what, when, and why. No value of it is stored.
    fn log_rejection(&self, r: &Rejection<'_>) -> Result<()>;
    /// Stores an accepted survey file as a new version of (survey, period), whole, in one write
    /// transaction that checks the period lock; an identical file changes nothing.
    fn submit_survey(&self, sub: &SurveySubmission) -> Result<Result<Stored, Refused>>;
    /// The latest version of every (survey, period), with its respondents.
    fn surveys(&self) -> Result<Vec<SurveyVersion>>;
    /// Latest accepted values of a period (every unit), or of every period, in long form.
    fn latest_values(&self, period: Option<&str>) -> Result<Vec<StoredValue>>;
    /// The values of the latest version of one return (for the `jump` warning).
    fn latest_return_values(&self, unit: &str, form: &str, period: &str) -> Result<Vec<StoredValue>>;
    /// Every stored version of every return (optionally of one period), oldest first.
    fn returns(&self, period: Option<&str>) -> Result<Vec<ReturnRecord>>;
    /// Refused submissions of a unit, newest first.
    fn rejections(&self, unit: &str) -> Result<Vec<RejectionRecord>>;
    /// The periods that have at least one stored return.
    fn periods(&self) -> Result<Vec<String>>;
    /// A number that changes whenever a return is stored (for caches of computed results).
    fn generation(&self) -> Result<i64>;
    /// What a reader that holds every version up to id `after` is missing, read in one snapshot:
    /// the versions stored since and the latest values of their returns (how the engine stays
    /// current without reading the whole store again).
    fn changes_after(&self, after: i64) -> Result<Changes>;
    /// One period as a reader holding every version up to id `upto` sees it, in one snapshot: its
    /// versions with ids up to `upto` (by unit, form and version) and the values of the latest of
    /// them for each return. How the engine reads a period on first use, later than the rest.
    fn period_upto(&self, period: &str, upto: i64) -> Result<(Vec<ReturnRecord>, Vec<StoredValue>)>;

    /// The locked periods, oldest period first.
    fn period_locks(&self) -> Result<Vec<PeriodLock>>;
    /// Locks a period; false when it was already locked (the first lock is kept).
    fn lock_period(&self, period: &str, by: &Actor) -> Result<bool>;
    /// Unlocks a period; false when it was not locked. The audit log keeps who locked and unlocked it.
    fn unlock_period(&self, period: &str, by: &Actor) -> Result<bool>;

    /// Creates a user and returns its API token (shown once; only its hash is kept).
    fn add_user(&self, name: &str, role: Role, unit: Option<&str>, by: &Actor) -> Result<String>;
    /// Sets a person's web password (Argon2id) and ends the user's sessions.
    fn set_password(&self, name: &str, password: &str, by: &Actor) -> Result<()>;
    /// The enabled user whose name and password these are. Costs one Argon2 verification whether or
    /// not the name exists, so that answers do not tell names apart.
    fn check_password(&self, name: &str, password: &str) -> Result<Option<User>>;
    /// A new API token for a user (the old one stops working at once).
    fn rotate_token(&self, name: &str, by: &Actor) -> Result<String>;
    /// Disables a user: its token, password, links and sessions stop working.
    fn disable_user(&self, name: &str, by: &Actor) -> Result<()>;
    /// Every user, by name.
    fn users(&self) -> Result<Vec<UserRecord>>;
    /// The enabled user a bearer token belongs to, if the token has not expired at `now`.
    fn user_by_token(&self, token: &str, now: DateTime<Utc>) -> Result<Option<User>>;

    /// Opens a browser session: (session token for the cookie, CSRF token for forms).
    fn create_session(&self, name: &str, now: DateTime<Utc>, hours: i64) -> Result<(String, String)>;
    /// The enabled user and CSRF token of a session alive at `now`.
    fn session(&self, token: &str, now: DateTime<Utc>) -> Result<Option<(User, String)>>;
    fn end_session(&self, token: &str) -> Result<()>;
    /// A one-time login link token, valid for `minutes`.
    fn create_login_link(&self, name: &str, now: DateTime<Utc>, minutes: i64) -> Result<String>;
    /// Uses up a login link: the user it was for, if it is valid, unused and the user enabled.
    fn use_login_link(&self, token: &str, now: DateTime<Utc>) -> Result<Option<String>>;

    /// Appends a line to the audit log.
    fn audit(&self, by: &Actor, event: &AuditEvent) -> Result<()>;
    /// The audit log since an instant (everything when `None`), oldest first, at most `limit` lines
    /// (the newest ones).
    fn audit_log(&self, since: Option<DateTime<Utc>>, limit: usize) -> Result<Vec<AuditRecord>>;

    /// A consistent copy of the store, taken while it is in use, written to `to` (which must not
    /// exist).
    fn backup(&self, to: &Path) -> Result<()>;
    /// The backend's own consistency check: empty when the store is sound.
    fn integrity_check(&self) -> Result<Vec<String>>;
    /// Whether the store holds any return or user (a `demo` must not overwrite such a store).
    fn is_empty(&self) -> Result<bool>;
}

/// Opens the store at a location: a `postgres://` URL for [`PostgresStore`], else a folder for the
/// embedded SQLite store (created on first use).
pub fn open(location: &Path) -> Result<Arc<dyn Store>> {
    match location.to_str() {
        Some(url) if pg::is_url(url) => Ok(Arc::new(PostgresStore::open(url)?)),
        _ => Ok(Arc::new(SqliteStore::open(location)?)),
    }
}

/// Whether a `--store` location names a PostgreSQL database (not a folder).
pub fn is_database_url(location: &Path) -> bool {
    location.to_str().is_some_and(pg::is_url)
}

/// The audit subject of a return version: `unit/form/period v2`.
pub fn return_subject(unit: &str, form: &str, period: &str, version: i64) -> String {
    format!("{unit}/{form}/{period} v{version}")
}
