{#
    One row per session (model listener_events: the gap rule and the id). session_end is the latest end of
    its events (a play ends after its milliseconds listened).

    Incremental (unique_key user_id): a listener with changed Silver rows gets their sessions from
    recompute_from on counted anew from listener_events, and their earlier sessions copied from this table.
    recompute_from (macro listener_recompute_ctes, on listener_events as this run left it) is a session start
    at or before every change; no session reaches past it from before, and the sessions at or after it are
    the ones a change can merge, split, grow or rename. A session does not depend on time zones.
#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='user_id', on_schema_change='fail') }}
-- depends_on: {{ ref('stg_spotify__events') }}
-- depends_on: {{ ref('dim_listeners') }}

with
{% if is_incremental() %}
{{ listener_recompute_ctes(ref('listener_events')) }},
{% endif %}

events as (

    select e.*
    from {{ ref('listener_events') }} as e
    {% if is_incremental() %}
    inner join recompute
        on recompute.user_id = e.user_id
        and (recompute.recompute_from is null or e.event_timestamp >= recompute.recompute_from)
    {% endif %}

),

sessions as (

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

)

select * from sessions
{% if is_incremental() %}
union all
select kept.*
from {{ this }} as kept
inner join recompute on recompute.user_id = kept.user_id
where kept.session_start < recompute.recompute_from
{% endif %}
