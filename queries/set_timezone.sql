-- For a naive `timestamp` created_at: the zone its wall-clock readings are in (--db-tz), so
-- created_at::timestamptz and comparisons with timestamptz bounds place them correctly.
SELECT set_config('TimeZone', $1, false)
