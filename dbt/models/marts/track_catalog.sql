{#
    The track catalog: every (artist, album, song) seen in Silver with a known album. An album's tracks are the
    distinct songs any listener played or skipped on it: the warehouse holds no other catalog (the simulator's
    is not loaded, the Web API's album tracks are not polled), so an album's track list is the part of it
    seen so far. track_length_ms: the longest known length of the song (NULL when no source knows it).
#}
select
    artist_name,
    album_name,
    song_id,
    min(song_name) as song_name,
    max(track_length_ms) as track_length_ms
from {{ ref('stg_spotify__events') }}
where album_name is not null
group by artist_name, album_name, song_id
