{#
    The type of a timestamp without time zone, holding UTC (every timestamp of the project is one). Snowflake's
    plain TIMESTAMP is an alias whose meaning follows the account's TIMESTAMP_TYPE_MAPPING (TIMESTAMP_NTZ by
    default, but an account may map it to TIMESTAMP_LTZ or TIMESTAMP_TZ), so Silver names TIMESTAMP_NTZ there
    (https://docs.snowflake.com/en/sql-reference/data-types-datetime#timestamp). DuckDB's and Postgres's
    TIMESTAMP is always without time zone.
#}
{% macro utc_timestamp_type() -%}
    {{ return(adapter.dispatch('utc_timestamp_type')()) }}
{%- endmacro %}

{% macro default__utc_timestamp_type() -%}
    timestamp
{%- endmacro %}

{% macro snowflake__utc_timestamp_type() -%}
    timestamp_ntz
{%- endmacro %}
