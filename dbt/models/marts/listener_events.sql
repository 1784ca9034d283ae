{#
    Every Silver event with its listener's local time and its session (the one home of both).
    event_end: a play's start plus its milliseconds listened; any other event, or a play whose listened time
    is unknown, ends where it starts.
    A session starts at a listener's first event, and at every event that starts more than 30 minutes after
    the latest end of the listener's earlier events (events ordered by event_timestamp, event_id).
    session_id: user_id, '-', and the event_id of the session's first-loaded event (earliest loaded_at, then
    event_timestamp, then event_id). A late event is loaded after the events already there, so joining a session
    (inside it, before its start or after its end) never changes the session's id; a late event that bridges
    two sessions leaves the id of the one loaded first.

    Incremental: only the listeners with changed Silver rows (macro changed_events) are recomputed, each from
    the start of the session that held their latest event before their earliest change (macro
    listener_recompute_ctes); rows are replaced by event_id. Earlier events keep their sessions: a session
    starts more than 30 minutes after every earlier event's end, so nothing before that start reaches past it.
    A listener whose time zone changed (dim_listeners against the zone of their rows here) is recomputed whole.
#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='event_id', on_schema_change='fail') }}

with
{% if is_incremental() %}
{{ listener_recompute_ctes(this) }},
{% endif %}

-- The events the run recomputes (read once: each reader below takes the columns it needs).
scoped as (

    select
        silver.*,
        case
            when silver.event_type = 'play' and silver.duration_ms is not null
                then {{ add_milliseconds('silver.event_timestamp', 'silver.duration_ms') }}
            else silver.event_timestamp
        end as event_end,
        listeners.time_zone,
        {{ quarter_hour('silver.event_timestamp') }} as quarter_start
    from {{ ref('stg_spotify__events') }} as silver
    inner join {{ ref('dim_listeners') }} as listeners on listeners.user_id = silver.user_id
    {% if is_incremental() %}
        inner join recompute
            on recompute.user_id = silver.user_id
            and {{ from_recompute_point('silver') }}
    {% endif %}

),

-- A zone's UTC offset once per quarter hour the events fall in, instead of a conversion per event: every
-- offset and every change of offset in the zones of macro country_time_zones lies on a quarter hour of UTC
-- (test/dbt/listeners.test.ts checks each zone, 2008-2040), so all times of a quarter hour share its start's.
zone_offsets as (

    select
        time_zone,
        quarter_start,
        {{ epoch_seconds(to_local_time('quarter_start', 'time_zone')) }} - {{ epoch_seconds('quarter_start') }}
            as offset_seconds
    from (select distinct time_zone, quarter_start from scoped) as quarters

),

-- previous_end: the latest end of the listener's earlier events, as the lag of a cumulative max (a frame every
-- warehouse has: https://docs.snowflake.com/en/sql-reference/functions-window-syntax).
running as (

    select
        *,
        max(event_end) over (
            partition by user_id order by event_timestamp, event_id
            rows between unbounded preceding and current row
        ) as running_end
    -- The columns sessions need alone: each window below sorts narrow rows; the rest is joined back at the end.
    from (select event_id, user_id, event_timestamp, event_end, loaded_at from scoped) as narrow

),

gaps as (

    select
        *,
        lag(running_end) over (partition by user_id order by event_timestamp, event_id) as previous_end
    from running

),

numbered as (

    select
        *,
        sum(
            case
                when previous_end is null then 1
                when event_timestamp > previous_end + interval '30 minutes' then 1
                else 0
            end
        ) over (
            partition by user_id order by event_timestamp, event_id
            rows between unbounded preceding and current row
        ) as session_number
    from gaps

),

anchored as (

    select
        *,
        first_value(event_id) over (
            partition by user_id, session_number
            order by loaded_at, event_timestamp, event_id
            rows between unbounded preceding and unbounded following
        ) as anchor_event_id
    from numbered

)

{%- set local_timestamp = add_milliseconds('scoped.event_timestamp', '1000 * zone_offsets.offset_seconds') %}
select
    scoped.event_id,
    scoped.user_id,
    scoped.user_id || '-' || anchored.anchor_event_id as session_id,
    scoped.song_id,
    scoped.song_name,
    scoped.artist_name,
    scoped.album_name,
    scoped.track_length_ms,
    scoped.event_type,
    scoped.duration_ms,
    scoped.source,
    scoped.event_timestamp,
    scoped.event_end,
    scoped.loaded_at,
    scoped.merged_at,
    scoped.time_zone,
    {{ local_timestamp }} as local_timestamp,
    cast({{ local_timestamp }} as date) as local_date,
    cast(extract(hour from {{ local_timestamp }}) as integer) as local_hour,
    {{ iso_weekday(local_timestamp) }} as local_weekday
from anchored
inner join scoped on scoped.event_id = anchored.event_id
inner join zone_offsets
    on zone_offsets.time_zone = scoped.time_zone
    and zone_offsets.quarter_start = scoped.quarter_start
