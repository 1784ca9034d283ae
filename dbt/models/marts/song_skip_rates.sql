{# skip_rate: skips over plays and skips of sources that report skips (macro skip_rate), within [0, 1]. #}
select
    song_id,
    min(song_name) as song_name,
    min(artist_name) as artist_name,
    count(case when event_type = 'play' then 1 end) as plays,
    count(case when {{ is_stream() }} then 1 end) as streams,
    count(case when event_type = 'skip' then 1 end) as skips,
    {{ skip_rate() }} as skip_rate
from {{ ref('stg_spotify__events') }}
group by song_id
