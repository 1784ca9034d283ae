{#
    What an incremental Silver run (stg_spotify__events) reads of Bronze and may replace of its own rows.
#}

{#
    silver_read_from(silver): the earliest loaded_at an incremental run reads from Bronze: the newest loaded_at
    in Silver (`silver`, the model's `this` by default) minus var silver_lookback_hours, or 1900 while Silver is empty (its first build ran before any event
    was loaded: it then reads all of Bronze, as a first build would, instead of comparing with NULL for ever).
#}
{% macro silver_read_from(silver=this) -%}
    coalesce(
        (select max(loaded_at) - interval '{{ var("silver_lookback_hours") }} hours' from {{ silver }}),
        cast('1900-01-01 00:00:00' as {{ utc_timestamp_type() }})
    )
{%- endmacro %}

{#
    silver_replaced_rows_within(): the merge's incremental_predicates condition on the Silver rows it deletes
    (DBT_INTERNAL_DEST): an event_timestamp within those of the Bronze rows the run reads. A row is replaced by
    a better copy of its event_id, and the copies of an event_id carry the same event_timestamp, so every row
    the merge replaces is within; the warehouse then skips the row groups outside (Silver is stored in
    event-time order). The delete runs before the insert, so Silver's newest loaded_at is still the one the
    run read from. Silver is named by its schema (dbt_project.yml: staging's +schema) rather than `this`: dbt
    reads a model's config when it parses the project, before `this` carries the model's schema.
#}
{% macro silver_replaced_rows_within() -%}
    {%- set silver = generate_schema_name('silver', none) | trim ~ '.stg_spotify__events' -%}
    DBT_INTERNAL_DEST.event_timestamp between (
        select min(cast(event_timestamp as {{ utc_timestamp_type() }}))
        from {{ source('bronze', 'listening_events') }}
        where event_id is not null and loaded_at >= {{ silver_read_from(silver) }}
    ) and (
        select max(cast(event_timestamp as {{ utc_timestamp_type() }}))
        from {{ source('bronze', 'listening_events') }}
        where event_id is not null and loaded_at >= {{ silver_read_from(silver) }}
    )
{%- endmacro %}
