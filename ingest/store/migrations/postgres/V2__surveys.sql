-- Citizen survey files: one version per accepted file of (survey, period), the respondents kept as
-- validated (JSON rows: unit, area, weight, date, answers), never overwritten.
CREATE TABLE survey_versions (
    id BIGSERIAL PRIMARY KEY,
    survey TEXT NOT NULL,
    period TEXT NOT NULL,
    version BIGINT NOT NULL,
    received_at TEXT NOT NULL,
    submitted_by TEXT,
    source TEXT NOT NULL,
    client TEXT,
    file_name TEXT,
    file_sha256 TEXT,
    content_sha256 TEXT NOT NULL,
    respondents BIGINT NOT NULL,
    rows_json TEXT NOT NULL,
    UNIQUE (survey, period, version)
);
