{#
    The custom incremental strategy `gold_delete_insert` (config: incremental_strategy='gold_delete_insert'; dbt
    finds it as the macro get_incremental_gold_delete_insert_sql and calls it with its arg_dict:
    https://docs.getdbt.com/docs/build/incremental-strategy#custom-strategies), for the incremental Gold marts
    keyed on unique_key.

    dbt's delete+insert: the stored rows whose unique_key the new rows carry are deleted, then the new rows
    inserted; when the run rebuilds Gold whole (macro gold_plan_whole), the mart's new rows are all of its rows
    (macro gold_incremental) and every stored row is deleted instead, which saves joining them with the new ones.

    The statements as DuckDB, Postgres and Snowflake all spell them: DELETE ... USING
    (https://docs.snowflake.com/en/sql-reference/sql/delete), the target aliased DBT_INTERNAL_DEST and the new
    rows DBT_INTERNAL_SOURCE as in dbt's own delete+insert, so incremental_predicates narrow the delete in the
    same terms. dbt runs them in the model's transaction on DuckDB and Postgres; on Snowflake, where each
    statement commits on its own, they are wrapped in begin/commit, as dbt-snowflake's
    snowflake_dml_explicit_transaction wraps its own strategies' statements.
#}
{% macro get_incremental_gold_delete_insert_sql(arg_dict) -%}
    {{ return(adapter.dispatch('gold_delete_insert_sql')(arg_dict)) }}
{%- endmacro %}

{% macro default__gold_delete_insert_sql(arg_dict) -%}
    {%- set keys = [arg_dict['unique_key']] if arg_dict['unique_key'] is string else arg_dict['unique_key'] -%}
    {%- if gold_plan_whole() -%}
    {{ delete_all_sql(arg_dict) }};
    {%- else -%}
    delete from {{ arg_dict['target_relation'] }} as DBT_INTERNAL_DEST
    using {{ arg_dict['temp_relation'] }} as DBT_INTERNAL_SOURCE
    where
        {%- for key in keys %}
        DBT_INTERNAL_DEST.{{ key }} = DBT_INTERNAL_SOURCE.{{ key }}{{ ' and' if not loop.last }}
        {%- endfor %}
        {%- for predicate in arg_dict['incremental_predicates'] or [] %}
        and {{ predicate }}
        {%- endfor %};
    {%- endif %}

    {{ strategy_insert_sql(arg_dict) }}
{%- endmacro %}

{% macro snowflake__gold_delete_insert_sql(arg_dict) -%}
    begin;
    {{ default__gold_delete_insert_sql(arg_dict) }};
    commit;
{%- endmacro %}
