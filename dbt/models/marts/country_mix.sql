{#
    Per day and country, among events whose country is known: share_of_plays and share_of_minutes are of the
    day's plays and minutes listened with a known country (NULL on a day without any); events, including
    pauses and playlist adds, are counted but not shared.
    Incremental: the days of the changed Silver rows are rebuilt whole (macro changed_events).
#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='event_date', on_schema_change='fail') }}

with daily as (

    select
        event_date,
        country,
        count(*) as events,
        count(case when event_type = 'play' then 1 end) as plays,
        count(case when {{ is_stream() }} then 1 end) as streams,
        {{ minutes_listened() }} as minutes_listened,
        {{ ms_listened() }} as ms_listened,
        count(distinct user_id) as listeners
    from {{ ref('stg_spotify__events') }}
    -- An unknown country (NULL: the source cannot know it) is left out of the mix, and out of its shares.
    where country is not null
    {% if is_incremental() %}
        and event_date in (select event_date from {{ changed_events() }} as changed)
    {% endif %}
    group by event_date, country

)

select
    event_date,
    country,
    events,
    plays,
    streams,
    minutes_listened,
    listeners,
    cast(plays as double precision) / nullif(sum(plays) over (partition by event_date), 0) as share_of_plays,
    cast(ms_listened as double precision) / nullif(sum(ms_listened) over (partition by event_date), 0) as share_of_minutes
from daily
