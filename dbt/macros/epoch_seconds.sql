{#
    Whole seconds since 1970-01-01 of a TIMESTAMP (UTC): the one expression the marts need that Snowflake and
    DuckDB spell differently. Truncates toward the past, like Snowflake's date_part(epoch_second, ...).
#}
{% macro epoch_seconds(timestamp_expr) -%}
    {{ return(adapter.dispatch('epoch_seconds')(timestamp_expr)) }}
{%- endmacro %}

{% macro default__epoch_seconds(timestamp_expr) -%}
    cast(floor(extract(epoch from {{ timestamp_expr }})) as bigint)
{%- endmacro %}

{% macro snowflake__epoch_seconds(timestamp_expr) -%}
    date_part(epoch_second, {{ timestamp_expr }})
{%- endmacro %}

{% macro duckdb__epoch_seconds(timestamp_expr) -%}
    cast(floor(epoch({{ timestamp_expr }})) as bigint)
{%- endmacro %}
