-- A key's daily allowance of records answered (identity, employment and benefits keys); NULL
-- is none.
ALTER TABLE api_keys ADD COLUMN daily_quota bigint CHECK (daily_quota >= 0);
