{# skip_rate: skips over the plays of sources that report skips (NULL without such plays). #}
with per_song as (

    select
        song_id,
        min(song_name) as song_name,
        min(artist_name) as artist_name,
        count(case when event_type = 'play' then 1 end) as plays,
        count(case when event_type = 'skip' then 1 end) as skips,
        -- Plays of sources that report skips: the Web API does not say whether a play was skipped.
        count(case when event_type = 'play' and {{ reports_skips() }} then 1 end) as skip_reported_plays
    from {{ ref('stg_spotify__events') }}
    group by song_id

)

select
    song_id,
    song_name,
    artist_name,
    plays,
    skips,
    cast(skips as double precision) / nullif(skip_reported_plays, 0) as skip_rate
from per_song
