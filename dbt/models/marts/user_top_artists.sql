{# Each user's five most streamed artists: by streams, then minutes listened (descending), then artist_name;
    every artist the user played is ranked, streamed or not, so a user with a play has a top artist. #}
with user_artist as (

    select
        user_id,
        artist_name,
        count(case when {{ is_stream() }} then 1 end) as streams,
        count(*) as plays,
        {{ minutes_listened() }} as minutes_listened
    from {{ ref('stg_spotify__events') }}
    where event_type = 'play'
    group by user_id, artist_name

),

ranked as (

    select
        *,
        row_number() over (
            partition by user_id
            order by streams desc, minutes_listened desc, artist_name
        ) as rank
    from user_artist

)

select user_id, rank, artist_name, streams, plays, minutes_listened
from ranked
where rank <= 5
