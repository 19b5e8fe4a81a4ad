-- The columns of monitoring.events: checks the schema before reading and tells whether
-- created_at is timestamptz (absolute) or a naive timestamp (needs --db-tz).
SELECT column_name::text AS column_name, data_type::text AS data_type
FROM information_schema.columns
WHERE table_schema = 'monitoring' AND table_name = 'events'
ORDER BY ordinal_position
