{#
    The project's get_where_subquery: dbt's own (a generic test's `where` config filters the tested relation
    to `(select * from <relation> where <where>) dbt_subquery`), with two placeholders a `where` may name, so a
    test can check only what this run changed (https://docs.getdbt.com/reference/resource-configs/where,
    "Custom logic"). Rows a run did not change were checked by the run that changed them.

    __changed__       the row changed since the last complete Gold build (macro is_changed): for tests of one
                      row at a time (not_null, accepted_values).
    __changed_rows__  the changed rows of the tested relation, as a subquery, for a test across rows, which
                      must filter on key membership: `event_id in (select event_id from __changed_rows__)` keeps
                      every row of a changed key, so a new duplicate of an old row is still seen by `unique`.

    Without a complete Gold build to compare with (a first build, a full refresh, a dropped watermark) every
    row counts as changed, and the test checks everything.
#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- if '__changed' in where -%}
            {%- set changed_rows -%}
                (select * from {{ relation }} where {{ is_changed() }}) as changed_rows
            {%- endset -%}
            {%- set where = where | replace('__changed_rows__', changed_rows) | replace('__changed__', is_changed()) -%}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}
