{#
    Incremental Gold. Every incremental mart rebuilds, on each run, only the keys (days, hours, songs,
    listeners, sessions) that the Silver rows changed since the last complete Gold build touch; a full
    refresh builds the same tables from all of Silver.

    A Silver row changed since then is one merged after it: Silver stamps every row it merges with merged_at,
    the start of the dbt run that merged it (run_started_at, one value for every node of a run), and the
    model gold_watermark stores the newest merged_at of Silver when Gold last built completely (built after
    every incremental mart, skipped when one of them or one of their tests fails). The cut is exact, with no
    lookback: a late load or a load that committed out of order is merged by a later run, so it is changed for
    that run whatever its loaded_at, and runs seconds apart recompute only what the later one merged.
    Without a gold_watermark relation, or with one of an earlier release (no merged_through), every Silver row
    counts as changed (a first build, an upgrade, a dropped watermark). A run after a failed one therefore
    redoes the failed run's keys too: delete+insert on the same keys is idempotent, so marts that succeeded the
    first time end the same.

    The keys to rebuild are read from the changed rows as Silver holds them now. That is enough because the
    copies of one event_id are one event (the id is the source's natural key, or the simulator's own id for a
    re-sent event): a better copy that replaces a row moves its Kafka position and load time, never its user,
    song, time or type, so the keys of the row it replaces are the keys of the copy.
#}

{# has_column(relation, name): whether the relation has that column (any case: Snowflake's are upper case). #}
{% macro has_column(relation, column_name) -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- if column.name | lower == column_name | lower -%}{{ return(true) }}{%- endif -%}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}

{#
    gold_watermark(): the newest merged_at Gold was last completely built from, or 1900 when every Silver row
    counts as changed. It names Gold's schema rather than `this`, so a test (which has no `this`) can ask too.
#}
{% macro gold_watermark() -%}
    {%- set mark = adapter.get_relation(
        database=target.database,
        schema=generate_schema_name('gold', none) | trim,
        identifier='gold_watermark'
    ) -%}
    {%- if mark is none or not has_column(mark, 'merged_through') -%}
        cast('1900-01-01 00:00:00' as {{ utc_timestamp_type() }})
    {%- else -%}
        coalesce(
            (select max(merged_through) from {{ mark }}),
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
    is_changed(alias): true for a row (of Silver, or of a mart that carries Silver's merged_at) changed
    since the last complete Gold build; `not is_changed(...)` for a row that build already had. `alias`
    qualifies the column when the query joins.
#}
{% macro is_changed(alias=none) -%}
    ({{ alias ~ '.' if alias }}merged_at > {{ gold_watermark() }})
{%- endmacro %}
