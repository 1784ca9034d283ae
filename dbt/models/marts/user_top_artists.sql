with user_artist as (

    select
        user_id,
        artist_name,
        count(*) as plays
    from {{ ref('stg_spotify__events') }}
    where event_type = 'play'
    group by user_id, artist_name

),

ranked as (

    select
        *,
        row_number() over (partition by user_id order by plays desc, artist_name) as rank
    from user_artist

)

select user_id, rank, artist_name, plays
from ranked
where rank <= 5
