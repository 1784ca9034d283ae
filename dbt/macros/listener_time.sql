{#
    Listener-local time and the date arithmetic the listener marts need, one spelling per adapter.
    Event timestamps are UTC TIMESTAMPs (TIMESTAMP_NTZ on Snowflake); a time zone is an IANA name.
#}

{# The wall-clock time in `time_zone` (an IANA name) of a UTC timestamp, as a timestamp without time zone. #}
{% macro to_local_time(timestamp_expr, time_zone_expr) -%}
    {{ return(adapter.dispatch('to_local_time')(timestamp_expr, time_zone_expr)) }}
{%- endmacro %}

{# DuckDB (ICU, bundled) and Postgres: UTC instant first, then its wall clock in the zone. #}
{% macro default__to_local_time(timestamp_expr, time_zone_expr) -%}
    (({{ timestamp_expr }}) at time zone 'UTC') at time zone ({{ time_zone_expr }})
{%- endmacro %}

{# https://docs.snowflake.com/en/sql-reference/functions/convert_timezone: the 3-argument form for TIMESTAMP_NTZ. #}
{% macro snowflake__to_local_time(timestamp_expr, time_zone_expr) -%}
    convert_timezone('UTC', {{ time_zone_expr }}, {{ timestamp_expr }})
{%- endmacro %}

{# ISO day of the week of a timestamp or date: 1 = Monday ... 7 = Sunday. #}
{% macro iso_weekday(timestamp_expr) -%}
    {{ return(adapter.dispatch('iso_weekday')(timestamp_expr)) }}
{%- endmacro %}

{% macro default__iso_weekday(timestamp_expr) -%}
    cast(extract(isodow from {{ timestamp_expr }}) as integer)
{%- endmacro %}

{# https://docs.snowflake.com/en/sql-reference/functions-date-time#supported-date-and-time-parts #}
{% macro snowflake__iso_weekday(timestamp_expr) -%}
    cast(extract(dayofweekiso from {{ timestamp_expr }}) as integer)
{%- endmacro %}

{# A timestamp plus a number of milliseconds. #}
{% macro add_milliseconds(timestamp_expr, milliseconds_expr) -%}
    {{ return(adapter.dispatch('add_milliseconds')(timestamp_expr, milliseconds_expr)) }}
{%- endmacro %}

{% macro default__add_milliseconds(timestamp_expr, milliseconds_expr) -%}
    ({{ timestamp_expr }} + ({{ milliseconds_expr }}) * interval '1 millisecond')
{%- endmacro %}

{% macro snowflake__add_milliseconds(timestamp_expr, milliseconds_expr) -%}
    dateadd(millisecond, {{ milliseconds_expr }}, {{ timestamp_expr }})
{%- endmacro %}

{# A date plus a whole number of days (negative: earlier), as a date. #}
{% macro add_days(date_expr, days_expr) -%}
    {{ return(adapter.dispatch('add_days')(date_expr, days_expr)) }}
{%- endmacro %}

{% macro default__add_days(date_expr, days_expr) -%}
    cast({{ date_expr }} + ({{ days_expr }}) * interval '1 day' as date)
{%- endmacro %}

{% macro snowflake__add_days(date_expr, days_expr) -%}
    dateadd(day, {{ days_expr }}, {{ date_expr }})
{%- endmacro %}

{# Days since 1970-01-01 of a date: consecutive days have consecutive numbers (gaps and islands over days). #}
{% macro day_number(date_expr) -%}
    cast({{ epoch_seconds('cast(' ~ date_expr ~ ' as timestamp)') }} / 86400 as bigint)
{%- endmacro %}

{#
    The start of the quarter hour (UTC) a timestamp falls in: 10:44:59.999 -> 10:30.
    https://docs.snowflake.com/en/sql-reference/functions/time_slice ; DuckDB: time_bucket.
#}
{% macro quarter_hour(timestamp_expr) -%}
    {{ return(adapter.dispatch('quarter_hour')(timestamp_expr)) }}
{%- endmacro %}

{% macro default__quarter_hour(timestamp_expr) -%}
    (date_trunc('hour', {{ timestamp_expr }}) + floor(extract(minute from {{ timestamp_expr }}) / 15) * interval '15 minutes')
{%- endmacro %}

{% macro duckdb__quarter_hour(timestamp_expr) -%}
    time_bucket(interval '15 minutes', {{ timestamp_expr }})
{%- endmacro %}

{% macro snowflake__quarter_hour(timestamp_expr) -%}
    time_slice({{ timestamp_expr }}, 15, 'MINUTE')
{%- endmacro %}
