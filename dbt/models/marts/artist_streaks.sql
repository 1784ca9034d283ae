{#
    Play streaks: maximal runs of at least 3 consecutive plays of one artist by one listener within one
    session (plays ordered by event_timestamp, event_id); a session boundary ends a run. Gaps and islands: in a
    run, the play's number in the session minus its number among the artist's plays of the session is constant.

    Incremental (strategy listener_tail on user_id and streak_start): a listener with changed Silver rows gets
    the streaks of their sessions from recompute_from on (macro listener_tail_ctes, from listening_sessions)
    found anew from listener_events; a streak lies inside one session, so the earlier ones stand. Their latest
    stored streak before recompute_from is sent again, so that the stored streaks from recompute_from on are
    replaced even when none is left (a late play of another artist splits a run); a listener without one, or
    recomputed whole, sends a marker (NULL streak_start) that clears all of their streaks first.
#}
{{ config(materialized='incremental', incremental_strategy='listener_tail', unique_key=['user_id', 'streak_start'], on_schema_change='fail') }}
-- depends_on: {{ ref('stg_spotify__events') }}
-- depends_on: {{ ref('listening_sessions') }}

with
{% if is_incremental() %}
{{ listener_tail_ctes(ref('listening_sessions')) }},

kept as (

    {{ latest_stored_before('recompute', 'recompute_from', 'streak_start') }}

),
{% endif %}

plays as (

    select
        e.user_id,
        e.session_id,
        e.artist_name,
        e.event_timestamp,
        row_number() over (
            partition by e.session_id order by e.event_timestamp, e.event_id
        ) as session_seq,
        row_number() over (
            partition by e.session_id, e.artist_name order by e.event_timestamp, e.event_id
        ) as artist_seq
    from {{ ref('listener_events') }} as e
    {% if is_incremental() %}
    inner join recompute
        on recompute.user_id = e.user_id
        and {{ from_recompute_point('e') }}
    {% endif %}
    where e.event_type = 'play'

),

runs as (

    select
        user_id,
        session_id,
        artist_name,
        min(event_timestamp) as streak_start,
        max(event_timestamp) as streak_end,
        count(*) as streak_length
    from plays
    group by user_id, session_id, artist_name, session_seq - artist_seq

)

select user_id, session_id, artist_name, streak_start, streak_end, streak_length
from runs
where streak_length >= 3
{% if is_incremental() %}
union all
select user_id, session_id, artist_name, streak_start, streak_end, streak_length
from kept
union all
select
    recompute.user_id,
    null as session_id,
    null as artist_name,
    null as streak_start,
    null as streak_end,
    null as streak_length
from recompute
left join kept on kept.user_id = recompute.user_id
where kept.user_id is null
{% endif %}
