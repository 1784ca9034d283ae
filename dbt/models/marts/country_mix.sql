{# Events whose country is known only; share_of_events is of the day's events with a known country. #}
with daily as (

    select
        event_date,
        country,
        count(*) as events,
        count(case when event_type = 'play' then 1 end) as plays,
        count(distinct user_id) as listeners
    from {{ ref('stg_spotify__events') }}
    -- An unknown country (NULL: the source cannot know it) is left out of the mix, and out of its shares.
    where country is not null
    group by event_date, country

)

select
    event_date,
    country,
    events,
    plays,
    listeners,
    cast(events as double precision) / sum(events) over (partition by event_date) as share_of_events
from daily
