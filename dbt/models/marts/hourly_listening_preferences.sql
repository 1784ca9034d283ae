{#
    skip_rate: skips over the plays of sources that report skips; minutes_listened: the plays whose
    duration_ms is known (a play of the Web API adds none: its milliseconds listened are unknown, not 0).
#}
with per_hour as (

    select
        cast(extract(hour from event_timestamp) as integer) as hour_of_day,
        count(case when event_type = 'play' then 1 end) as plays,
        count(case when event_type = 'skip' then 1 end) as skips,
        count(case when event_type = 'play' and {{ reports_skips() }} then 1 end) as skip_reported_plays,
        count(distinct user_id) as listeners,
        {{ minutes_listened() }} as minutes_listened
    from {{ ref('stg_spotify__events') }}
    group by cast(extract(hour from event_timestamp) as integer)

)

select
    hour_of_day,
    plays,
    skips,
    listeners,
    cast(skips as double precision) / nullif(skip_reported_plays, 0) as skip_rate,
    minutes_listened
from per_hour
