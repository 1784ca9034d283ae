{#
    Every hour from the first to the last hour with events (UTC), zeros where nothing happened: the hour spine
    (macro hour_spine) left-joined to the hours that have events, so a chart of it shows a gap as a zero.
#}
with hourly as (

    select
        event_hour as hour_start,
        count(*) as events,
        count(case when event_type = 'play' then 1 end) as plays,
        count(case when {{ is_stream() }} then 1 end) as streams,
        count(case when event_type = 'skip' then 1 end) as skips,
        count(distinct user_id) as listeners,
        {{ minutes_listened() }} as minutes_listened
    from {{ ref('stg_spotify__events') }}
    group by event_hour

),

bounds as (

    select min(hour_start) as first_hour, max(hour_start) as last_hour
    from hourly

),

spine as (

    {{ hour_spine('bounds') }}

)

select
    spine.hour_start,
    coalesce(hourly.events, 0) as events,
    coalesce(hourly.plays, 0) as plays,
    coalesce(hourly.streams, 0) as streams,
    coalesce(hourly.skips, 0) as skips,
    coalesce(hourly.listeners, 0) as listeners,
    coalesce(hourly.minutes_listened, 0) as minutes_listened
from spine
left join hourly on hourly.hour_start = spine.hour_start
