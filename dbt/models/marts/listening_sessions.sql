{# A session is a maximal run of one user's events with no gap over 30 minutes. #}
with ordered as (

    select
        user_id,
        event_id,
        song_id,
        event_type,
        duration_ms,
        event_timestamp,
        lag(event_timestamp) over (
            partition by user_id order by event_timestamp, event_id
        ) as previous_event_at
    from {{ ref('stg_spotify__events') }}

),

numbered as (

    select
        *,
        sum(
            case
                when previous_event_at is null then 1
                when event_timestamp > previous_event_at + interval '30 minutes' then 1
                else 0
            end
        ) over (
            partition by user_id order by event_timestamp, event_id
            rows between unbounded preceding and current row
        ) as session_number
    from ordered

),

sessions as (

    select
        user_id,
        session_number,
        min(event_timestamp) as session_start,
        max(event_timestamp) as session_end,
        count(*) as events,
        count(case when event_type = 'play' then 1 end) as plays,
        count(case when event_type = 'skip' then 1 end) as skips,
        count(distinct song_id) as distinct_songs,
        {{ minutes_listened() }} as minutes_listened
    from numbered
    group by user_id, session_number

)

select
    user_id || '-' || cast({{ epoch_seconds('session_start') }} as varchar) as session_id,
    user_id,
    session_start,
    session_end,
    events,
    plays,
    skips,
    distinct_songs,
    minutes_listened
from sessions
