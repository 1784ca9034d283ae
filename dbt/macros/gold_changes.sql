{#
    Incremental Gold. Every incremental mart rebuilds, on each run, only the keys (days, hours, songs,
    listeners, sessions) that the Silver rows changed since the last complete Gold build touch; a full
    refresh builds the same tables from all of Silver.

    gold_watermark(): the load time from which Silver rows count as changed: the newest loaded_at of Silver
    when Gold last built completely (model gold_watermark, built after every incremental mart and skipped when
    one of them or one of their tests fails), minus silver_lookback_hours, the window in which Silver itself
    still takes rows in (loads that commit out of order). Without a gold_watermark relation (a first build, a
    deployment that predates incremental Gold, a dropped watermark) every Silver row counts as changed.
    A run after a failed one therefore redoes the failed run's keys too: delete+insert on the same keys is
    idempotent, so marts that succeeded the first time end the same.

    The keys to rebuild are read from the changed rows as Silver holds them now. That is enough because the
    copies of one event_id are one event (the id is the source's natural key, or the simulator's own id for a
    re-sent event): a better copy that replaces a row moves its Kafka position and load time, never its user,
    song, time or type, so the keys of the row it replaces are the keys of the copy.
#}
{% macro gold_watermark() -%}
    {%- set mark = adapter.get_relation(database=this.database, schema=this.schema, identifier='gold_watermark') -%}
    {%- if mark is none -%}
        cast('1900-01-01 00:00:00' as {{ utc_timestamp_type() }})
    {%- else -%}
        coalesce(
            (select max(loaded_through) from {{ mark }}) - interval '{{ var("silver_lookback_hours") }} hours',
            cast('1900-01-01 00:00:00' as {{ utc_timestamp_type() }})
        )
    {%- endif -%}
{%- endmacro %}

{#
    The Silver rows changed since the last complete Gold build (macro gold_watermark), as a subquery. Its ref
    sits under is_incremental(), so a mart that does not otherwise read Silver needs the dbt hint
    `-- depends_on: {{ ref('stg_spotify__events') }}`.
#}
{% macro changed_events() -%}
    (select * from {{ ref('stg_spotify__events') }} where {{ is_changed() }})
{%- endmacro %}

{#
    is_changed(alias): true for a row (of Silver, or of a mart that carries Silver's lineage columns) changed
    since the last complete Gold build; `not is_changed(...)` for a row that build already had. `alias`
    qualifies the column when the query joins.
#}
{% macro is_changed(alias=none) -%}
    ({{ alias ~ '.' if alias }}loaded_at >= {{ gold_watermark() }})
{%- endmacro %}
