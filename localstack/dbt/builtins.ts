/**
 * dbt's built-in generic tests, as dbt's global project defines them (unique, not_null, accepted_values,
 * relationships), dispatched through adapter.dispatch so a project can override default__test_<name>.
 * A test passes when its query returns no rows.
 *
 * get_where_subquery: what a generic test's `model` argument is, the tested relation or, with the test's
 * `where` config, `(select * from <relation> where <where>) dbt_subquery`; dbt-adapters'
 * macros/materializations/tests/where_subquery.sql (with `{{ return() }}` for its `{% do return() %}`). A
 * project overrides it by defining get_where_subquery or default__get_where_subquery
 * (https://docs.getdbt.com/reference/resource-configs/where, "Custom logic").
 */
export const BUILTIN_MACROS: Readonly<Record<string, string>> = {
  '<dbt>/where_subquery.sql': `
{% macro get_where_subquery(relation) -%}
    {{ return(adapter.dispatch('get_where_subquery', 'dbt')(relation)) }}
{%- endmacro %}

{% macro default__get_where_subquery(relation) -%}
    {% set where = config.get('where', '') %}
    {% if where %}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}
`,
  '<dbt>/generic_tests.sql': `
{% macro test_unique(model, column_name) %}{{ return(adapter.dispatch('test_unique')(model, column_name)) }}{% endmacro %}
{% macro default__test_unique(model, column_name) %}
select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{% endmacro %}

{% macro test_not_null(model, column_name) %}{{ return(adapter.dispatch('test_not_null')(model, column_name)) }}{% endmacro %}
{% macro default__test_not_null(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is null
{% endmacro %}

{% macro test_accepted_values(model, column_name, values, quote=True) %}{{ return(adapter.dispatch('test_accepted_values')(model, column_name, values, quote)) }}{% endmacro %}
{% macro default__test_accepted_values(model, column_name, values, quote=True) %}
with all_values as (
    select
        {{ column_name }} as value_field,
        count(*) as n_records
    from {{ model }}
    group by {{ column_name }}
)
select *
from all_values
where value_field not in (
    {%- for value in values -%}
        {%- if quote -%}'{{ value }}'{%- else -%}{{ value }}{%- endif -%}
        {%- if not loop.last -%}, {% endif -%}
    {%- endfor -%}
)
{% endmacro %}

{% macro test_relationships(model, column_name, to, field) %}{{ return(adapter.dispatch('test_relationships')(model, column_name, to, field)) }}{% endmacro %}
{% macro default__test_relationships(model, column_name, to, field) %}
with child as (
    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
),
parent as (
    select {{ field }} as to_field
    from {{ to }}
)
select from_field
from child
left join parent on child.from_field = parent.to_field
where parent.to_field is null
{% endmacro %}
`,
};
