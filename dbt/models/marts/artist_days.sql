{#
    One row per UTC day and artist with at least one event: streams (macro is_stream), plays, skips, minutes
    listened, listeners (distinct that day), and the two counts of the skip rate (macro skip_rate:
    reported_skips over reported_plays_and_skips, of sources that report skips), so that any range of days
    can be ranked or rated by summing rows. The daily charts (top_artists_daily) and the all-time artist marts
    (artist_skip_rates) are read from it.
    Incremental: the (day, artist) rows of the changed Silver rows (macro changed_events) are counted anew from
    all of that day's events of the artist, and replaced by key; a day's other artists stay as they are.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['event_date', 'artist_name'],
        on_schema_change='fail'
    )
}}

select
    silver.event_date,
    silver.artist_name,
    {{ day_counts() }}
from {{ ref('stg_spotify__events') }} as silver
{% if is_incremental() %}
    {{ changed_day_keys('silver', 'artist_name') }}
{% endif %}
group by silver.event_date, silver.artist_name
