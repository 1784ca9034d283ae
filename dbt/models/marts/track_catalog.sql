{#
    The track catalog: every (artist, album, song) seen in Silver with a known album. An album's tracks are the
    distinct songs any listener played or skipped on it: the warehouse holds no other catalog (the simulator's
    is not loaded, the Web API's album tracks are not polled), so an album's track list is the part of it
    seen so far. track_length_ms: the longest known length of the song (NULL when no source knows it).

    Incremental: the tracks of the changed Silver rows (macro changed_events), replaced by key; a track once
    seen stays. A track's song_name (the least) and track_length_ms (the longest) are a minimum and a maximum
    over its rows, and the rows a changed track had before the cut (not changed) were all in the stored row,
    which took its values from them or from rows since replaced. So when the changed rows' own minimum and
    maximum are at least as good as the stored ones (a smaller or equal name, a longer or equal length),
    they are the track's values, read from the changed rows alone. A track whose stored value is better than
    anything the changed rows bring is counted anew from all its rows: that value may have come from a copy
    that a better one has since replaced. A track without a stored row had no rows before the cut.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['artist_name', 'album_name', 'song_id'],
        on_schema_change='fail'
    )
}}

{% if is_incremental() %}
with changed_tracks as (

    select
        artist_name,
        album_name,
        song_id,
        min(song_name) as song_name,
        max(track_length_ms) as track_length_ms
    from {{ changed_events() }} as changed
    where album_name is not null
    group by artist_name, album_name, song_id

),

compared as (

    select
        changed_tracks.*,
        -- The stored value is better: a name where the changed rows have none or a greater one, a length where
        -- they have none or a shorter one (min and max leave NULLs out).
        coalesce(
            stored.song_name < changed_tracks.song_name
            or (stored.song_name is not null and changed_tracks.song_name is null)
            or stored.track_length_ms > changed_tracks.track_length_ms
            or (stored.track_length_ms is not null and changed_tracks.track_length_ms is null),
            false
        ) as recount
    from changed_tracks
    left join {{ this }} as stored
        on stored.artist_name = changed_tracks.artist_name
        and stored.album_name = changed_tracks.album_name
        and stored.song_id = changed_tracks.song_id

)

select artist_name, album_name, song_id, song_name, track_length_ms
from compared
where not recount

union all

{% endif %}
select
    silver.artist_name,
    silver.album_name,
    silver.song_id,
    min(silver.song_name) as song_name,
    max(silver.track_length_ms) as track_length_ms
from {{ ref('stg_spotify__events') }} as silver
{% if is_incremental() %}
    inner join compared
        on compared.artist_name = silver.artist_name
        and compared.album_name = silver.album_name
        and compared.song_id = silver.song_id
        and compared.recount
{% endif %}
where silver.album_name is not null
group by silver.artist_name, silver.album_name, silver.song_id
