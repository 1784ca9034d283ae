{#
    The listening clock: events by listener-local weekday (ISO, 1 = Monday) and hour of day (0-23), each event in
    its listener's time zone (dim_listeners). Only the weekday-hours with events.
#}
select
    local_weekday,
    local_hour,
    count(*) as events,
    count(case when event_type = 'play' then 1 end) as plays,
    count(case when {{ is_stream() }} then 1 end) as streams,
    count(case when event_type = 'skip' then 1 end) as skips,
    count(distinct user_id) as listeners,
    {{ minutes_listened() }} as minutes_listened
from {{ ref('listener_events') }}
group by local_weekday, local_hour
