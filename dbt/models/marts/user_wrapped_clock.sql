{#
    Each listener's listening clock of each Wrapped period (macro wrapped_periods): plays by listener-local hour
    of day (0-23).
    Incremental: every listener with changed Silver rows (macro changed_events) gets all their rows anew:
    recomputed from all their events for the local hours the changed rows fall in (every hour for a listener
    whose time zone may have changed: macro wrapped_rezoned_users; the rolling periods of every listener when the
    anchor may have moved: macro wrapped_anchor_moved), copied from the table for the rest.
#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='user_id', on_schema_change='fail') }}

-- depends_on: {{ ref('stg_spotify__events') }}
-- depends_on: {{ ref('dim_listeners') }}
-- depends_on: {{ ref('listener_events') }}

{% if is_incremental() %}

-- The listener-local hours of the changed rows: listener_events carries Silver's lineage (macro is_changed).
with touched as (

    select distinct user_id, local_hour
    from {{ ref('listener_events') }}
    where {{ is_changed() }}

),

rezoned as (

    select user_id from {{ wrapped_rezoned_users() }} as suspects

),

moved as (

    select {{ wrapped_anchor_moved('rezoned') }} as anchor_moved

),

-- In scope: the rows recomputed from all their events; the rest of a listener's rows are kept.
scoped as (

    select r.user_id, r.period, r.local_hour, r.plays, r.streams, r.minutes_listened
    from ({{ wrapped_clock_rows(true) }}) as r
    where r.complete or {{ wrapped_is_rolling('r.period') }}

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
inner join listeners on listeners.user_id = kept.user_id
left join touched as t on t.user_id = kept.user_id and t.local_hour = kept.local_hour
left join rezoned as r on r.user_id = kept.user_id
cross join moved as m
where t.user_id is null
    and r.user_id is null
    and not ({{ wrapped_is_rolling('kept.period') }} and m.anchor_moved)

{% else %}

select user_id, period, local_hour, plays, streams, minutes_listened
from ({{ wrapped_clock_rows(false) }}) as r

{% endif %}
