-- The events of the timeline. Every filter is a bound parameter; NULL means "no filter".
--   $1 window start (timestamptz, inclusive)   $2 window end (timestamptz, exclusive)
--   $3 symbol          $4 position id           $5 correlation id
--   $6 signal id (text: matched in the correlation id, and its digits anywhere in event_data —
--      a superset; audit keeps the rows where it stands as a whole number)
--   $7 position ids (int8[]): rows of the positions a signal opened
-- With $1/$2 set the planner uses the created_at index. No ORDER BY: the timeline orders every
-- row itself (by instant, then id), and a sort of the whole table cost the server ~15 % of a
-- day's load.
SELECT id::int8 AS id,
       event_type::text AS event_type,
       event_data::text AS event_data,
       correlation_id::text AS correlation_id,
       position_id::int8 AS position_id,
       symbol::text AS symbol,
       severity::text AS severity,
       error_message AS error_message,
       created_at::timestamptz AS created_at
FROM monitoring.events
WHERE ($1::timestamptz IS NULL OR created_at >= $1::timestamptz)
  AND ($2::timestamptz IS NULL OR created_at < $2::timestamptz)
  AND ($3::text IS NULL OR symbol = $3::text)
  AND ($4::int8 IS NULL OR position_id = $4::int8 OR event_data->>'position_id' = $4::int8::text)
  AND ($5::text IS NULL OR correlation_id = $5::text)
  AND ($6::text IS NULL
       OR correlation_id LIKE 'open\_position\_' || $6::text || '\_%'
       OR event_data::text LIKE ('%' || $6::text || '%'))
  AND ($7::int8[] IS NULL OR position_id = ANY($7::int8[])
       OR (event_data->>'position_id') = ANY($7::int8[]::text[]))
