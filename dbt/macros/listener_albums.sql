{#
    listener_changed_albums(): a common table expression `changed_albums` (a WITH list's item, to splice into
    one): the albums (artist_name, album_name) whose track_catalog entries may differ from the last complete
    Gold build's, for incremental album_completion. An album changes when a changed Silver row (macro
    changed_events) brings a track not seen in the rows loaded before (its album gains a track), or a longer
    track length than those rows knew (the catalog keeps the longest). Both come to one test on the tracks of
    the changed rows: a track is unchanged exactly when a row loaded before (not changed) has the length the
    catalog holds now (its longest, or no length when no row knows one). That is a NOT EXISTS, which stops at
    the first such row, rather than counting all rows of every changed track; a missing length compares as
    -1 (below any length), so that the test is an equality the warehouse can hash. A changed row that
    replaced an older copy of its event counts as new here: the album is then rebuilt without need, never
    missed.
#}
{% macro listener_changed_albums() -%}
    changed_tracks as (

        select distinct changed.artist_name, changed.album_name, changed.song_id, catalog.track_length_ms
        from {{ changed_events() }} as changed
        inner join {{ ref('track_catalog') }} as catalog
            on catalog.artist_name = changed.artist_name
            and catalog.album_name = changed.album_name
            and catalog.song_id = changed.song_id

    ),

    changed_albums as (

        select distinct artist_name, album_name
        from changed_tracks
        where not exists (
            select 1
            from {{ ref('stg_spotify__events') }} as silver
            where silver.artist_name = changed_tracks.artist_name
                and silver.album_name = changed_tracks.album_name
                and silver.song_id = changed_tracks.song_id
                and not {{ is_changed('silver') }}
                and coalesce(silver.track_length_ms, -1) = coalesce(changed_tracks.track_length_ms, -1)
        )

    )
{%- endmacro %}
