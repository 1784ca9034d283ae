{# The per-user "Wrapped": users with at least one play; distinct songs and artists count played ones. #}
with per_user as (

    select
        user_id,
        count(case when event_type = 'play' then 1 end) as plays,
        {{ minutes_listened() }} as minutes_listened,
        count(distinct case when event_type = 'play' then song_id end) as distinct_songs,
        count(distinct case when event_type = 'play' then artist_name end) as distinct_artists,
        min(event_timestamp) as first_event_at,
        max(event_timestamp) as last_event_at
    from {{ ref('stg_spotify__events') }}
    group by user_id

)

select
    per_user.user_id,
    per_user.plays,
    per_user.minutes_listened,
    per_user.distinct_songs,
    per_user.distinct_artists,
    top_artist.artist_name as top_artist_name,
    top_track.song_id as top_song_id,
    top_track.song_name as top_song_name,
    per_user.first_event_at,
    per_user.last_event_at
from per_user
left join {{ ref('user_top_artists') }} as top_artist
    on top_artist.user_id = per_user.user_id and top_artist.rank = 1
left join {{ ref('user_top_tracks') }} as top_track
    on top_track.user_id = per_user.user_id and top_track.rank = 1
where per_user.plays > 0
