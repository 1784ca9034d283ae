{#
    The skip rate over the rows of a group: skips over plays and skips, both of sources that report skips
    (macro reports_skips), NULL without such rows. Bounded by construction: the skips are part of the
    denominator, so a rate is within [0, 1] even when a skip's play was quarantined or never sent (the
    streaming history reports a skipped track as a skip without a play).
#}
{% macro skip_rate(event_type_col='event_type', source_col='source') -%}
    cast(count(case when {{ event_type_col }} = 'skip' and {{ reports_skips(source_col) }} then 1 end) as double precision)
        / nullif(count(case when {{ event_type_col }} in ('play', 'skip') and {{ reports_skips(source_col) }} then 1 end), 0)
{%- endmacro %}
