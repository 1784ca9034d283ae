{#
    listener_changed_albums(): a common table expression `changed_albums` (a WITH list's item, to splice into
    one): the albums (artist_name, album_name) whose track_catalog entries may differ from the last complete
    Gold build's, for incremental album_completion. An album changes when a changed Silver row (macro
    changed_events) brings a track not seen in the rows loaded before (its album gains a track), or a longer
    track length than those rows knew (the catalog keeps the longest). A changed row that replaced an older
    copy of its event counts as new here: the album is then rebuilt without need, never missed.
#}
{% macro listener_changed_albums() -%}
    changed_tracks as (

        select distinct artist_name, album_name, song_id
        from {{ changed_events() }} as changed
        where album_name is not null

    ),

    track_loads as (

        select
            silver.artist_name,
            silver.album_name,
            silver.song_id,
            count(case when not {{ is_changed('silver') }} then 1 end) as earlier_rows,
            max(case when not {{ is_changed('silver') }} then silver.track_length_ms end)
                as earlier_length_ms,
            max(silver.track_length_ms) as track_length_ms
        from {{ ref('stg_spotify__events') }} as silver
        inner join changed_tracks
            on changed_tracks.artist_name = silver.artist_name
            and changed_tracks.album_name = silver.album_name
            and changed_tracks.song_id = silver.song_id
        group by silver.artist_name, silver.album_name, silver.song_id

    ),

    changed_albums as (

        select distinct artist_name, album_name
        from track_loads
        where earlier_rows = 0
            or (track_length_ms is not null and earlier_length_ms is null)
            or track_length_ms > earlier_length_ms

    )
{%- endmacro %}
