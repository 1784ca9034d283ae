{#
    The 100 most streamed artists of each day: ranked by streams, then minutes listened, then listeners
    (descending), then artist_name; artists without a stream that day are not ranked.
#}
with daily as (

    select
        event_date,
        artist_name,
        count(case when {{ is_stream() }} then 1 end) as streams,
        count(case when event_type = 'play' then 1 end) as plays,
        {{ minutes_listened() }} as minutes_listened,
        count(distinct user_id) as listeners
    from {{ ref('stg_spotify__events') }}
    group by event_date, artist_name

),

ranked as (

    select
        *,
        row_number() over (
            partition by event_date
            order by streams desc, minutes_listened desc, listeners desc, artist_name
        ) as rank
    from daily
    where streams > 0

)

select event_date, rank, artist_name, streams, plays, minutes_listened, listeners
from ranked
where rank <= 100
