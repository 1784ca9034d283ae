{#
    One row per listener and listener-local day (dim_listeners.time_zone) with at least one event.

    Incremental (strategy listener_tail on user_id and local_date): each listener with changed Silver rows gets
    their days from the local day of recompute_from on (macro listener_tail_ctes, from listening_sessions)
    counted anew from listener_events; the days before it hold only events before recompute_from, which this
    run left as they were. A listener whose time zone may have moved is recomputed whole behind a marker (NULL
    local_date) that clears all of their days: every local date may have moved, and a first day may have gone.
#}
{{ config(materialized='incremental', incremental_strategy='listener_tail', unique_key=['user_id', 'local_date'], on_schema_change='fail') }}
-- depends_on: {{ ref('stg_spotify__events') }}
-- depends_on: {{ ref('dim_listeners') }}
-- depends_on: {{ ref('listening_sessions') }}

with
{% if is_incremental() %}
{{ listener_tail_ctes(ref('listening_sessions'), local_time=true) }},

recompute_days as (

    select
        recompute.user_id,
        recompute.recompute_from,
        cast({{ to_local_time('recompute.recompute_from', 'listeners.time_zone') }} as date) as first_day
    from recompute
    inner join {{ ref('dim_listeners') }} as listeners on listeners.user_id = recompute.user_id

),
{% endif %}

events as (

    select e.*
    from {{ ref('listener_events') }} as e
    {% if is_incremental() %}
    inner join recompute_days
        on recompute_days.user_id = e.user_id
        and (
            recompute_days.recompute_from is null
            -- A local day starts less than two days before any of its times in UTC.
            or (
                e.event_timestamp >= recompute_days.recompute_from - interval '2 days'
                and e.local_date >= recompute_days.first_day
            )
        )
    {% endif %}

)

select
    user_id,
    local_date,
    count(*) as events,
    count(case when event_type = 'play' then 1 end) as plays,
    count(case when {{ is_stream() }} then 1 end) as streams,
    count(case when event_type = 'skip' then 1 end) as skips,
    {{ minutes_listened() }} as minutes_listened,
    count(distinct case when event_type = 'play' then song_id end) as distinct_songs,
    count(distinct case when event_type = 'play' then artist_name end) as distinct_artists,
    count(distinct session_id) as sessions
from events
group by user_id, local_date
{% if is_incremental() %}
union all
select
    user_id,
    null as local_date,
    null as events,
    null as plays,
    null as streams,
    null as skips,
    null as minutes_listened,
    null as distinct_songs,
    null as distinct_artists,
    null as sessions
from recompute
where recompute_from is null
{% endif %}
