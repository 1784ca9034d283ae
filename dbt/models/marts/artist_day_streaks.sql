{#
    Day streaks: maximal runs of at least 2 consecutive listener-local days (dim_listeners.time_zone) on each of
    which the listener streamed the artist (at least one stream, macro is_stream). Gaps and islands over days: in
    a run, the day's number minus its rank among the listener's days with the artist is constant.

    Incremental (strategy listener_tail on user_id and streak_end_date): a listener with changed Silver rows
    has their days from the local day of recompute_from on changed at most (macro listener_tail_ctes, from
    listening_sessions), so the streaks that reach the day before it are found anew from that day's and the
    later days' streams in listener_events; a run that starts on that day continues the stored streak holding
    it, whose start and earlier days it keeps. The stored streaks that end on the latest end before that day are
    sent again, so that every later stored streak is replaced; a listener without one, or recomputed whole (a
    time zone that may have moved), sends a marker (NULL streak_end_date) that clears all of their streaks.
#}
{{ config(materialized='incremental', incremental_strategy='listener_tail', unique_key=['user_id', 'streak_end_date'], on_schema_change='fail') }}
-- depends_on: {{ ref('stg_spotify__events') }}
-- depends_on: {{ ref('dim_listeners') }}
-- depends_on: {{ ref('listening_sessions') }}

with
{% if is_incremental() %}
{{ listener_tail_ctes(ref('listening_sessions'), local_time=true) }},

recompute_days as (

    select
        recompute.user_id,
        recompute.recompute_from,
        {{ add_days('cast(' ~ to_local_time('recompute.recompute_from', 'listeners.time_zone') ~ ' as date)', -1) }}
            as from_day
    from recompute
    inner join {{ ref('dim_listeners') }} as listeners on listeners.user_id = recompute.user_id

),

kept as (

    {{ latest_stored_before('recompute_days', 'from_day', 'streak_end_date') }}

),
{% endif %}

artist_days as (

    select distinct e.user_id, e.artist_name, e.local_date
    from {{ ref('listener_events') }} as e
    {% if is_incremental() %}
    inner join recompute_days
        on recompute_days.user_id = e.user_id
        and (
            recompute_days.recompute_from is null
            -- A local day starts less than two days before any of its times in UTC, the day before less than three.
            or (
                e.event_timestamp >= recompute_days.recompute_from - interval '3 days'
                and e.local_date >= recompute_days.from_day
            )
        )
    {% endif %}
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
        max(local_date) as streak_end_date
    from numbered
    group by user_id, artist_name, island

),

{% if is_incremental() %}
-- The stored streak of each artist that holds from_day: a run found from that day on starts where it starts.
reaching as (

    select stored.user_id, stored.artist_name, stored.streak_start_date, recompute_days.from_day
    from {{ this }} as stored
    inner join recompute_days
        on recompute_days.user_id = stored.user_id
        and stored.streak_start_date <= recompute_days.from_day
        and stored.streak_end_date >= recompute_days.from_day

),
{% endif %}

streaks as (

    {% if is_incremental() %}
    select
        runs.user_id,
        runs.artist_name,
        coalesce(reaching.streak_start_date, runs.streak_start_date) as streak_start_date,
        runs.streak_end_date
    from runs
    left join reaching
        on reaching.user_id = runs.user_id
        and reaching.artist_name = runs.artist_name
        and reaching.from_day = runs.streak_start_date
    {% else %}
    select * from runs
    {% endif %}

)

select
    user_id,
    artist_name,
    streak_start_date,
    streak_end_date,
    {{ day_number('streak_end_date') }} - {{ day_number('streak_start_date') }} + 1 as streak_days
from streaks
where streak_end_date > streak_start_date
{% if is_incremental() %}
union all
select user_id, artist_name, streak_start_date, streak_end_date, streak_days
from kept
union all
select
    recompute_days.user_id,
    null as artist_name,
    null as streak_start_date,
    null as streak_end_date,
    null as streak_days
from recompute_days
left join kept on kept.user_id = recompute_days.user_id
where kept.user_id is null
{% endif %}
