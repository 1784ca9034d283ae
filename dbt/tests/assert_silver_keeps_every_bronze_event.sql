{#
    Silver removes duplicates only: it holds exactly the distinct event_ids of Bronze.
    When it fails (Silver rows deleted by hand, say), Gold waits for it and is not built: rebuild Silver and
    Gold from Bronze with `mds dbt build --full-refresh` (or `dbt build --full-refresh`).
#}
with bronze as (

    select count(distinct event_id) as event_ids
    from {{ source('bronze', 'listening_events') }}
    where event_id is not null

),

silver as (

    select count(*) as event_ids
    from {{ ref('stg_spotify__events') }}

)

select bronze.event_ids as bronze_event_ids, silver.event_ids as silver_event_ids
from bronze
cross join silver
where bronze.event_ids <> silver.event_ids
