{#
    Every Gold table that counts plays must count exactly the plays in Silver. Returns the tables that disagree.
    The device and country mixes leave out events whose device or country is unknown (NULL): they must count
    exactly Silver's plays with a known device, and with a known country.

    Incremental marts rebuild only what changed Silver rows touch, so a Gold table changed by hand (rows
    deleted or duplicated) stays wrong until it is rebuilt from Silver:

        mds dbt build --full-refresh --select tag:gold        (locally)
        dbt build --full-refresh --select tag:gold            (the dbt CLI)
#}
with silver as (

    select
        count(*) as plays,
        count(device_type) as plays_known_device,
        count(country) as plays_known_country
    from {{ ref('stg_spotify__events') }}
    where event_type = 'play'

),

gold as (

    select 'plays_per_hour' as gold_table, sum(plays) as plays from {{ ref('plays_per_hour') }}
    union all
    select 'hourly_listening_preferences', sum(plays) from {{ ref('hourly_listening_preferences') }}
    union all
    select 'listening_sessions', sum(plays) from {{ ref('listening_sessions') }}
    union all
    select 'song_skip_rates', sum(plays) from {{ ref('song_skip_rates') }}
    union all
    select 'artist_skip_rates', sum(plays) from {{ ref('artist_skip_rates') }}
    union all
    select 'device_mix', sum(plays) from {{ ref('device_mix') }}
    union all
    select 'country_mix', sum(plays) from {{ ref('country_mix') }}
    union all
    select 'song_popularity_distribution', sum(plays) from {{ ref('song_popularity_distribution') }}
    union all
    select 'user_wrapped', sum(plays) from {{ ref('user_wrapped') }} where period = 'all_time'

)

select gold.gold_table, gold.plays as gold_plays, silver.plays as silver_plays
from gold
cross join silver
where coalesce(gold.plays, 0) <> case gold.gold_table
    when 'device_mix' then silver.plays_known_device
    when 'country_mix' then silver.plays_known_country
    else silver.plays
end
