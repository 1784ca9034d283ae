{#
    One row per UTC day and artist with at least one event: streams (macro is_stream), plays, skips, minutes
    listened, listeners (distinct that day), and the two counts of the skip rate (macro skip_rate:
    reported_skips over reported_plays_and_skips, of sources that report skips), so that any range of days
    can be ranked or rated by summing rows. The daily charts (top_artists_daily) and the all-time artist marts
    (artist_skip_rates) are read from it.
    Incremental: the days of the changed Silver rows are rebuilt whole (macro changed_events).
#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='event_date', on_schema_change='fail') }}

select
    event_date,
    artist_name,
    {{ day_counts() }}
from {{ ref('stg_spotify__events') }}
{% if is_incremental() %}
where event_date in (select event_date from {{ changed_events() }} as changed)
{% endif %}
group by event_date, artist_name
