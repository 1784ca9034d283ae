{#
    Each listener's top 5 artists and top 5 tracks of each Wrapped period (wrapped_events), ranked by streams
    (macro is_stream) descending, then minutes listened descending, then name (tracks: song_name, then song_id);
    only artists and tracks with at least one stream in the period are ranked. kind: 'artist' or 'track'.
#}
with artists as (

    select
        user_id,
        period,
        artist_name,
        count(case when {{ is_stream() }} then 1 end) as streams,
        {{ minutes_listened() }} as minutes_listened
    from {{ ref('wrapped_events') }}
    group by user_id, period, artist_name

),

tracks as (

    select
        user_id,
        period,
        song_id,
        min(song_name) as song_name,
        min(artist_name) as artist_name,
        count(case when {{ is_stream() }} then 1 end) as streams,
        {{ minutes_listened() }} as minutes_listened
    from {{ ref('wrapped_events') }}
    group by user_id, period, song_id

),

ranked as (

    select
        user_id,
        period,
        'artist' as kind,
        row_number() over (
            partition by user_id, period order by streams desc, minutes_listened desc, artist_name
        ) as rank,
        artist_name,
        cast(null as varchar) as song_id,
        cast(null as varchar) as song_name,
        streams,
        minutes_listened
    from artists
    where streams > 0
    union all
    select
        user_id,
        period,
        'track' as kind,
        row_number() over (
            partition by user_id, period order by streams desc, minutes_listened desc, song_name, song_id
        ) as rank,
        artist_name,
        song_id,
        song_name,
        streams,
        minutes_listened
    from tracks
    where streams > 0

)

select user_id, period, kind, rank, artist_name, song_id, song_name, streams, minutes_listened
from ranked
where rank <= 5
