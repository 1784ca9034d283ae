{# Within each day the device and country shares of events add up to 1. #}
with shares as (

    select 'device_mix' as mix, event_date, sum(share_of_events) as total_share
    from {{ ref('device_mix') }}
    group by event_date
    union all
    select 'country_mix', event_date, sum(share_of_events)
    from {{ ref('country_mix') }}
    group by event_date

)

select mix, event_date, total_share
from shares
where abs(total_share - 1.0) > 0.000001
