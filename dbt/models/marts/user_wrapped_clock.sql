{# Each listener's listening clock of each Wrapped period: plays by listener-local hour of day (0-23). #}
select
    user_id,
    period,
    local_hour,
    count(*) as plays,
    count(case when {{ is_stream() }} then 1 end) as streams,
    {{ minutes_listened() }} as minutes_listened
from {{ ref('wrapped_events') }}
where event_type = 'play'
group by user_id, period, local_hour
