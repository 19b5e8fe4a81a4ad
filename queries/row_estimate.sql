-- The planner's estimate of the table's size (no scan): to sample clock anchors on big tables.
SELECT GREATEST(reltuples, 0)::int8 FROM pg_class WHERE oid = 'monitoring.events'::regclass
