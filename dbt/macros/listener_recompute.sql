{#
    listener_recompute_ctes(listener_events): common table expressions (a WITH list's items, to splice into
    one) for incremental listener_events, ending with `recompute`: one row per listener with changed Silver
    rows (macro changed_events) and recompute_from, the event time from which their events are recomputed
    (NULL: all of them), read from the listener_events built so far.

    first_change: the earliest event time among the listener's changed rows, and the time such a row's event
    had before (a better copy of an event may carry another time, or even another listener).
    recompute_from: the start of the session holding the listener's latest event before first_change. That
    start lies more than 30 minutes after the end of every earlier event, and the changes all come later, so
    the events before it keep their sessions and the events from it on are rebuilt whole, sessions and all
    (a session's id depends on all of its events). NULL when no event precedes first_change, and for a
    listener whose time zone (dim_listeners) is not the one their events carry: every local time changes.
#}
{% macro listener_recompute_ctes(listener_events) -%}
    changed as (

        select event_id, user_id, event_timestamp
        from {{ changed_events() }} as silver

    ),

    change_points as (

        select user_id, event_timestamp from changed
        union all
        select built.user_id, built.event_timestamp
        from {{ listener_events }} as built
        inner join changed on changed.event_id = built.event_id

    ),

    first_change as (

        select user_id, min(event_timestamp) as first_change
        from change_points
        group by user_id

    ),

    rezoned as (

        select built.user_id
        from {{ listener_events }} as built
        inner join first_change on first_change.user_id = built.user_id
        inner join {{ ref('dim_listeners') }} as listeners on listeners.user_id = built.user_id
        where built.time_zone <> listeners.time_zone
        group by built.user_id

    ),

    prior_event as (

        select built.user_id, max(built.event_timestamp) as prior_at
        from {{ listener_events }} as built
        inner join first_change on first_change.user_id = built.user_id
        where built.event_timestamp < first_change.first_change
        group by built.user_id

    ),

    -- Events at one time are in one session (no gap between them).
    prior_session as (

        select distinct built.user_id, built.session_id
        from {{ listener_events }} as built
        inner join prior_event
            on prior_event.user_id = built.user_id
            and prior_event.prior_at = built.event_timestamp

    ),

    prior_session_start as (

        select built.user_id, min(built.event_timestamp) as session_start
        from {{ listener_events }} as built
        inner join prior_session on prior_session.session_id = built.session_id
        group by built.user_id

    ),

    recompute as (

    select
        first_change.user_id,
        case when rezoned.user_id is null then prior_session_start.session_start end as recompute_from
    from first_change
    left join rezoned on rezoned.user_id = first_change.user_id
    left join prior_session_start on prior_session_start.user_id = first_change.user_id

    )
{%- endmacro %}
