-- Proof that the session is read-only, before anything is read.
SELECT current_setting('transaction_read_only') AS read_only,
       current_setting('server_version') AS server_version
