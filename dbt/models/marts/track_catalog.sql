{#
    The track catalog: every (artist, album, song) seen in Silver with a known album. An album's tracks are the
    distinct songs any listener played or skipped on it: the warehouse holds no other catalog (the simulator's
    is not loaded, the Web API's album tracks are not polled), so an album's track list is the part of it
    seen so far. track_length_ms: the longest known length of the song (NULL when no source knows it).
    Incremental: the tracks of the changed Silver rows (macro changed_events) are recomputed from all their
    rows and replaced by key; a track once seen stays.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['artist_name', 'album_name', 'song_id'],
        on_schema_change='fail'
    )
}}

select
    silver.artist_name,
    silver.album_name,
    silver.song_id,
    min(silver.song_name) as song_name,
    max(silver.track_length_ms) as track_length_ms
from {{ ref('stg_spotify__events') }} as silver
{% if is_incremental() %}
    inner join (
        select distinct artist_name, album_name, song_id
        from {{ changed_events() }} as changed
        where album_name is not null
    ) as changed_tracks
        on changed_tracks.artist_name = silver.artist_name
        and changed_tracks.album_name = silver.album_name
        and changed_tracks.song_id = silver.song_id
{% endif %}
where silver.album_name is not null
group by silver.artist_name, silver.album_name, silver.song_id
