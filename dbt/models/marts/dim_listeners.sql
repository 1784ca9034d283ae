{#
    One row per listener (every user_id in Silver). country: the most frequent known country of the
    listener's events (ties: the alphabetically first; NULL when no event has a country). time_zone: that
    country's zone (macro country_time_zones: the simulator's first zone for the country), UTC when the
    country is unknown or not listed. Listener-local dates and hours everywhere in Gold use this zone.
#}
with country_counts as (

    select user_id, country, count(*) as events
    from {{ ref('stg_spotify__events') }}
    where country is not null
    group by user_id, country

),

home as (

    select user_id, country
    from (
        select
            user_id,
            country,
            row_number() over (partition by user_id order by events desc, country) as country_rank
        from country_counts
    ) as ranked
    where country_rank = 1

),

zones as (
    {{ country_time_zones() }}
),

per_user as (

    select
        user_id,
        count(*) as events,
        min(event_timestamp) as first_event_at,
        max(event_timestamp) as last_event_at
    from {{ ref('stg_spotify__events') }}
    group by user_id

)

select
    per_user.user_id,
    home.country,
    coalesce(zones.time_zone, 'UTC') as time_zone,
    per_user.events,
    per_user.first_event_at,
    per_user.last_event_at
from per_user
left join home on home.user_id = per_user.user_id
left join zones on zones.country = home.country
