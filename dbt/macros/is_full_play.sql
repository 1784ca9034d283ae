{#
    True for a play through: milliseconds listened of at least 90 % of the track's length, compared in integers
    (10 x listened >= 9 x length) so no dialect rounds differently. Unknown listened time or length (NULL) is
    not a play through.
#}
{% macro is_full_play(duration_col='duration_ms', length_col='track_length_ms') -%}
    ({{ duration_col }} is not null and {{ length_col }} is not null and 10 * {{ duration_col }} >= 9 * {{ length_col }})
{%- endmacro %}
