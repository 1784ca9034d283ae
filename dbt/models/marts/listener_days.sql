{# One row per listener and listener-local day (dim_listeners.time_zone) with at least one event. #}
select
    user_id,
    local_date,
    count(*) as events,
    count(case when event_type = 'play' then 1 end) as plays,
    count(case when {{ is_stream() }} then 1 end) as streams,
    count(case when event_type = 'skip' then 1 end) as skips,
    {{ minutes_listened() }} as minutes_listened,
    count(distinct case when event_type = 'play' then song_id end) as distinct_songs,
    count(distinct case when event_type = 'play' then artist_name end) as distinct_artists,
    count(distinct session_id) as sessions
from {{ ref('listener_events') }}
group by user_id, local_date
