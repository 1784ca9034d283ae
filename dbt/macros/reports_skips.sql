{#
    True for an event whose source reports skips: the simulator and the streaming-history export do; the Web
    API's recently-played has plays only, so its plays are left out of every skip rate's denominator.
#}
{% macro reports_skips(source_col='source') -%}
    {{ source_col }} in ('simulator', 'spotify_history')
{%- endmacro %}
