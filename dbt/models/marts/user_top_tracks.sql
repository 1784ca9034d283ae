{# Each user's five most streamed songs: by streams, then minutes listened (descending), then song_id;
    every song the user played is ranked, streamed or not, so a user with a play has a top song. #}
with user_song as (

    select
        user_id,
        song_id,
        min(song_name) as song_name,
        min(artist_name) as artist_name,
        count(case when {{ is_stream() }} then 1 end) as streams,
        count(*) as plays,
        {{ minutes_listened() }} as minutes_listened
    from {{ ref('stg_spotify__events') }}
    where event_type = 'play'
    group by user_id, song_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by user_id
            order by streams desc, minutes_listened desc, song_id
        ) as rank
    from user_song

)

select user_id, rank, song_id, song_name, artist_name, streams, plays, minutes_listened
from ranked
where rank <= 5
