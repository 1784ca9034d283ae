{# The 100 most played artists of each day; artists without a play that day are not ranked. #}
with daily as (

    select
        event_date,
        artist_name,
        count(case when event_type = 'play' then 1 end) as plays,
        count(distinct user_id) as listeners
    from {{ ref('stg_spotify__events') }}
    group by event_date, artist_name

),

ranked as (

    select
        *,
        row_number() over (partition by event_date order by plays desc, artist_name) as rank
    from daily
    where plays > 0

)

select event_date, rank, artist_name, plays, listeners
from ranked
where rank <= 100
