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

{#
    run_started_at_utc(): when this dbt invocation started (dbt's run_started_at, the same for every node of one
    `dbt build`: https://docs.getdbt.com/reference/dbt-jinja-functions/run_started_at), as a UTC timestamp of
    utc_timestamp_type(), to the microsecond. run_started_at is a Python datetime in UTC; strftime drops its
    zone, which TIMESTAMP_NTZ and timestamp do not hold.
#}
{% macro run_started_at_utc() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ utc_timestamp_type() }})
{%- endmacro %}
