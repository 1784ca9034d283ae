with per_artist as (

    select
        artist_name,
        count(case when event_type = 'play' then 1 end) as plays,
        count(case when event_type = 'skip' then 1 end) as skips
    from {{ ref('stg_spotify__events') }}
    group by artist_name

)

select
    artist_name,
    plays,
    skips,
    cast(skips as double) / nullif(plays, 0) as skip_rate
from per_artist
