{#
    The custom incremental strategy `listener_tail` (config: incremental_strategy='listener_tail'; dbt finds it
    as the macro get_incremental_listener_tail_sql and calls it with its arg_dict:
    https://docs.getdbt.com/docs/build/incremental-strategy#custom-strategies).

    unique_key is [listener column, time column]: a listener's rows are ordered by the time column. For each
    listener in the new rows, the stored rows of that listener whose time is at or after the earliest time
    among the listener's new rows are deleted, then the new rows inserted. A new row with a NULL time is a
    marker: it deletes all of its listener's rows and is not inserted (a listener recomputed whole, whose
    earliest new row may come after an earlier stored one, as when a time zone moved local dates).

    What a model using it promises: for each listener in its new rows, it emits every row from the earliest of
    them on (a listener recomputed from a point, all of whose rows from that point on are rebuilt whole). A
    listener none of whose rows from the point on survives emits a copy of a stored row before the point (or a
    marker): delete+insert on the listener alone would leave such rows standing, since it deletes only the
    keys the new rows carry.

    One DELETE ... USING and one INSERT, which DuckDB, Postgres and Snowflake all spell this way
    (https://docs.snowflake.com/en/sql-reference/sql/delete: a target row is deleted when the condition holds
    for any row of the USING table it joins), the target aliased DBT_INTERNAL_DEST and the new rows
    DBT_INTERNAL_SOURCE as in dbt's own delete+insert, so incremental_predicates, when configured, narrow the
    delete in the same terms. dbt runs the statements in the model's transaction on DuckDB and Postgres; on
    Snowflake, where each statement commits on its own, they are wrapped in begin/commit, as dbt-snowflake's
    snowflake_dml_explicit_transaction wraps its own strategies' statements.
#}
{% macro get_incremental_listener_tail_sql(arg_dict) -%}
    {{ return(adapter.dispatch('listener_tail_sql')(arg_dict)) }}
{%- endmacro %}

{% macro default__listener_tail_sql(arg_dict) -%}
    {%- set stored = arg_dict['target_relation'] -%}
    {%- set new_rows = arg_dict['temp_relation'] -%}
    {%- set listener = arg_dict['unique_key'][0] -%}
    {%- set tail = arg_dict['unique_key'][1] -%}
    delete from {{ stored }} as DBT_INTERNAL_DEST
    using {{ new_rows }} as DBT_INTERNAL_SOURCE
    where DBT_INTERNAL_DEST.{{ listener }} = DBT_INTERNAL_SOURCE.{{ listener }}
        and (
            DBT_INTERNAL_SOURCE.{{ tail }} is null
            or DBT_INTERNAL_DEST.{{ tail }} >= DBT_INTERNAL_SOURCE.{{ tail }}
        )
        {%- for predicate in arg_dict['incremental_predicates'] or [] %}
        and {{ predicate }}
        {%- endfor %};

    insert into {{ stored }} ({% for column in arg_dict['dest_columns'] %}{{ column.quoted }}{{ ', ' if not loop.last }}{% endfor %})
    select {% for column in arg_dict['dest_columns'] %}{{ column.quoted }}{{ ', ' if not loop.last }}{% endfor %}
    from {{ new_rows }}
    where {{ tail }} is not null
{%- endmacro %}

{% macro snowflake__listener_tail_sql(arg_dict) -%}
    begin;
    {{ default__listener_tail_sql(arg_dict) }};
    commit;
{%- endmacro %}
