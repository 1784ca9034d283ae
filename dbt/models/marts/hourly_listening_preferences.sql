{#
    skip_rate: skips over plays and skips of sources that report skips (macro skip_rate); minutes_listened: the plays whose
    duration_ms is known (a play of the Web API adds none: its milliseconds listened are unknown, not 0).
    Incremental: the hours of day of the changed Silver rows are counted anew from Silver.
#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='hour_of_day', on_schema_change='fail') }}

with per_hour as (

    select
        cast(extract(hour from event_timestamp) as integer) as hour_of_day,
        count(case when event_type = 'play' then 1 end) as plays,
        count(case when event_type = 'skip' then 1 end) as skips,
        {{ skip_rate() }} as skip_rate,
        count(distinct user_id) as listeners,
        {{ minutes_listened() }} as minutes_listened
    from {{ ref('stg_spotify__events') }}
    {% if is_incremental() %}
    where cast(extract(hour from event_timestamp) as integer) in (
        select cast(extract(hour from event_timestamp) as integer) from {{ changed_events() }} as changed
    )
    {% endif %}
    group by cast(extract(hour from event_timestamp) as integer)

)

select
    hour_of_day,
    plays,
    skips,
    listeners,
    skip_rate,
    minutes_listened
from per_hour
