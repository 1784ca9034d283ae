{# The 100 most played songs of each day; songs without a play that day are not ranked. #}
with daily as (

    select
        event_date,
        song_id,
        min(song_name) as song_name,
        min(artist_name) as artist_name,
        count(case when event_type = 'play' then 1 end) as plays,
        count(distinct user_id) as listeners
    from {{ ref('stg_spotify__events') }}
    group by event_date, song_id

),

ranked as (

    select
        *,
        row_number() over (partition by event_date order by plays desc, song_id) as rank
    from daily
    where plays > 0

)

select event_date, rank, song_id, song_name, artist_name, plays, listeners
from ranked
where rank <= 100
