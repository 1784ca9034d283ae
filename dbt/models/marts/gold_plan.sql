{#
    This run's plan for incremental Gold: one row, built after Silver and before every incremental mart (each
    reads it through the macro gold_incremental, whose ref makes it a dependency).

    changed_rows: the Silver rows changed since the last complete Gold build (macro changed_events);
    reach_rows: the Silver rows from each changed listener's earliest changed event on, what the listener marts
    recompute (about: they start at the session before it); silver_rows: all of Silver.
    rebuild_whole: reach_rows is more than the share var('gold_rebuild_share') of silver_rows. Then every
    incremental mart builds from all of Silver, as a full refresh does, and replaces its stored rows in one
    transaction (strategies gold_delete_insert and listener_tail), instead of recomputing most of its keys one by
    one, which costs more than the rebuild when a run's changes reach back over most of the history (a young
    warehouse; a backfill of late events). Both paths give the same tables; the plan only picks the cheaper.
#}
with changed as (

    select user_id, min(event_timestamp) as first_change, count(*) as changed_rows
    from {{ changed_events() }} as silver
    group by user_id

),

reach as (

    select count(*) as reach_rows
    from {{ ref('stg_spotify__events') }} as silver
    inner join changed
        on changed.user_id = silver.user_id
        and silver.event_timestamp >= changed.first_change

),

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
