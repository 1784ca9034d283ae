{#
    Every hour from the first to the last hour with events (UTC), zeros where nothing happened: the hour spine
    (macro hour_spine) left-joined to the hours that have events, so a chart of it shows a gap as a zero.
    Incremental: the hours of the changed Silver rows are counted anew, and the spine adds the hours that a
    wider range (an earlier first or a later last hour) brings, as zeros, unless they have events.
#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='hour_start', on_schema_change='fail') }}

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
    {% if is_incremental() %}
    where event_hour in (select event_hour from {{ changed_events() }} as changed)
    {% endif %}
    group by event_hour

),

bounds as (

    select min(hour_start) as first_hour, max(hour_start) as last_hour
    from (
        select hour_start from hourly
        {% if is_incremental() %}
        union all
        select hour_start from {{ this }}
        {% endif %}
    ) as known_hours

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
{% if is_incremental() %}
where hourly.hour_start is not null
    or spine.hour_start not in (select hour_start from {{ this }})
{% endif %}
