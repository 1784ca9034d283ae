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

{#
    listener_tail_ctes(sessions, local_time=false): common table expressions for the marts built from
    listener_events with the listener_tail strategy (macro get_incremental_listener_tail_sql), ending with
    `recompute`: one row per listener with changed Silver rows (macro changed_events) and recompute_from, the
    event time from which listener_events rebuilt their sessions (NULL: all of them). Read from the compact
    `sessions` (listening_sessions as stored) instead of listener_events' 1.4 million rows: the start of the
    latest session that starts before the listener's earliest changed event. listener_events recomputes from
    the start of the session holding the latest event before that change, which is that session; its start is
    the same before and after this run's rebuild (a change never moves the sessions that end 30 minutes before
    it), so listening_sessions may read it from itself and the marts after it from the rebuilt table. A changed
    row's time is its event's time (copies of an event_id carry its time: macro changed_events).

    local_time: also NULL for a listener whose time zone (dim_listeners) may have moved since the last build,
    whose every local date then moves. listener_events knows the zone it used; the marts after it read the
    rebuilt rows, so this is decided from Silver: the zone follows the most frequent country, and n changed rows
    change each country's count by at most n, the previous and the present leaders' counts by 2n at most
    together, so a listener whose leading country leads the next one by more than 2n kept their zone.
#}
{% macro listener_tail_ctes(sessions, local_time=false) -%}
    changed as (

        select user_id, min(event_timestamp) as first_change, count(*) as changed_rows
        from {{ changed_events() }} as silver
        group by user_id

    ),

    {% if local_time %}
    country_counts as (

        select silver.user_id, silver.country, count(*) as events
        from {{ ref('stg_spotify__events') }} as silver
        inner join changed on changed.user_id = silver.user_id
        where silver.country is not null
        group by silver.user_id, silver.country

    ),

    country_lead as (

        select
            user_id,
            max(case when country_rank = 1 then events else 0 end)
                - max(case when country_rank = 2 then events else 0 end) as country_margin
        from (
            select
                user_id,
                events,
                row_number() over (partition by user_id order by events desc, country) as country_rank
            from country_counts
        ) as ranked
        group by user_id

    ),
    {% endif %}

    prior_session as (

        select changed.user_id, max(sessions.session_start) as session_start
        from changed
        inner join {{ sessions }} as sessions
            on sessions.user_id = changed.user_id
            and sessions.session_start < changed.first_change
        group by changed.user_id

    ),

    recompute as (

        select
            changed.user_id,
            {% if local_time %}
            case
                when coalesce(country_lead.country_margin, 0) > 2 * changed.changed_rows then prior_session.session_start
            end as recompute_from
            {% else %}
            prior_session.session_start as recompute_from
            {% endif %}
        from changed
        left join prior_session on prior_session.user_id = changed.user_id
        {% if local_time %}
        left join country_lead on country_lead.user_id = changed.user_id
        {% endif %}

    )
{%- endmacro %}

{#
    from_recompute_point(alias): a join condition beside `recompute.user_id = <alias>.user_id`: the listener's
    rows (`alias`: Silver or listener_events) at or after their recompute point, or all of them when it is NULL.
#}
{% macro from_recompute_point(alias) -%}
    (recompute.recompute_from is null or {{ alias }}.event_timestamp >= recompute.recompute_from)
{%- endmacro %}

{#
    latest_stored_before(points, point_column, stored_column): a streak mart's stored rows (`this`) that each
    listener of `points` (a relation or CTE with user_id and `point_column`) holds last before their point:
    those with the greatest `stored_column` below it. A listener_tail mart sends them again so that its stored
    rows from the point on are replaced even when no new row is left.
#}
{% macro latest_stored_before(points, point_column, stored_column) -%}
    select stored.*
    from {{ this }} as stored
    inner join (
        select stored.user_id, max(stored.{{ stored_column }}) as {{ stored_column }}
        from {{ this }} as stored
        inner join {{ points }}
            on {{ points }}.user_id = stored.user_id
            and stored.{{ stored_column }} < {{ points }}.{{ point_column }}
        group by stored.user_id
    ) as latest
        on latest.user_id = stored.user_id
        and latest.{{ stored_column }} = stored.{{ stored_column }}
{%- endmacro %}
