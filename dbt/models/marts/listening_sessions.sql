{#
    One row per session (model listener_events: the gap rule and the id). session_end is the latest end of
    its events (a play ends after its milliseconds listened).

    Incremental (strategy listener_tail on user_id and session_start): each listener with changed Silver rows
    gets their sessions from recompute_from on (macro listener_tail_ctes, from the sessions stored here) found
    anew from listener_events, which rebuilt exactly those; the stored ones from that start on are replaced,
    so sessions a late event merged or whose first-loaded event changed leave no row behind. A listener
    recomputed whole sends a marker (NULL session_start) that clears all of their sessions first.
#}
{{ config(materialized='incremental', incremental_strategy='listener_tail', unique_key=['user_id', 'session_start'], on_schema_change='fail') }}
-- depends_on: {{ ref('stg_spotify__events') }}

with
{% if is_incremental() %}
{{ listener_tail_ctes(this) }},
{% endif %}

events as (

    select e.*
    from {{ ref('listener_events') }} as e
    {% if is_incremental() %}
    inner join recompute
        on recompute.user_id = e.user_id
        and {{ from_recompute_point('e') }}
    {% endif %}

)

select
    session_id,
    user_id,
    min(event_timestamp) as session_start,
    max(event_end) as session_end,
    count(*) as events,
    count(case when event_type = 'play' then 1 end) as plays,
    count(case when event_type = 'skip' then 1 end) as skips,
    count(distinct song_id) as distinct_songs,
    {{ minutes_listened() }} as minutes_listened
from events
group by session_id, user_id
{% if is_incremental() %}
union all
select
    null as session_id,
    user_id,
    null as session_start,
    null as session_end,
    null as events,
    null as plays,
    null as skips,
    null as distinct_songs,
    null as minutes_listened
from recompute
where recompute_from is null
{% endif %}
