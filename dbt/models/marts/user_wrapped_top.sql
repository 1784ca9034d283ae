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

listeners as (

    select user_id from changed
    union
    select user_id from rezoned
    union
    select stored.user_id from {{ this }} as stored where (select anchor_moved from moved)

),

-- The recounted items: complete (every event counted) for the changed items and the listeners whose time zone
-- may have changed; when the anchor may have moved, every item of the rolling periods too.
items as (

    select i.*
    from ({{ wrapped_items(ref('listener_events'), items='changed_items', whole='rezoned', moved='moved') }}) as i
    where i.complete or {{ wrapped_is_rolling('i.period') }}

),

stored as (

    select stored.*, c.user_id is not null as is_changed
    from (
        select s.*, case when s.kind = 'artist' then s.artist_name else s.song_id end as item_key
        from {{ this }} as s
        inner join listeners on listeners.user_id = s.user_id
        left join rezoned on rezoned.user_id = s.user_id
        cross join moved
        where rezoned.user_id is null and not ({{ wrapped_is_rolling('s.period') }} and moved.anchor_moved)
    ) as stored
    left join changed_items as c
        on c.user_id = stored.user_id and c.kind = stored.kind and c.item_key = stored.item_key

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

-- The recounted items and the stored top 5 entries no changed row is of; a demoted period from all its events.
candidates as (

    select kept.user_id, kept.period, kept.kind, kept.artist_name, kept.song_id, kept.song_name, kept.streams,
        kept.minutes_listened
    from (
        select i.user_id, i.period, i.kind, i.artist_name, i.song_id, i.song_name, i.streams, i.minutes_listened
        from items as i
        union all
        select s.user_id, s.period, s.kind, s.artist_name, s.song_id, s.song_name, s.streams, s.minutes_listened
        from stored as s
        where not s.is_changed
    ) as kept
    left join demoted as d on d.user_id = kept.user_id and d.period = kept.period and d.kind = kept.kind
    where d.user_id is null
    union all
    select r.user_id, r.period, r.kind, r.artist_name, r.song_id, r.song_name, r.streams, r.minutes_listened
    from ({{ wrapped_items(ref('listener_events'), whole='(select distinct user_id from demoted)') }}) as r
    inner join demoted as d on d.user_id = r.user_id and d.period = r.period and d.kind = r.kind

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
