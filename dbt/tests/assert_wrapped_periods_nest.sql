{#
    Each listener's Wrapped periods nest: the last 4 weeks within the last 6 months within all time, and the
    calendar years add up to all time. Returns the listeners whose plays break that.
#}
with periods as (

    select
        user_id,
        sum(case when period = 'all_time' then plays else 0 end) as all_time,
        sum(case when period like 'year_%' then plays else 0 end) as years,
        sum(case when period = 'last_6_months' then plays else 0 end) as last_6_months,
        sum(case when period = 'last_4_weeks' then plays else 0 end) as last_4_weeks
    from {{ ref('user_wrapped') }}
    group by user_id

)

select user_id, all_time, years, last_6_months, last_4_weeks
from periods
where years <> all_time or last_6_months > all_time or last_4_weeks > last_6_months
