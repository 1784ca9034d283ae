{#
    Each listener's listening clock of each Wrapped period (macro wrapped_periods): plays by listener-local hour
    of day (0-23).
    Incremental: every listener with changed Silver rows (macro changed_events) gets all their rows anew:
    recomputed from all their events for the local hours the changed rows fall in (every hour for a listener
    whose time zone may have changed: macro wrapped_rezoned_users; the rolling periods of every listener when the
    anchor may have moved: macro wrapped_anchor_moved), copied from the table for the rest.
#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='user_id', on_schema_change='fail') }}

{#- What a clock row counts, the same in the recomputed rows of an incremental run and in a full build. -#}
{%- set clock_counts -%}
count(*) as plays,
        count(case when {{ is_stream() }} then 1 end) as streams,
        {{ minutes_listened() }} as minutes_listened
{%- endset %}
-- depends_on: {{ ref('stg_spotify__events') }}
-- depends_on: {{ ref('dim_listeners') }}
-- depends_on: {{ ref('listener_events') }}

{% if is_incremental() %}

with touched as (

    select distinct events.user_id, events.local_hour
    from {{ ref('listener_events') }} as events
    inner join {{ changed_events() }} as changed on changed.event_id = events.event_id

),

rezoned as (

    select user_id from {{ wrapped_rezoned_users() }} as suspects

),

moved as (

    select {{ wrapped_anchor_moved('rezoned') }} as anchor_moved

),

scoped_events as (

    select events.event_id, events.user_id, events.event_type, events.duration_ms, events.source, events.local_date, events.local_hour
    from {{ ref('listener_events') }} as events
    inner join touched on touched.user_id = events.user_id and touched.local_hour = events.local_hour
    where events.event_type = 'play'
    union
    select events.event_id, events.user_id, events.event_type, events.duration_ms, events.source, events.local_date, events.local_hour
    from {{ ref('listener_events') }} as events
    inner join rezoned on rezoned.user_id = events.user_id
    where events.event_type = 'play'
    union
    select events.event_id, events.user_id, events.event_type, events.duration_ms, events.source, events.local_date, events.local_hour
    from {{ ref('listener_events') }} as events
    cross join {{ wrapped_bounds() }} as b
    where events.event_type = 'play'
        and events.local_date >= {{ add_days('b.anchor_date', -181) }}
        and (select anchor_moved from moved)

),

recomputed as (

    select
        user_id,
        period,
        local_hour,
        {{ clock_counts }}
    from ({{ wrapped_periods('scoped_events') }}) as periods
    group by user_id, period, local_hour

),

-- In scope: the rows recomputed from all their events; the rest of a listener's rows are kept.
scoped as (

    select r.*
    from recomputed as r
    where exists (select 1 from touched as t where t.user_id = r.user_id and t.local_hour = r.local_hour)
        or r.user_id in (select user_id from rezoned)
        or ({{ wrapped_is_rolling('r.period') }} and (select anchor_moved from moved))

),

listeners as (

    select user_id from touched
    union
    select user_id from rezoned
    union
    select clock.user_id from {{ this }} as clock where (select anchor_moved from moved)

)

select user_id, period, local_hour, plays, streams, minutes_listened
from scoped
union all
select kept.user_id, kept.period, kept.local_hour, kept.plays, kept.streams, kept.minutes_listened
from {{ this }} as kept
where kept.user_id in (select user_id from listeners)
    and not exists (
        select 1 from touched as t where t.user_id = kept.user_id and t.local_hour = kept.local_hour
    )
    and kept.user_id not in (select user_id from rezoned)
    and not ({{ wrapped_is_rolling('kept.period') }} and (select anchor_moved from moved))

{% else %}

select
    user_id,
    period,
    local_hour,
    {{ clock_counts }}
from ({{ wrapped_periods(ref('listener_events')) }}) as periods
where event_type = 'play'
group by user_id, period, local_hour

{% endif %}
