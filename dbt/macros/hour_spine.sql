{#
    One row per hour, `hour_start`, from `first_hour` to `last_hour` inclusive (both already truncated to the
    hour), read from the one-row relation `bounds`; no row when the bounds are NULL (no events). The series
    generator is the one thing dialects spell differently.
#}
{% macro hour_spine(bounds, first_hour='first_hour', last_hour='last_hour') -%}
    {{ return(adapter.dispatch('hour_spine')(bounds, first_hour, last_hour)) }}
{%- endmacro %}

{# Postgres: generate_series(timestamp, timestamp, interval) is a set-returning function. #}
{% macro default__hour_spine(bounds, first_hour, last_hour) -%}
    select generate_series({{ first_hour }}, {{ last_hour }}, interval '1 hour') as hour_start
    from {{ bounds }}
    where {{ first_hour }} is not null
{%- endmacro %}

{# DuckDB: generate_series in a select list returns a list; unnest makes it rows. #}
{% macro duckdb__hour_spine(bounds, first_hour, last_hour) -%}
    select unnest(generate_series({{ first_hour }}, {{ last_hour }}, interval '1 hour')) as hour_start
    from {{ bounds }}
    where {{ first_hour }} is not null
{%- endmacro %}

{#
    Snowflake has no generate_series: ARRAY_GENERATE_RANGE(0, n) (stop excluded) flattened into rows, each
    added as hours to the first hour
    (https://docs.snowflake.com/en/sql-reference/functions/array_generate_range,
    https://docs.snowflake.com/en/sql-reference/functions/flatten).
#}
{% macro snowflake__hour_spine(bounds, first_hour, last_hour) -%}
    select dateadd(hour, cast(hours.value as integer), {{ bounds }}.{{ first_hour }}) as hour_start
    from {{ bounds }},
        lateral flatten(input => array_generate_range(0, datediff(hour, {{ bounds }}.{{ first_hour }}, {{ bounds }}.{{ last_hour }}) + 1)) as hours
    where {{ bounds }}.{{ first_hour }} is not null
{%- endmacro %}
