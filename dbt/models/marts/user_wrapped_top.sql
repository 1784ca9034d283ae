{#
    Each listener's top 5 artists and top 5 tracks of each Wrapped period (macro wrapped_periods), ranked by
    streams (macro is_stream) descending, then minutes listened descending, then name (tracks: song_name, then
    song_id); only artists and tracks with at least one stream in the period are ranked. kind: 'artist' or 'track'.
    Incremental: every listener with changed Silver rows (macro changed_events) gets all their rows anew. The
    songs and artists the changed rows are of are recomputed from all their events and ranked with the rest of
    the stored top 5, which holds the new top 5 as long as no stored top 5 entry ranks lower than it did; a
    period where one does, a listener whose time zone may have changed (macro wrapped_rezoned_users), and the
    rolling periods when the anchor may have moved (macro wrapped_anchor_moved) are ranked from all their events.
#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='user_id', on_schema_change='fail') }}
-- depends_on: {{ ref('stg_spotify__events') }}
-- depends_on: {{ ref('dim_listeners') }}
-- depends_on: {{ ref('listener_events') }}

with

{% if is_incremental() %}

changed as (

    select distinct user_id, song_id, artist_name from {{ changed_events() }} as changed

),

-- The changed songs (kind 'track', item_key song_id) and artists (kind 'artist', item_key artist_name).
changed_items as (

    select distinct user_id, 'track' as kind, song_id as item_key from changed
    union
    select distinct user_id, 'artist' as kind, artist_name as item_key from changed

),

rezoned as (

    select user_id from {{ wrapped_rezoned_users() }} as suspects

),

moved as (

    select {{ wrapped_anchor_moved('rezoned') }} as anchor_moved

),

scoped_events as (

    select events.event_id, events.user_id, events.song_id, events.song_name, events.artist_name, events.event_type, events.duration_ms, events.source, events.local_date
    from {{ ref('listener_events') }} as events
    inner join (select distinct user_id, song_id from changed) as t
        on t.user_id = events.user_id and t.song_id = events.song_id
    union
    select events.event_id, events.user_id, events.song_id, events.song_name, events.artist_name, events.event_type, events.duration_ms, events.source, events.local_date
    from {{ ref('listener_events') }} as events
    inner join (select distinct user_id, artist_name from changed) as t
        on t.user_id = events.user_id and t.artist_name = events.artist_name
    union
    select events.event_id, events.user_id, events.song_id, events.song_name, events.artist_name, events.event_type, events.duration_ms, events.source, events.local_date
    from {{ ref('listener_events') }} as events
    inner join rezoned on rezoned.user_id = events.user_id
    union
    select events.event_id, events.user_id, events.song_id, events.song_name, events.artist_name, events.event_type, events.duration_ms, events.source, events.local_date
    from {{ ref('listener_events') }} as events
    cross join {{ wrapped_bounds() }} as b
    where events.local_date >= {{ add_days('b.anchor_date', -181) }} and (select anchor_moved from moved)

),

listeners as (

    select user_id from changed
    union
    select user_id from rezoned
    union
    select stored.user_id from {{ this }} as stored where (select anchor_moved from moved)

),

-- The items whose every event is in scoped_events: those of the changed rows, every item of a listener whose
-- time zone may have changed, and every item of the rolling periods when the anchor may have moved.
items as (

    select items.*
    from (
        select i.*, case when i.kind = 'artist' then i.artist_name else i.song_id end as item_key
        from ({{ wrapped_items('scoped_events') }}) as i
    ) as items
    where exists (
            select 1 from changed_items as c
            where c.user_id = items.user_id and c.kind = items.kind and c.item_key = items.item_key
        )
        or items.user_id in (select user_id from rezoned)
        or ({{ wrapped_is_rolling('items.period') }} and (select anchor_moved from moved))

),

stored as (

    select
        stored.*,
        exists (
            select 1 from changed_items as c
            where c.user_id = stored.user_id and c.kind = stored.kind and c.item_key = stored.item_key
        ) as is_changed
    from (
        select s.*, case when s.kind = 'artist' then s.artist_name else s.song_id end as item_key
        from {{ this }} as s
    ) as stored
    where stored.user_id in (select user_id from listeners)
        and stored.user_id not in (select user_id from rezoned)
        and not ({{ wrapped_is_rolling('stored.period') }} and (select anchor_moved from moved))

),

-- Periods where a stored top 5 entry ranks lower now (or has no stream left): ranked again from all events.
demoted as (

    select distinct stored.user_id, stored.period, stored.kind
    from stored
    left join items as now
        on now.user_id = stored.user_id
        and now.period = stored.period
        and now.kind = stored.kind
        and now.item_key = stored.item_key
    where stored.is_changed
        and (
            now.user_id is null
            or now.streams < stored.streams
            or (now.streams = stored.streams and now.minutes_listened < stored.minutes_listened)
            or (
                now.streams = stored.streams
                and now.minutes_listened = stored.minutes_listened
                and stored.kind = 'track'
                and now.song_name > stored.song_name
            )
        )

),

demoted_events as (

    select events.*
    from {{ ref('listener_events') }} as events
    where events.user_id in (select user_id from demoted)

),

candidates as (

    select i.user_id, i.period, i.kind, i.artist_name, i.song_id, i.song_name, i.streams, i.minutes_listened
    from items as i
    where not exists (
        select 1 from demoted as d where d.user_id = i.user_id and d.period = i.period and d.kind = i.kind
    )
    union all
    select r.user_id, r.period, r.kind, r.artist_name, r.song_id, r.song_name, r.streams, r.minutes_listened
    from ({{ wrapped_items('demoted_events') }}) as r
    where exists (
        select 1 from demoted as d where d.user_id = r.user_id and d.period = r.period and d.kind = r.kind
    )
    union all
    select s.user_id, s.period, s.kind, s.artist_name, s.song_id, s.song_name, s.streams, s.minutes_listened
    from stored as s
    where not s.is_changed
        and not exists (
            select 1 from demoted as d where d.user_id = s.user_id and d.period = s.period and d.kind = s.kind
        )

),

{% else %}

candidates as (

    {{ wrapped_items(ref('listener_events')) }}

),

{% endif %}

ranked as (

    select
        user_id,
        period,
        kind,
        row_number() over (
            partition by user_id, period, kind
            order by
                streams desc,
                minutes_listened desc,
                case when kind = 'artist' then artist_name else song_name end,
                song_id
        ) as rank,
        artist_name,
        song_id,
        song_name,
        streams,
        minutes_listened
    from candidates
    where streams > 0

)

select user_id, period, kind, rank, artist_name, song_id, song_name, streams, minutes_listened
from ranked
where rank <= 5
