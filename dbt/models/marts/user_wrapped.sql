{#
    Each listener's Wrapped for each period (macro wrapped_periods: all_time, year_YYYY, last_6_months,
    last_4_weeks) with at least one play in it. distinct songs and artists count played ones; the top artist
    and track are rank 1 of user_wrapped_top (by streams), NULL when the period has plays but no stream;
    first_event_at and last_event_at are of all the period's events.
    One pass over the events by listener and local year, the rolling periods as conditional aggregates, instead
    of one pass per period (distinct songs and artists: one more, by listener, local year and song or artist).
#}
with bounds as (

    select first_date, anchor_date from {{ wrapped_bounds() }} as b

),

-- Per listener and local year: plays, streams, milliseconds played, the first and last event; overall and
-- within the rolling periods (suffixes _6m and _4w).
years as (

    select
        e.user_id,
        cast(extract(year from e.local_date) as integer) as local_year,
        {%- for suffix, within in [
            ['', 'true'],
            ['_6m', 'e.local_date >= ' ~ add_days('b.anchor_date', -181)],
            ['_4w', 'e.local_date >= ' ~ add_days('b.anchor_date', -27)]
        ] %}
        count(case when {{ within }} and e.event_type = 'play' then 1 end) as plays{{ suffix }},
        count(case when {{ within }} and {{ is_stream('e.event_type', 'e.duration_ms', 'e.source') }} then 1 end)
            as streams{{ suffix }},
        sum(case when {{ within }} and e.event_type = 'play' then e.duration_ms end) as play_ms{{ suffix }},
        min(case when {{ within }} then e.event_timestamp end) as first_event_at{{ suffix }},
        max(case when {{ within }} then e.event_timestamp end) as last_event_at{{ suffix }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('listener_events') }} as e
    cross join bounds as b
    group by e.user_id, cast(extract(year from e.local_date) as integer)

),

-- Per listener, local year and played song or artist: its latest play date (what the rolling periods ask).
played_songs as (

    select user_id, cast(extract(year from local_date) as integer) as local_year, song_id, max(local_date) as last_play
    from {{ ref('listener_events') }}
    where event_type = 'play'
    group by user_id, cast(extract(year from local_date) as integer), song_id

),

played_artists as (

    select
        user_id,
        cast(extract(year from local_date) as integer) as local_year,
        artist_name,
        max(local_date) as last_play
    from {{ ref('listener_events') }}
    where event_type = 'play'
    group by user_id, cast(extract(year from local_date) as integer), artist_name

),

{%- for name, played, item in [['distinct_songs', 'played_songs', 'song_id'], ['distinct_artists', 'played_artists', 'artist_name']] %}
{{ name }} as (

    select user_id, 'all_time' as period, count(distinct {{ item }}) as played
    from {{ played }}
    group by user_id
    union all
    select user_id, 'year_' || cast(local_year as varchar), count(*)
    from {{ played }}
    group by user_id, local_year
    union all
    select p.user_id, 'last_6_months', count(distinct p.{{ item }})
    from {{ played }} as p
    cross join bounds as b
    where p.last_play >= {{ add_days('b.anchor_date', -181) }}
    group by p.user_id
    union all
    select p.user_id, 'last_4_weeks', count(distinct p.{{ item }})
    from {{ played }} as p
    cross join bounds as b
    where p.last_play >= {{ add_days('b.anchor_date', -27) }}
    group by p.user_id

),
{% endfor %}

per_period as (

    {%- for period, suffix in [['all_time', ''], ['year', ''], ['last_6_months', '_6m'], ['last_4_weeks', '_4w']] %}
    select
        user_id,
        {{ "'year_' || cast(local_year as varchar)" if period == 'year' else "'" ~ period ~ "'" }} as period,
        cast(sum(plays{{ suffix }}) as bigint) as plays,
        cast(sum(streams{{ suffix }}) as bigint) as streams,
        cast(coalesce(sum(play_ms{{ suffix }}), 0) as double precision) / 60000.0 as minutes_listened,
        min(first_event_at{{ suffix }}) as first_event_at,
        max(last_event_at{{ suffix }}) as last_event_at
    from years
    group by user_id{{ ', local_year' if period == 'year' else '' }}
    having sum(plays{{ suffix }}) > 0
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

)

select
    per_period.user_id,
    per_period.period,
    case
        when per_period.period = 'all_time' then bounds.first_date
        when per_period.period = 'last_6_months' then {{ add_days('bounds.anchor_date', -181) }}
        when per_period.period = 'last_4_weeks' then {{ add_days('bounds.anchor_date', -27) }}
        else cast(substr(per_period.period, 6) || '-01-01' as date)
    end as period_start_date,
    case
        when per_period.period like 'year_%' then cast(substr(per_period.period, 6) || '-12-31' as date)
        else bounds.anchor_date
    end as period_end_date,
    per_period.plays,
    per_period.streams,
    per_period.minutes_listened,
    distinct_songs.played as distinct_songs,
    distinct_artists.played as distinct_artists,
    top_artist.artist_name as top_artist_name,
    top_track.song_id as top_song_id,
    top_track.song_name as top_song_name,
    per_period.first_event_at,
    per_period.last_event_at
from per_period
cross join bounds
inner join distinct_songs
    on distinct_songs.user_id = per_period.user_id and distinct_songs.period = per_period.period
inner join distinct_artists
    on distinct_artists.user_id = per_period.user_id and distinct_artists.period = per_period.period
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
