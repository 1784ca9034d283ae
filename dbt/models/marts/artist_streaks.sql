{#
    Maximal runs of at least 3 consecutive plays of one artist by one user, plays ordered by
    (event_timestamp, event_id): gaps and islands, a run keeps user_seq - artist_seq constant.
#}
with plays as (

    select
        user_id,
        artist_name,
        event_timestamp,
        row_number() over (
            partition by user_id order by event_timestamp, event_id
        ) as user_seq,
        row_number() over (
            partition by user_id, artist_name order by event_timestamp, event_id
        ) as artist_seq
    from {{ ref('stg_spotify__events') }}
    where event_type = 'play'

),

runs as (

    select
        user_id,
        artist_name,
        min(event_timestamp) as streak_start,
        max(event_timestamp) as streak_end,
        count(*) as streak_length
    from plays
    group by user_id, artist_name, user_seq - artist_seq

)

select user_id, artist_name, streak_start, streak_end, streak_length
from runs
where streak_length >= 3
