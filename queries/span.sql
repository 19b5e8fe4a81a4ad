-- First and last created_at of the whole table (two index probes on created_at), to infer the
-- date of a `--window 14:07-14:08` when --date is not given; and the time of the query: a live
-- database answers for log lines up to now, not only up to its newest row.
SELECT min(created_at)::timestamptz AS first, max(created_at)::timestamptz AS last,
       now() AS queried_at
FROM monitoring.events
