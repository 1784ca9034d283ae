{#
    Play streaks: maximal runs of at least 3 consecutive plays of one artist by one listener within one
    session (plays ordered by event_timestamp, event_id); a session boundary ends a run. Gaps and islands: in a
    run, the play's number in the session minus its number among the artist's plays of the session is constant.
#}
with plays as (

    select
        user_id,
        session_id,
        artist_name,
        event_timestamp,
        row_number() over (
            partition by session_id order by event_timestamp, event_id
        ) as session_seq,
        row_number() over (
            partition by session_id, artist_name order by event_timestamp, event_id
        ) as artist_seq
    from {{ ref('listener_events') }}
    where event_type = 'play'

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
