{#
    The Wrapped periods, in one place (model wrapped_events and the Wrapped marts use them).
    Periods by listener-local date (listener_events.local_date); "last" is relative to the data: the anchor is the
    latest local date of any event in Gold.
      all_time       every event; period_start_date/period_end_date: the earliest local date in Gold and the anchor
      year_YYYY      the calendar year YYYY: YYYY-01-01 to YYYY-12-31
      last_6_months  the 182 days (26 weeks) up to and including the anchor
      last_4_weeks   the 28 days up to and including the anchor
#}

{# The earliest local date (first_date) and the anchor (anchor_date) of all of Gold, as a one-row subquery. #}
{% macro wrapped_bounds() -%}
    (select min(local_date) as first_date, max(local_date) as anchor_date from {{ ref('listener_events') }})
{%- endmacro %}

{#
    Every row of `events` (a relation or CTE name with listener_events' columns) once for each period it falls in:
    period, period_start_date, period_end_date, then the event's columns. The bounds are those of all of Gold,
    whatever subset `events` is.
#}
{% macro wrapped_periods(events) -%}
    select 'all_time' as period, b.first_date as period_start_date, b.anchor_date as period_end_date, e.*
    from {{ events }} as e
    cross join {{ wrapped_bounds() }} as b
    union all
    select
        'year_' || cast(cast(extract(year from e.local_date) as integer) as varchar),
        cast(cast(cast(extract(year from e.local_date) as integer) as varchar) || '-01-01' as date),
        cast(cast(cast(extract(year from e.local_date) as integer) as varchar) || '-12-31' as date),
        e.*
    from {{ events }} as e
    union all
    select 'last_6_months', {{ add_days('b.anchor_date', -181) }}, b.anchor_date, e.*
    from {{ events }} as e
    cross join {{ wrapped_bounds() }} as b
    where e.local_date >= {{ add_days('b.anchor_date', -181) }}
    union all
    select 'last_4_weeks', {{ add_days('b.anchor_date', -27) }}, b.anchor_date, e.*
    from {{ events }} as e
    cross join {{ wrapped_bounds() }} as b
    where e.local_date >= {{ add_days('b.anchor_date', -27) }}
{%- endmacro %}

{# True for the periods that move with the anchor. #}
{% macro wrapped_is_rolling(period_col='period') -%}
    ({{ period_col }} in ('last_6_months', 'last_4_weeks'))
{%- endmacro %}

{#
    Per listener, period and artist (kind 'artist') or song (kind 'track': artist_name and song_name the least of
    its events'): streams and minutes listened of the rows of `events` (as in macro wrapped_periods).
#}
{% macro wrapped_items(events) -%}
    select
        user_id,
        period,
        'artist' as kind,
        artist_name,
        cast(null as varchar) as song_id,
        cast(null as varchar) as song_name,
        count(case when {{ is_stream() }} then 1 end) as streams,
        {{ minutes_listened() }} as minutes_listened
    from ({{ wrapped_periods(events) }}) as periods
    group by user_id, period, artist_name
    union all
    select
        user_id,
        period,
        'track' as kind,
        min(artist_name) as artist_name,
        song_id,
        min(song_name) as song_name,
        count(case when {{ is_stream() }} then 1 end) as streams,
        {{ minutes_listened() }} as minutes_listened
    from ({{ wrapped_periods(events) }}) as periods
    group by user_id, period, song_id
{%- endmacro %}
