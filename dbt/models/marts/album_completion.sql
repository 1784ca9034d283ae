{#
    Album completion: for each listener and album (track_catalog) they played a track of, the share of the
    album's tracks they played through: a play of at least 90 % of the track's length (macro is_full_play; the
    length from the catalog, so a play whose source knows no length is judged by another source's). A track
    without a known length, or played only with unknown milliseconds listened, is never played through.

    Incremental: rebuilt are the (listener, album) rows of the changed Silver plays (macro changed_events),
    and every stored row of an album whose catalog may have changed (macro listener_changed_albums: a track
    first seen, or a longer track length); a row is replaced whole by its key, counted from its listener's
    plays of the album.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['user_id', 'artist_name', 'album_name'],
        on_schema_change='fail'
    )
}}

with
{% if is_incremental() %}
{{ listener_changed_albums() }},

affected as (

    select user_id, artist_name, album_name
    from {{ changed_events() }} as changed
    where event_type = 'play' and album_name is not null
    union
    -- The album's other listeners: their plays are all among the rows the last complete build had, so it
    -- stored their rows (a listener whose plays are new is in the branch above).
    select stored.user_id, stored.artist_name, stored.album_name
    from {{ this }} as stored
    where (stored.artist_name, stored.album_name) in (select artist_name, album_name from changed_albums)

),
{% endif %}

listener_tracks as (

    -- One row per listener and track played: its longest play. A track is played through when its longest play
    -- is (macro is_full_play against the catalog's length), so the counts below need no count(distinct).
    {% if is_incremental() %}
    -- The affected rows' plays are picked inside the aggregates, not by a filter on Silver (the join leaves out a
    -- NULL album), and the stored rows above are picked by IN rather than a join: so the warehouse (DuckDB)
    -- estimates Silver as the larger side and hashes the few affected keys, streaming Silver past them, rather
    -- than hashing all of Silver's plays.
    select
        silver.user_id,
        silver.artist_name,
        silver.album_name,
        silver.song_id,
        max(case when silver.event_type = 'play' then silver.duration_ms end) as longest_ms
    from {{ ref('stg_spotify__events') }} as silver
    inner join affected
        on affected.user_id = silver.user_id
        and affected.artist_name = silver.artist_name
        and affected.album_name = silver.album_name
    group by silver.user_id, silver.artist_name, silver.album_name, silver.song_id
    having count(case when silver.event_type = 'play' then 1 end) > 0
    {% else %}
    select silver.user_id, silver.artist_name, silver.album_name, silver.song_id, max(silver.duration_ms) as longest_ms
    from {{ ref('stg_spotify__events') }} as silver
    where silver.event_type = 'play' and silver.album_name is not null
    group by silver.user_id, silver.artist_name, silver.album_name, silver.song_id
    {% endif %}

),

album_tracks as (

    select artist_name, album_name, count(*) as album_tracks
    from {{ ref('track_catalog') }}
    group by artist_name, album_name

),

per_listener as (

    select
        listener_tracks.user_id,
        listener_tracks.artist_name,
        listener_tracks.album_name,
        count(*) as tracks_played,
        count(case when {{ is_full_play('listener_tracks.longest_ms', 'catalog.track_length_ms') }} then 1 end)
            as tracks_completed
    from listener_tracks
    inner join {{ ref('track_catalog') }} as catalog
        on catalog.artist_name = listener_tracks.artist_name
        and catalog.album_name = listener_tracks.album_name
        and catalog.song_id = listener_tracks.song_id
    group by listener_tracks.user_id, listener_tracks.artist_name, listener_tracks.album_name

)

select
    per_listener.user_id,
    per_listener.artist_name,
    per_listener.album_name,
    album_tracks.album_tracks,
    per_listener.tracks_played,
    per_listener.tracks_completed,
    cast(per_listener.tracks_completed as double precision) / album_tracks.album_tracks as completion_rate
from per_listener
inner join album_tracks
    on album_tracks.artist_name = per_listener.artist_name
    and album_tracks.album_name = per_listener.album_name
