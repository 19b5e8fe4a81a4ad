-- The session as the server sees it: the TimeZone psql would have shown the user, and proof
-- that the session is read-only.
SELECT current_setting('TimeZone') AS timezone,
       current_setting('transaction_read_only') AS read_only,
       current_setting('server_version') AS server_version
