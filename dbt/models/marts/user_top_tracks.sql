with user_song as (

    select
        user_id,
        song_id,
        min(song_name) as song_name,
        min(artist_name) as artist_name,
        count(*) as plays
    from {{ ref('stg_spotify__events') }}
    where event_type = 'play'
    group by user_id, song_id

),

ranked as (

    select
        *,
        row_number() over (partition by user_id order by plays desc, song_id) as rank
    from user_song

)

select user_id, rank, song_id, song_name, artist_name, plays
from ranked
where rank <= 5
