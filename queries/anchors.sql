-- Rows used as clock anchors: each event's type, payload and instant, over the span the log
-- files could cover (their naive times ± 14 h). Only the three columns detection needs, and on
-- a big table every $3-th row by id (a few tens of thousands of twins are plenty).
--   $1 start (timestamptz, inclusive)   $2 end (timestamptz, exclusive)   $3 sampling step
SELECT event_type::text AS event_type,
       event_data::text AS event_data,
       created_at::timestamptz AS created_at
FROM monitoring.events
WHERE created_at >= $1::timestamptz AND created_at < $2::timestamptz
  AND id % $3::int8 = 0
