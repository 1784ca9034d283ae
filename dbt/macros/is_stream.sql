{#
    True for a stream: a play of at least 30 s, as Spotify counts one. A play whose listened time is unknown
    counts when its source lists only plays over 30 s: the Web API's recently-played does.
#}
{% macro is_stream(event_type_col='event_type', duration_col='duration_ms', source_col='source') -%}
    ({{ event_type_col }} = 'play' and ({{ duration_col }} >= 30000 or ({{ duration_col }} is null and {{ source_col }} = 'spotify_api')))
{%- endmacro %}
