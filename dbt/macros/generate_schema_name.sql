{#
    Silver and Gold live in the schemas `silver` and `gold` exactly, on every target (docs/data-model.md):
    a custom schema is used as-is instead of dbt's default `<target_schema>_<custom_schema>`.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
