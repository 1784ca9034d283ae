{#
    The 100 most streamed songs of each day (track_days): ranked by streams, then minutes listened, then listeners
    (descending), then song_id; songs without a stream that day are not ranked.
    Incremental: the days of the changed Silver rows are ranked anew (macro changed_events).
#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='event_date', on_schema_change='fail') }}
-- depends_on: {{ ref('stg_spotify__events') }} (read by changed_events() in incremental runs)

with ranked as (

    select
        *,
        row_number() over (
            partition by event_date
            order by streams desc, minutes_listened desc, listeners desc, song_id
        ) as rank
    from {{ ref('track_days') }}
    where streams > 0
    {% if is_incremental() %}
        and event_date in (select event_date from {{ changed_events() }} as changed)
    {% endif %}

)

select event_date, rank, song_id, song_name, artist_name, streams, plays, minutes_listened, listeners
from ranked
where rank <= 100
