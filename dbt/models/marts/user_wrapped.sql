{#
    Each listener's Wrapped for each period (wrapped_events: all_time, year_YYYY, last_6_months,
    last_4_weeks) with at least one play in it. distinct songs and artists count played ones; the top artist
    and track are rank 1 of user_wrapped_top (by streams), NULL when the period has plays but no stream.
#}
with per_period as (

    select
        user_id,
        period,
        period_start_date,
        period_end_date,
        count(case when event_type = 'play' then 1 end) as plays,
        count(case when {{ is_stream() }} then 1 end) as streams,
        {{ minutes_listened() }} as minutes_listened,
        count(distinct case when event_type = 'play' then song_id end) as distinct_songs,
        count(distinct case when event_type = 'play' then artist_name end) as distinct_artists,
        min(event_timestamp) as first_event_at,
        max(event_timestamp) as last_event_at
    from {{ ref('wrapped_events') }}
    group by user_id, period, period_start_date, period_end_date

)

select
    per_period.user_id,
    per_period.period,
    per_period.period_start_date,
    per_period.period_end_date,
    per_period.plays,
    per_period.streams,
    per_period.minutes_listened,
    per_period.distinct_songs,
    per_period.distinct_artists,
    top_artist.artist_name as top_artist_name,
    top_track.song_id as top_song_id,
    top_track.song_name as top_song_name,
    per_period.first_event_at,
    per_period.last_event_at
from per_period
left join {{ ref('user_wrapped_top') }} as top_artist
    on top_artist.user_id = per_period.user_id
    and top_artist.period = per_period.period
    and top_artist.kind = 'artist'
    and top_artist.rank = 1
left join {{ ref('user_wrapped_top') }} as top_track
    on top_track.user_id = per_period.user_id
    and top_track.period = per_period.period
    and top_track.kind = 'track'
    and top_track.rank = 1
where per_period.plays > 0
