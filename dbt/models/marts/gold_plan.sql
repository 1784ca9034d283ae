{#
    This run's plan for incremental Gold: one row, built after Silver and before every incremental mart (each
    reads it through the macro gold_incremental, whose ref makes it a dependency).

    changed_rows: the Silver rows changed since the last complete Gold build (macro changed_events);
    reach_rows: the Silver rows the listener marts recompute, each changed listener's from the start of their
    session before their earliest change on (listener_events' recompute point, read from listening_sessions as
    stored: the latest session that starts before the change; all of the listener's rows without one, and all of
    Silver without a stored listening_sessions); silver_rows: all of Silver.
    rebuild_whole: reach_rows is more than the share var('gold_rebuild_share') of silver_rows. Then every
    incremental mart builds from all of Silver, as a full refresh does, and replaces its stored rows in one
    transaction (strategies gold_delete_insert and listener_tail), instead of recomputing most of its keys one by
    one, which costs more than the rebuild when a run's changes reach back over most of the history (a young
    warehouse whose listeners' sessions span it; a backfill of late events). Both paths give the same tables;
    the plan only picks the cheaper.
#}
with changed as (

    select user_id, min(event_timestamp) as first_change, count(*) as changed_rows
    from {{ changed_events() }} as silver
    group by user_id

),

{%- set sessions = adapter.get_relation(database=this.database, schema=this.schema, identifier='listening_sessions') %}
{%- if sessions is not none %}

recompute as (

    select changed.user_id, max(sessions.session_start) as recompute_from
    from changed
    left join {{ sessions }} as sessions
        on sessions.user_id = changed.user_id
        and sessions.session_start < changed.first_change
    group by changed.user_id

),

reach as (

    select count(*) as reach_rows
    from {{ ref('stg_spotify__events') }} as silver
    inner join recompute
        on recompute.user_id = silver.user_id
        and {{ from_recompute_point('silver') }}

),
{%- else %}

reach as (

    select count(*) as reach_rows from {{ ref('stg_spotify__events') }}

),
{%- endif %}

silver as (

    select count(*) as silver_rows from {{ ref('stg_spotify__events') }}

)

select
    coalesce((select sum(changed_rows) from changed), 0) as changed_rows,
    reach.reach_rows,
    silver.silver_rows,
    cast({{ var('gold_rebuild_share') }} as double precision) as rebuild_share,
    reach.reach_rows > {{ var('gold_rebuild_share') }} * silver.silver_rows as rebuild_whole
from reach
cross join silver
