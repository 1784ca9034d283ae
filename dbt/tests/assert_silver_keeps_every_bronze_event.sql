{#
    Silver removes duplicates only: it holds exactly the distinct event_ids of Bronze. Counted by event hour:
    the copies of an event_id carry the same event_timestamp, so each hour's distinct event_ids in Bronze are
    Silver's rows of that hour (a Silver row deleted by hand anywhere in history, or a Bronze event Silver
    never merged, leaves its hour short). Counting hour by hour is cheaper than one distinct count over all of
    Bronze, and the rows returned name the hours that differ.
    When it fails (Silver rows deleted by hand, say), Gold waits for it and is not built: rebuild Silver and
    Gold from Bronze with `mds dbt build --full-refresh` (or `dbt build --full-refresh`).
#}
with bronze as (

    select
        date_trunc('hour', cast(event_timestamp as {{ utc_timestamp_type() }})) as event_hour,
        count(distinct event_id) as event_ids
    from {{ source('bronze', 'listening_events') }}
    where event_id is not null
    group by date_trunc('hour', cast(event_timestamp as {{ utc_timestamp_type() }}))

),

silver as (

    select event_hour, count(*) as event_ids
    from {{ ref('stg_spotify__events') }}
    group by event_hour

)

select
    coalesce(bronze.event_hour, silver.event_hour) as event_hour,
    coalesce(bronze.event_ids, 0) as bronze_event_ids,
    coalesce(silver.event_ids, 0) as silver_event_ids
from bronze
full outer join silver on silver.event_hour = bronze.event_hour
where coalesce(bronze.event_ids, 0) <> coalesce(silver.event_ids, 0)
