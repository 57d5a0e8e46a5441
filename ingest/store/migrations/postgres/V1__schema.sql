-- The schema of the SQLite store at its migration V2, for PostgreSQL: the same tables and columns,
-- instants as RFC 3339 text (UTC) so that both backends read back identical records.
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE returns (
    id BIGSERIAL PRIMARY KEY,
    unit TEXT NOT NULL,
    form TEXT NOT NULL,
    period TEXT NOT NULL,
    version BIGINT NOT NULL,
    received_at TEXT NOT NULL,
    submitted_by TEXT,
    source TEXT NOT NULL,
    client TEXT,
    file_name TEXT,
    file_sha256 TEXT,
    content_sha256 TEXT NOT NULL,
    UNIQUE (unit, form, period, version)
);
CREATE INDEX returns_period ON returns (period);
CREATE TABLE cell_values (
    return_id BIGINT NOT NULL REFERENCES returns(id),
    row_code TEXT NOT NULL,
    col INTEGER NOT NULL,
    num BIGINT,
    txt TEXT,
    PRIMARY KEY (return_id, row_code, col)
);
CREATE TABLE warnings (
    return_id BIGINT NOT NULL REFERENCES returns(id),
    issue_json TEXT NOT NULL
);
CREATE INDEX warnings_return ON warnings (return_id);
CREATE TABLE rejections (
    id BIGSERIAL PRIMARY KEY,
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
CREATE INDEX rejections_unit ON rejections (unit);
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    unit TEXT,
    token_sha256 TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    created_at TEXT NOT NULL,
    disabled_at TEXT,
    token_expires_at TEXT
);
CREATE TABLE sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_name TEXT NOT NULL REFERENCES users(name),
    csrf TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE login_links (
    token_sha256 TEXT PRIMARY KEY,
    user_name TEXT NOT NULL REFERENCES users(name),
    expires_at TEXT NOT NULL
);
CREATE TABLE period_locks (
    period TEXT PRIMARY KEY,
    locked_at TEXT NOT NULL,
    locked_by TEXT
);
CREATE TABLE audit (
    id BIGSERIAL PRIMARY KEY,
    at TEXT NOT NULL,
    user_name TEXT,
    client TEXT,
    action TEXT NOT NULL,
    subject TEXT,
    detail TEXT
);
CREATE INDEX audit_at ON audit (at);
