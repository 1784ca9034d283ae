{# Sessions partition each user's events: their event counts add up to Silver, per user. #}
with silver as (

    select user_id, count(*) as events
    from {{ ref('stg_spotify__events') }}
    group by user_id

),

sessions as (

    select user_id, sum(events) as events
    from {{ ref('listening_sessions') }}
    group by user_id

)

select silver.user_id, silver.events as silver_events, sessions.events as session_events
from silver
left join sessions on sessions.user_id = silver.user_id
where sessions.events is null or sessions.events <> silver.events
