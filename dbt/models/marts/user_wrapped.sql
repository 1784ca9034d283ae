{#
    Each listener's Wrapped for each period (macro wrapped_periods: all_time, year_YYYY, last_6_months,
    last_4_weeks) with at least one play in it. distinct songs and artists count played ones; the top artist
    and track are rank 1 of user_wrapped_top (by streams), NULL when the period has plays but no stream;
    first_event_at and last_event_at are of all the period's events.
    One pass over the events by listener and local year, the rolling periods as conditional aggregates, instead
    of one pass per period (distinct songs and artists: one more each, by listener, local year and song or
    artist, then counted by year and, for the other periods, by the bucket of the item's latest play).

    Incremental: a listener's rows depend on their own events, the bounds (the earliest local date and the
    anchor of all of Gold) and their own rows of user_wrapped_top, which rewrites only listeners with changed
    rows unless the anchor may have moved (and then ranks the others' unchanged events as before). So a run rebuilds the listeners with changed Silver rows (macro
    changed_events; a listener whose time zone moved has some), and every listener when the bounds differ from
    the ones the table holds (its all_time rows carry them).
#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='user_id', on_schema_change='fail') }}
-- depends_on: {{ ref('stg_spotify__events') }}
-- depends_on: {{ ref('dim_listeners') }}

with bounds as (

    select first_date, anchor_date from {{ wrapped_bounds() }} as b

),

{% if is_incremental() %}
-- The bounds the stored rows were built with (NULL for an empty table): they moved unless both are the same.
stored_bounds as (

    select min(period_start_date) as first_date, max(period_end_date) as anchor_date
    from {{ this }}
    where period = 'all_time'

),

listeners as (

    select distinct user_id from {{ changed_events() }} as changed
    union
    select listeners.user_id
    from {{ ref('dim_listeners') }} as listeners
    cross join bounds
    cross join stored_bounds
    where stored_bounds.first_date is null
        or stored_bounds.first_date <> bounds.first_date
        or stored_bounds.anchor_date <> bounds.anchor_date

),

events as (

    select e.* from {{ ref('listener_events') }} as e where e.user_id in (select user_id from listeners)

),
{% endif %}

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
    from {{ 'events' if is_incremental() else ref('listener_events') }} as e
    cross join bounds as b
    group by e.user_id, cast(extract(year from e.local_date) as integer)

),

-- Per listener, local year and played song or artist: the bucket of its latest play (macro
-- wrapped_scoped_events: 2 in the last 4 weeks, 1 in the rest of the last 6 months, else 0). A year's
-- distinct count is its rows; the other periods count the listener's items by their greatest bucket, in one
-- pass of conditional counts rather than a count(distinct) per period.
{%- for name, item in [['songs', 'song_id'], ['artists', 'artist_name']] %}
played_{{ name }} as (

    select s.user_id, s.local_year, s.{{ item }} as item, max(s.bucket) as bucket
    from ({{ wrapped_scoped_events('events' if is_incremental() else ref('listener_events')) }}) as s
    where s.event_type = 'play'
    group by s.user_id, s.local_year, s.{{ item }}

),

{{ name }}_by_year as (

    select user_id, local_year, count(*) as played
    from played_{{ name }}
    group by user_id, local_year

),

{{ name }}_overall as (

    select
        user_id,
        count(item) as all_time,
        count(case when bucket >= 1 then item end) as last_6_months,
        count(case when bucket = 2 then item end) as last_4_weeks
    from (
        select user_id, item, max(bucket) as bucket
        from played_{{ name }}
        group by user_id, item
    ) as items
    group by user_id

),
{% endfor %}

per_period as (

    {%- for period, suffix in [['all_time', ''], ['year', ''], ['last_6_months', '_6m'], ['last_4_weeks', '_4w']] %}
    select
        user_id,
        {{ "'year_' || cast(local_year as varchar)" if period == 'year' else "'" ~ period ~ "'" }} as period,
        {{ 'local_year' if period == 'year' else 'cast(null as integer)' }} as local_year,
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
    {%- for name in ['songs', 'artists'] %}
    case
        when per_period.period = 'all_time' then {{ name }}_overall.all_time
        when per_period.period = 'last_6_months' then {{ name }}_overall.last_6_months
        when per_period.period = 'last_4_weeks' then {{ name }}_overall.last_4_weeks
        else {{ name }}_by_year.played
    end as distinct_{{ name }},
    {%- endfor %}
    top_artist.artist_name as top_artist_name,
    top_track.song_id as top_song_id,
    top_track.song_name as top_song_name,
    per_period.first_event_at,
    per_period.last_event_at
from per_period
cross join bounds
{%- for name in ['songs', 'artists'] %}
inner join {{ name }}_overall on {{ name }}_overall.user_id = per_period.user_id
left join {{ name }}_by_year
    on {{ name }}_by_year.user_id = per_period.user_id and {{ name }}_by_year.local_year = per_period.local_year
{%- endfor %}
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
