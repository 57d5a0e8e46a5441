-- The store's generation as one counter, raised by the transaction that stores a version (of a
-- return or a survey) just before it commits: reading it is one row, where computing it was a count
-- of every version on each request (ids are handed out at insert, so a lower id can commit after
-- a higher one, and the highest id alone would miss it).
CREATE TABLE store_generation (
    only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    n BIGINT NOT NULL
);
-- A store made before this counter starts from what it holds (0 when it holds nothing).
INSERT INTO store_generation (n)
SELECT (SELECT COUNT(*) FROM returns) + (SELECT COUNT(*) FROM survey_versions);
