{#
    Play streaks: maximal runs of at least 3 consecutive plays of one artist by one listener within one
    session (plays ordered by event_timestamp, event_id); a session boundary ends a run. Gaps and islands: in a
    run, the play's number in the session minus its number among the artist's plays of the session is constant.

    Incremental (unique_key user_id), as listening_sessions: a listener with changed Silver rows gets the
    streaks of their sessions from recompute_from on (macro listener_recompute_ctes) found anew, and their
    earlier streaks copied from this table (a streak lies inside one session).
#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='user_id', on_schema_change='fail') }}
-- depends_on: {{ ref('stg_spotify__events') }}
-- depends_on: {{ ref('dim_listeners') }}

with
{% if is_incremental() %}
{{ listener_recompute_ctes(ref('listener_events')) }},
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
        and (recompute.recompute_from is null or e.event_timestamp >= recompute.recompute_from)
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
select kept.user_id, kept.session_id, kept.artist_name, kept.streak_start, kept.streak_end, kept.streak_length
from {{ this }} as kept
inner join recompute on recompute.user_id = kept.user_id
where kept.streak_start < recompute.recompute_from
{% endif %}
