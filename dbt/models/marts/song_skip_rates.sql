{#
    skip_rate: skips over plays and skips of sources that report skips (macro skip_rate), within [0, 1]; summed
    from the song's days in track_days (macro summed_skip_counts). Incremental: the songs of the changed Silver
    rows are summed anew.
#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='song_id', on_schema_change='fail') }}
-- depends_on: {{ ref('stg_spotify__events') }} (read by changed_events() in incremental runs)

select
    song_id,
    min(song_name) as song_name,
    min(artist_name) as artist_name,
    {{ summed_skip_counts() }}
from {{ ref('track_days') }}
{% if is_incremental() %}
where song_id in (select song_id from {{ changed_events() }} as changed)
{% endif %}
group by song_id
