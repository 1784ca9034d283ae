{{
    config(
        materialized='incremental',
        unique_key='event_id',
        on_schema_change='fail'
    )
}}

{#
    Silver: typed, one row per event_id (the copy with the lowest kafka_partition, kafka_offset wins).
    Incremental runs read the Bronze rows loaded since the newest loaded_at already in Silver, minus a
    lookback (var silver_lookback_hours). Late events are selected by their load time, whatever their event
    time, so they always arrive; the lookback absorbs loads that commit out of order. The rows already in
    Silver for the same event_ids compete with the new copies, so the merge keeps the same winner a full
    refresh would.
#}

with source_rows as (

    select
        cast(event_id as varchar) as event_id,
        cast(user_id as varchar) as user_id,
        cast(song_id as varchar) as song_id,
        cast(artist_name as varchar) as artist_name,
        cast(song_name as varchar) as song_name,
        cast(event_type as varchar) as event_type,
        cast(device_type as varchar) as device_type,
        cast(country as varchar) as country,
        cast(event_timestamp as timestamp) as event_timestamp,
        cast(duration_ms as bigint) as duration_ms,
        cast(kafka_topic as varchar) as kafka_topic,
        cast(kafka_partition as integer) as kafka_partition,
        cast(kafka_offset as bigint) as kafka_offset,
        cast(loaded_at as timestamp) as loaded_at
    from {{ source('bronze', 'listening_events') }}
    where event_id is not null
    {% if is_incremental() %}
        and loaded_at >= (
            select max(loaded_at) - interval '{{ var("silver_lookback_hours") }} hours' from {{ this }}
        )
    {% endif %}

),

candidates as (

    select * from source_rows
    {% if is_incremental() %}
    union all
    select
        event_id, user_id, song_id, artist_name, song_name, event_type, device_type, country,
        event_timestamp, duration_ms, kafka_topic, kafka_partition, kafka_offset, loaded_at
    from {{ this }}
    where event_id in (select event_id from source_rows)
    {% endif %}

)

select
    event_id,
    user_id,
    song_id,
    artist_name,
    song_name,
    event_type,
    device_type,
    country,
    event_timestamp,
    cast(event_timestamp as date) as event_date,
    date_trunc('hour', event_timestamp) as event_hour,
    duration_ms,
    kafka_topic,
    kafka_partition,
    kafka_offset,
    loaded_at
from candidates
qualify row_number() over (
    partition by event_id
    order by kafka_partition, kafka_offset, loaded_at
) = 1
