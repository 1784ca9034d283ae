{#
    Within each day the device and country shares of plays, and of minutes listened, add up to 1 (a day whose
    known-value plays or minutes are 0 has NULL shares, and no total to check).
#}
{% set checks = [
    ['device_mix', 'share_of_plays'],
    ['device_mix', 'share_of_minutes'],
    ['country_mix', 'share_of_plays'],
    ['country_mix', 'share_of_minutes']
] %}

with shares as (

    {%- for mix, share in checks %}
    select '{{ mix }}' as mix, '{{ share }}' as share, event_date, sum({{ share }}) as total_share
    from {{ ref(mix) }}
    group by event_date
    having count({{ share }}) > 0
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

)

select mix, share, event_date, total_share
from shares
where abs(total_share - 1.0) > 0.000001
