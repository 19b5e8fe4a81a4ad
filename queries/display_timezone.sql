-- The TimeZone a psql session on this database would show. sqlx sends TimeZone=UTC when it
-- connects, so current_setting('TimeZone') is not it. PostgreSQL's order: the role's setting
-- in this database, the role's, the database's (ALTER ... SET TimeZone), then the server's
-- configured value; log_timezone is the last resort (initdb sets both to the host's zone).
WITH s AS (
    SELECT s.setdatabase, s.setrole, split_part(c, '=', 2) AS value
    FROM pg_db_role_setting s, unnest(s.setconfig) AS c
    WHERE lower(split_part(c, '=', 1)) = 'timezone'
), me AS (
    SELECT (SELECT oid FROM pg_database WHERE datname = current_database()) AS db,
           (SELECT oid FROM pg_roles WHERE rolname = current_user) AS role
)
SELECT (SELECT value FROM s, me WHERE s.setdatabase = me.db AND s.setrole = me.role) AS db_role,
       (SELECT value FROM s, me WHERE s.setdatabase = 0 AND s.setrole = me.role) AS role,
       (SELECT value FROM s, me WHERE s.setdatabase = me.db AND s.setrole = 0) AS db,
       current_setting('log_timezone') AS log_timezone
