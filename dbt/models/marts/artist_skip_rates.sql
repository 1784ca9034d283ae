{#
    skip_rate: skips over plays and skips of sources that report skips (macro skip_rate), within [0, 1]; summed
    from the artist's days in artist_days (macro summed_skip_counts). Incremental: the artists of the changed
    Silver rows are summed anew.
#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='artist_name', on_schema_change='fail') }}
-- depends_on: {{ ref('stg_spotify__events') }} (read by changed_events() in incremental runs)

select
    artist_name,
    {{ summed_skip_counts() }}
from {{ ref('artist_days') }}
{% if is_incremental() %}
where artist_name in (select artist_name from {{ changed_events() }} as changed)
{% endif %}
group by artist_name
