{{ config(materialized='view') }}

{#
    Every event once for each Wrapped period it falls in, by its listener-local date (listener_events.local_date).
    "Last" is relative to the data, not to each listener: the anchor is the latest local date of any event
    in Gold, so a listener who stopped listening has an empty last 4 weeks.
      all_time       every event; period_start_date/period_end_date: the earliest local date in Gold and the anchor
      year_YYYY      the calendar year YYYY: YYYY-01-01 to YYYY-12-31
      last_6_months  the 182 days (26 weeks) up to and including the anchor
      last_4_weeks   the 28 days up to and including the anchor
#}
with bounds as (

    select min(local_date) as first_date, max(local_date) as anchor_date
    from {{ ref('listener_events') }}

),

events as (

    select
        e.event_id,
        e.user_id,
        e.song_id,
        e.song_name,
        e.artist_name,
        e.event_type,
        e.duration_ms,
        e.source,
        e.event_timestamp,
        e.local_date,
        e.local_hour,
        cast(extract(year from e.local_date) as integer) as local_year,
        b.first_date,
        b.anchor_date
    from {{ ref('listener_events') }} as e
    cross join bounds as b

),

periods as (

    select 'all_time' as period, first_date as period_start_date, anchor_date as period_end_date, events.*
    from events
    union all
    select
        'year_' || cast(local_year as varchar),
        cast(cast(local_year as varchar) || '-01-01' as date),
        cast(cast(local_year as varchar) || '-12-31' as date),
        events.*
    from events
    union all
    select 'last_6_months', {{ add_days('anchor_date', -181) }}, anchor_date, events.*
    from events
    where local_date >= {{ add_days('anchor_date', -181) }}
    union all
    select 'last_4_weeks', {{ add_days('anchor_date', -27) }}, anchor_date, events.*
    from events
    where local_date >= {{ add_days('anchor_date', -27) }}

)

select
    period,
    period_start_date,
    period_end_date,
    event_id,
    user_id,
    song_id,
    song_name,
    artist_name,
    event_type,
    duration_ms,
    source,
    event_timestamp,
    local_date,
    local_hour
from periods
