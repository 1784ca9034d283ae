{#
    plays_per_hour holds every hour from its first to its last (the hour spine): as many distinct hours as
    the hours between them, both included. A chart over hours with events only would fail on any gap.
#}
with hours as (

    select
        min(hour_start) as first_hour,
        max(hour_start) as last_hour,
        count(distinct hour_start) as hours
    from {{ ref('plays_per_hour') }}

)

select first_hour, last_hour, hours
from hours
where first_hour is not null
    and hours <> ({{ epoch_seconds('last_hour') }} - {{ epoch_seconds('first_hour') }}) / 3600 + 1
