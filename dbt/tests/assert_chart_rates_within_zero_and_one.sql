{#
    Every rate and share of the chart marts is within [0, 1] (or NULL where its denominator is 0): a skip rate
    above 1, as skips over plays gave when a skip's play was quarantined, fails here.
#}
{% set checks = [
    ['song_skip_rates', 'skip_rate'],
    ['artist_skip_rates', 'skip_rate'],
    ['hourly_listening_preferences', 'skip_rate'],
    ['device_mix', 'share_of_plays'],
    ['device_mix', 'share_of_minutes'],
    ['country_mix', 'share_of_plays'],
    ['country_mix', 'share_of_minutes'],
    ['song_popularity_distribution', 'share_of_streams'],
    ['song_popularity_distribution', 'share_of_plays']
] %}

{%- for model, column in checks %}
select '{{ model }}' as model, '{{ column }}' as rate_column, {{ column }} as rate
from {{ ref(model) }}
where {{ column }} < 0 or {{ column }} > 1
{% if not loop.last %}union all{% endif %}
{%- endfor %}
