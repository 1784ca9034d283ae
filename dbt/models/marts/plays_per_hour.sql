select
    event_hour as hour_start,
    count(*) as events,
    count(case when event_type = 'play' then 1 end) as plays,
    count(case when event_type = 'skip' then 1 end) as skips,
    count(distinct user_id) as listeners,
    {{ minutes_listened() }} as minutes_listened
from {{ ref('stg_spotify__events') }}
group by event_hour
