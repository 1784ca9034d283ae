{#
    One row per UTC day and song with at least one event: streams (macro is_stream), plays, skips, minutes
    listened, listeners (distinct that day), and the two counts of the skip rate (macro skip_rate:
    reported_skips over reported_plays_and_skips, of sources that report skips), so that any range of days
    can be ranked or rated by summing rows. The daily charts (top_tracks_daily) and the all-time song marts
    (song_skip_rates) are read from it.
    Incremental: the (day, song) rows of the changed Silver rows (macro changed_events) are counted anew from
    all of that day's events of the song, and replaced by key; a day's other songs stay as they are (an event
    never moves to another day or song, so no other row can change).
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['event_date', 'song_id'],
        on_schema_change='fail'
    )
}}

select
    silver.event_date,
    silver.song_id,
    min(silver.song_name) as song_name,
    min(silver.artist_name) as artist_name,
    {{ day_counts() }}
from {{ ref('stg_spotify__events') }} as silver
{% if is_incremental() %}
    {{ changed_day_keys('silver', 'song_id') }}
{% endif %}
group by silver.event_date, silver.song_id
