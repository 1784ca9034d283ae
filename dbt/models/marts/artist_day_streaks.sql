{#
    Day streaks: maximal runs of at least 2 consecutive listener-local days (dim_listeners.time_zone) on each of
    which the listener streamed the artist (at least one stream, macro is_stream). Gaps and islands over days: in
    a run, the day's number minus its rank among the listener's days with the artist is constant.
#}
with artist_days as (

    select distinct user_id, artist_name, local_date
    from {{ ref('listener_events') }}
    where {{ is_stream() }}

),

numbered as (

    select
        user_id,
        artist_name,
        local_date,
        {{ day_number('local_date') }} - row_number() over (
            partition by user_id, artist_name order by local_date
        ) as island
    from artist_days

),

runs as (

    select
        user_id,
        artist_name,
        min(local_date) as streak_start_date,
        max(local_date) as streak_end_date,
        count(*) as streak_days
    from numbered
    group by user_id, artist_name, island

)

select user_id, artist_name, streak_start_date, streak_end_date, streak_days
from runs
where streak_days >= 2
