-- The server's configured timezone (postgresql.conf); readable only by superusers and
-- members of pg_read_all_settings — an error here is expected and ignored.
SELECT setting FROM pg_file_settings WHERE name = 'timezone' AND applied
