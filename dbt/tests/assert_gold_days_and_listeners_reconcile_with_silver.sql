{#
    Gold holds every day and every listener of Silver, whole: per UTC day, the events of plays_per_hour,
    device_mix (events with a known device), country_mix (events with a known country) and listener_events
    equal Silver's; per listener, the events of listener_days and listening_sessions equal Silver's. Returns
    the table, the day or listener, and both counts where they differ.

    Incremental marts rebuild only the days and listeners that changed Silver rows touch, so Gold changed by
    hand (a day or a listener deleted, a mart emptied) is not repaired by the next run: this test stops it
    instead of leaving Gold silently partial. To repair Gold, rebuild it from Silver:

        mds dbt build --full-refresh --select tag:gold        (locally)
        dbt build --full-refresh --select tag:gold            (the dbt CLI)

    When assert_silver_keeps_every_bronze_event fails as well, Silver lost rows: rebuild everything from
    Bronze with `mds dbt build --full-refresh` (or `dbt build --full-refresh`).
#}
with silver_days as (

    select
        event_date,
        count(*) as events,
        count(device_type) as events_known_device,
        count(country) as events_known_country
    from {{ ref('stg_spotify__events') }}
    group by event_date

),

silver_listeners as (

    select user_id, count(*) as events
    from {{ ref('stg_spotify__events') }}
    group by user_id

),

day_tables as (

    select 'plays_per_hour' as gold_table
    union all
    select 'device_mix'
    union all
    select 'country_mix'
    union all
    select 'listener_events'

),

expected_days as (

    select
        day_tables.gold_table,
        silver_days.event_date,
        case day_tables.gold_table
            when 'device_mix' then silver_days.events_known_device
            when 'country_mix' then silver_days.events_known_country
            else silver_days.events
        end as events
    from silver_days
    cross join day_tables

),

gold_days as (

    -- A duplicated hour is the unique test's on hour_start (and assert_gold_plays_reconcile_with_silver's).
    select 'plays_per_hour' as gold_table, cast(hour_start as date) as event_date, sum(events) as events
    from (select distinct hour_start, events from {{ ref('plays_per_hour') }}) as hours
    group by cast(hour_start as date)
    union all
    select 'device_mix', event_date, sum(events)
    from {{ ref('device_mix') }}
    group by event_date
    union all
    select 'country_mix', event_date, sum(events)
    from {{ ref('country_mix') }}
    group by event_date
    union all
    select 'listener_events', cast(event_timestamp as date), count(*)
    from {{ ref('listener_events') }}
    group by cast(event_timestamp as date)

),

listener_tables as (

    select 'listener_days' as gold_table
    union all
    select 'listening_sessions'

),

expected_listeners as (

    select listener_tables.gold_table, silver_listeners.user_id, silver_listeners.events
    from silver_listeners
    cross join listener_tables

),

gold_listeners as (

    select 'listener_days' as gold_table, user_id, sum(events) as events
    from {{ ref('listener_days') }}
    group by user_id
    union all
    select 'listening_sessions', user_id, sum(events)
    from {{ ref('listening_sessions') }}
    group by user_id

)

select
    coalesce(gold_days.gold_table, expected_days.gold_table) as gold_table,
    coalesce(gold_days.event_date, expected_days.event_date) as event_date,
    cast(null as varchar) as user_id,
    gold_days.events as gold_events,
    expected_days.events as silver_events
from gold_days
full outer join expected_days
    on expected_days.gold_table = gold_days.gold_table
    and expected_days.event_date = gold_days.event_date
where coalesce(gold_days.events, 0) <> coalesce(expected_days.events, 0)

union all

select
    coalesce(gold_listeners.gold_table, expected_listeners.gold_table),
    cast(null as date),
    coalesce(gold_listeners.user_id, expected_listeners.user_id),
    gold_listeners.events,
    expected_listeners.events
from gold_listeners
full outer join expected_listeners
    on expected_listeners.gold_table = gold_listeners.gold_table
    and expected_listeners.user_id = gold_listeners.user_id
where coalesce(gold_listeners.events, 0) <> coalesce(expected_listeners.events, 0)
