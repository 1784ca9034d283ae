{# Minutes listened over the rows of a group: the plays' duration_ms summed, divided by 60000.0 (0 without plays). #}
{% macro minutes_listened(event_type_col='event_type', duration_col='duration_ms') -%}
    cast({{ ms_listened(event_type_col, duration_col) }} as double precision) / 60000.0
{%- endmacro %}

{#
    The plays' duration_ms summed as an integer (0 without plays): what a share of minutes divides, so the
    share does not depend on the order a warehouse adds floating-point minutes in (a rebuilt day would
    otherwise differ from the same day built before in the last digit).
#}
{% macro ms_listened(event_type_col='event_type', duration_col='duration_ms') -%}
    coalesce(sum(case when {{ event_type_col }} = 'play' then {{ duration_col }} end), 0)
{%- endmacro %}
