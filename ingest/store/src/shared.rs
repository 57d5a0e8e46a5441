//! What every backend computes the same way: the content hash that makes an identical resubmission a
//! no-op, the cells a new version changed, audit events, timestamps and error texts.

use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use pbgdpl_catalog::model::{CellValue, Value};
use pbgdpl_catalog::{Role, User};
use sha2::{Digest, Sha256};

use crate::auth::{hex, verify_password};
use crate::{Actor, AuditEvent, ChangedCell, Error, Rejection, Submission, return_subject};
use pbgdpl_catalog::model::SurveySubmission;

/// A pool's or a connection's mutex. A panic while holding a connection leaves it usable (the
/// backend rolls back the open transaction when the next one begins), so a poisoned lock is not a
/// reason to stop serving.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Instants are stored as RFC 3339 text in UTC (`+00:00`), so that both backends compare them as
/// strings the same way and records read back identical.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

pub(crate) fn event(action: &str, subject: Option<String>, detail: Option<String>) -> AuditEvent {
    AuditEvent {
        action: action.to_owned(),
        subject,
        detail,
    }
}

/// Who stored a new version of a return, and the audit line that says so.
pub(crate) fn stored_audit(sub: &Submission, version: i64) -> (Actor, AuditEvent) {
    let by = Actor {
        user: sub.submitted_by.clone(),
        from: sub.client.clone().or_else(|| Some(sub.source.clone())),
        at: sub.received_at,
    };
    let subject = return_subject(&sub.unit, &sub.form, &sub.period, version);
    (by, event("return.stored", Some(subject), sub.file_name.clone()))
}

/// Who sent a refused return, and the audit line naming what and which rules refused it.
pub(crate) fn rejection_audit(r: &Rejection<'_>) -> (Actor, AuditEvent) {
    let subject = [r.unit, r.form, r.period]
        .iter()
        .flatten()
        .copied()
        .collect::<Vec<_>>()
        .join("/");
    let rules = r.issues.iter().map(|i| i.rule.id()).collect::<Vec<_>>().join(",");
    let by = Actor {
        user: r.submitted_by.map(str::to_owned),
        from: Some(r.source.to_owned()),
        at: r.received_at,
    };
    (
        by,
        event("return.rejected", Some(subject).filter(|s| !s.is_empty()), Some(rules)),
    )
}

/// The audit line of an unlock: the lock itself is gone, who took it and when stays in the log.
pub(crate) fn unlock_event(period: &str, locked_at: &str, locked_by: Option<&str>) -> AuditEvent {
    let detail = format!("khóa lúc {locked_at} bởi {}", locked_by.unwrap_or("?"));
    event("period.unlock", Some(period.to_owned()), Some(detail))
}

/// The audit line of a new user: its role and unit.
pub(crate) fn user_added_event(name: &str, role: Role, unit: Option<&str>) -> AuditEvent {
    let detail = format!("{}{}", role.id(), unit.map(|u| format!(" {u}")).unwrap_or_default());
    event("user.add", Some(name.to_owned()), Some(detail))
}

/// A user as stored: a role this version does not know reads as the least privileged one.
pub(crate) fn user_of(name: String, role: &str, unit: Option<String>) -> User {
    User {
        name,
        role: Role::parse(role).unwrap_or(Role::Reporter),
        unit,
    }
}

/// The user whose stored password hash `password` matches, if any. Verified whether or not the name
/// exists (against a dummy hash when it does not): an unknown name answers as slowly as a wrong
/// password.
pub(crate) fn matching_user(row: Option<(User, Option<String>)>, password: &str) -> Option<User> {
    let (user, hash) = match row {
        Some((u, h)) => (Some(u), h),
        None => (None, None),
    };
    let matches = verify_password(hash.as_deref(), password);
    user.filter(|_| matches)
}

pub(crate) fn no_such_user(name: &str) -> Error {
    Error::Input(format!("người dùng `{name}` không tồn tại"))
}

/// The cells of a new version (`values`) whose value differs from the previous version's (`before`:
/// row, column, value as text).
pub(crate) fn changed_cells(before: Vec<(String, u32, Option<String>)>, values: &[CellValue]) -> Vec<ChangedCell> {
    let mut changed = Vec::new();
    for v in values {
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
    changed
}

/// The hash of a return's content (values sorted by row and column): equal hashes, same return.
pub(crate) fn content_hash(unit: &str, form: &str, period: &str, values: &[CellValue]) -> String {
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

/// A survey file's rows as stored, and the hash that tells an identical re-submission.
pub(crate) fn survey_content(sub: &SurveySubmission) -> Result<(String, String), Error> {
    let json = serde_json::to_string(&sub.rows).map_err(|e| Error::Unavailable(e.to_string()))?;
    let mut h = Sha256::new();
    for part in [sub.survey.as_str(), sub.period.as_str(), json.as_str()] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    Ok((json, hex(&h.finalize())))
}

/// Who stored a new version of a survey file, and the audit line that says so.
pub(crate) fn survey_audit(sub: &SurveySubmission, version: i64) -> (Actor, AuditEvent) {
    let by = Actor {
        user: sub.submitted_by.clone(),
        from: sub.client.clone().or_else(|| Some(sub.source.clone())),
        at: sub.received_at,
    };
    let subject = format!("{}/{} v{version} ({} phiếu)", sub.survey, sub.period, sub.rows.len());
    (by, event("survey.stored", Some(subject), sub.file_name.clone()))
}
