-- Tokens expire and users can be disabled; every write and refused access goes to the audit log;
-- a return remembers the client address it came from.
ALTER TABLE users ADD COLUMN disabled_at TEXT;
ALTER TABLE users ADD COLUMN token_expires_at TEXT;
UPDATE users SET token_expires_at = strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '+365 days')
    WHERE token_expires_at IS NULL;
ALTER TABLE returns ADD COLUMN client TEXT;
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user_name TEXT,
    client TEXT,
    action TEXT NOT NULL,
    subject TEXT,
    detail TEXT
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX returns_period ON returns (period);
