{{ config(materialized='view') }}

{# Every event once for each Wrapped period it falls in, by its listener-local date (macro wrapped_periods). #}
select
    period,
    period_start_date,
    period_end_date,
    event_id,
    user_id,
    song_id,
    song_name,
    artist_name,
    event_type,
    duration_ms,
    source,
    event_timestamp,
    local_date,
    local_hour
from ({{ wrapped_periods(ref('listener_events')) }}) as periods
