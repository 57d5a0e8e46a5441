-- The schema of the first release. Written with IF NOT EXISTS so that a store created before
-- migrations were tracked takes this step without change.
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
