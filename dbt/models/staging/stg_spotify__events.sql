{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_predicates=[silver_replaced_rows_within()],
        on_schema_change='fail'
    )
}}

{#
    Silver: typed, one row per event_id (the copy with the lowest kafka_partition, kafka_offset wins).
    Incremental runs read the Bronze rows loaded since the newest loaded_at already in Silver, minus a
    lookback (var silver_lookback_hours). Late events are selected by their load time, whatever their event
    time, so they always arrive; the lookback absorbs loads that commit out of order. Copies that cannot beat
    the row Silver already keeps for their event_id (that row itself, and later duplicates) are left out, so
    a run merges what arrived since the last run, not the whole lookback, and a re-run with nothing new merges
    nothing. The rows already in Silver for the remaining event_ids compete with the new copies, so the merge
    keeps the same winner a full refresh would.

    The copies of an event_id are one event and carry the same event_timestamp (they differ in their Kafka
    position and load time only; macros/gold_changes.sql relies on the same). So the rows a run compares with
    and replaces are found by event_id and event_timestamp, and the merge deletes only within the event times
    of the Bronze rows it read (incremental_predicates, macro silver_replaced_rows_within). Silver is stored in
    event-hour order (a full build sorts, an incremental run appends its hours), so those reads and the delete
    skip the row groups of the rest of the history.

    merged_at: when the dbt run that merged the row started (macro run_started_at_utc). A new copy takes this
    run's; a row kept from Silver itself keeps its own (nothing changed for it). Gold's changed rows are the
    rows merged after its last complete build (macro is_changed), with no lookback. A Silver built before
    merged_at existed stops the incremental run, naming the one `--full-refresh` that rebuilds it.

    Contract versions 1 and 2 land in one Bronze table: a version-1 row has no album_name, track_length_ms
    or source (NULL in Bronze); its source is the simulator, the only producer of version 1. NULL in
    album_name, track_length_ms, device_type, country and duration_ms means unknown (the source cannot know
    it), never 0 or a default. A Silver built before these columns existed is rebuilt once with
    `--full-refresh` (on_schema_change='fail' stops the incremental run instead of guessing; docs/data-model.md).
#}

{% if is_incremental() and not has_column(this, 'merged_at') %}
    {{ exceptions.raise_compiler_error(
        'Silver (' ~ this ~ ') has no merged_at column: it was built by an earlier release. Rebuild Silver and'
        ~ ' Gold once with `mds dbt build --full-refresh` (or `dbt build --full-refresh`).'
    ) }}
{% endif %}

with source_rows as (

    select
        cast(event_id as varchar) as event_id,
        cast(user_id as varchar) as user_id,
        cast(song_id as varchar) as song_id,
        cast(artist_name as varchar) as artist_name,
        cast(song_name as varchar) as song_name,
        cast(album_name as varchar) as album_name,
        cast(track_length_ms as bigint) as track_length_ms,
        cast(event_type as varchar) as event_type,
        cast(device_type as varchar) as device_type,
        cast(country as varchar) as country,
        cast(event_timestamp as {{ utc_timestamp_type() }}) as event_timestamp,
        cast(duration_ms as bigint) as duration_ms,
        cast(coalesce(source, 'simulator') as varchar) as source,
        cast(kafka_topic as varchar) as kafka_topic,
        cast(kafka_partition as integer) as kafka_partition,
        cast(kafka_offset as bigint) as kafka_offset,
        cast(loaded_at as {{ utc_timestamp_type() }}) as loaded_at,
        {{ run_started_at_utc() }} as merged_at
    from {{ source('bronze', 'listening_events') }}
    where event_id is not null
    {% if is_incremental() %}
        -- An empty Silver (its first build ran before any event was loaded) has no max(loaded_at): it
        -- then reads all of Bronze, as a first build would, instead of comparing with NULL for ever.
        and loaded_at >= {{ silver_read_from() }}
    {% endif %}

),

new_rows as (

    {% if is_incremental() %}
    -- Left out: copies that cannot beat the row Silver already keeps for their event_id (Silver has one row
    -- per event_id, so the join adds no rows). The copies of an event_id carry its event_timestamp, so the
    -- join on both finds the same rows and skips the row groups of Silver outside the read's event times.
    select s.*
    from source_rows as s
    left join {{ this }} as t on t.event_id = s.event_id and t.event_timestamp = s.event_timestamp
    where t.event_id is null
        or s.kafka_partition < t.kafka_partition
        or (s.kafka_partition = t.kafka_partition and s.kafka_offset < t.kafka_offset)
        or (
            s.kafka_partition = t.kafka_partition
            and s.kafka_offset = t.kafka_offset
            and s.loaded_at < t.loaded_at
        )
    {% else %}
    select * from source_rows
    {% endif %}

),

candidates as (

    select * from new_rows
    {% if is_incremental() %}
    union all
    select
        event_id, user_id, song_id, artist_name, song_name, album_name, track_length_ms, event_type,
        device_type, country, event_timestamp, duration_ms, source, kafka_topic, kafka_partition,
        kafka_offset, loaded_at, merged_at
    from {{ this }}
    where (event_id, event_timestamp) in (select event_id, event_timestamp from new_rows)
    {% endif %}

),

ranked as (

    -- One row per event_id: a row_number in a subquery rather than QUALIFY, which Postgres does not have.
    select
        *,
        row_number() over (
            partition by event_id
            order by kafka_partition, kafka_offset, loaded_at
        ) as copy_rank
    from candidates

)

select
    event_id,
    user_id,
    song_id,
    artist_name,
    song_name,
    album_name,
    track_length_ms,
    event_type,
    device_type,
    country,
    event_timestamp,
    cast(event_timestamp as date) as event_date,
    date_trunc('hour', event_timestamp) as event_hour,
    duration_ms,
    source,
    kafka_topic,
    kafka_partition,
    kafka_offset,
    loaded_at,
    merged_at
from ranked
where copy_rank = 1
{% if not is_incremental() %}
-- Stored in event-time order (an incremental run appends its hour, in order too), so the reads above and the
-- merge's delete (incremental_predicates) skip the row groups outside the few hours they look at.
order by event_hour
{% endif %}
