{#
    The skip rate over the rows of a group: skips over plays and skips, both of sources that report skips
    (macro reports_skips), NULL without such rows. Bounded by construction: the skips are part of the
    denominator, so a rate is within [0, 1] even when a skip's play was quarantined or never sent (the
    streaming history reports a skipped track as a skip without a play).
    reported_skips() and reported_plays_and_skips() are its two counts, kept in the daily marts (track_days,
    artist_days) so a range of days is rated by skip_rate_of_sums() over their sums.
#}
{% macro skip_rate(event_type_col='event_type', source_col='source') -%}
    {{ skip_rate_of_sums(reported_skips(event_type_col, source_col), reported_plays_and_skips(event_type_col, source_col)) }}
{%- endmacro %}

{% macro reported_skips(event_type_col='event_type', source_col='source') -%}
    count(case when {{ event_type_col }} = 'skip' and {{ reports_skips(source_col) }} then 1 end)
{%- endmacro %}

{% macro reported_plays_and_skips(event_type_col='event_type', source_col='source') -%}
    count(case when {{ event_type_col }} in ('play', 'skip') and {{ reports_skips(source_col) }} then 1 end)
{%- endmacro %}

{% macro skip_rate_of_sums(skips, plays_and_skips) -%}
    cast({{ skips }} as double precision) / nullif({{ plays_and_skips }}, 0)
{%- endmacro %}

{#
    summed_skip_counts(): the all-time plays, streams, skips and skip rate of a group of daily rows (track_days,
    artist_days, macro day_counts): what song_skip_rates and artist_skip_rates select.
#}
{% macro summed_skip_counts() -%}
    cast(sum(plays) as bigint) as plays,
    cast(sum(streams) as bigint) as streams,
    cast(sum(skips) as bigint) as skips,
    {{ skip_rate_of_sums('sum(reported_skips)', 'sum(reported_plays_and_skips)') }} as skip_rate
{%- endmacro %}
