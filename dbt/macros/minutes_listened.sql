{# Minutes listened over the rows of a group: the plays' duration_ms summed, divided by 60000.0 (0 without plays). #}
{% macro minutes_listened(event_type_col='event_type', duration_col='duration_ms') -%}
    cast(coalesce(sum(case when {{ event_type_col }} = 'play' then {{ duration_col }} end), 0) as double precision) / 60000.0
{%- endmacro %}
