//! What every backend computes the same way: the content hash that makes an identical resubmission a
//! no-op, the cells a new version changed, audit events, timestamps and error texts.

use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use pbgdpl_catalog::model::{CellValue, Value};
use sha2::{Digest, Sha256};

use crate::auth::hex;
use crate::{AuditEvent, ChangedCell, Error};

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
