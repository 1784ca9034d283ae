{#
    One row per session (model listener_events: the gap rule and the id). session_end is the latest end of
    its events (a play ends after its milliseconds listened).
#}
select
    session_id,
    user_id,
    min(event_timestamp) as session_start,
    max(event_end) as session_end,
    count(*) as events,
    count(case when event_type = 'play' then 1 end) as plays,
    count(case when event_type = 'skip' then 1 end) as skips,
    count(distinct song_id) as distinct_songs,
    {{ minutes_listened() }} as minutes_listened
from {{ ref('listener_events') }}
group by session_id, user_id
