{#
    What the changed Silver rows (macro changed_events) do to the Wrapped marts beyond their own listener and
    song, artist or hour, for the incremental runs of user_wrapped_top and user_wrapped_clock.
#}

{#
    The listeners whose home country (dim_listeners), and so time zone and every local date, may differ from the
    one of the last complete Gold build, as a subquery of user_id: those with changed rows in their current home
    country whose lead over the runner-up country is at most that many rows. Silver only gains rows (a better
    copy replaces a row by the same event), so each country's count then was at most its count now, and the
    home's at least its count now less its changed rows; a different home then needs the lead now to be within
    the home's changed rows. A superset: a listener listed whose home did not change is recomputed for nothing.
    A listener without rows from before the watermark is left out: every row of theirs is a changed one.
#}
{% macro wrapped_rezoned_users() -%}
    (
        -- One pass over the Silver rows of the listeners with changed rows (no other can be listed), per
        -- listener and country ('' for none: the rows from before the watermark count whatever their country),
        -- and the changed rows counted apart (a few thousand, rather than a test of every row).
        select counts.user_id
        from (
            select
                totals.user_id,
                totals.country,
                totals.events,
                coalesce(changed_counts.changed_events, 0) as changed_events
            from (
                select s.user_id, coalesce(s.country, '') as country, count(*) as events
                from {{ ref('stg_spotify__events') }} as s
                inner join (select distinct user_id from {{ changed_events() }} as c) as changed
                    on changed.user_id = s.user_id
                group by s.user_id, coalesce(s.country, '')
            ) as totals
            left join (
                select c.user_id, coalesce(c.country, '') as country, count(*) as changed_events
                from {{ changed_events() }} as c
                group by c.user_id, coalesce(c.country, '')
            ) as changed_counts
                on changed_counts.user_id = totals.user_id and changed_counts.country = totals.country
        ) as counts
        left join {{ ref('dim_listeners') }} as listeners on listeners.user_id = counts.user_id
        group by counts.user_id
        having sum(counts.events - counts.changed_events) > 0
            and max(case when counts.country = listeners.country then counts.changed_events end) > 0
            and max(case when counts.country = listeners.country then counts.events end)
                - coalesce(max(case when counts.country not in (listeners.country, '') then counts.events end), 0)
                <= max(case when counts.country = listeners.country then counts.changed_events end)
    )
{%- endmacro %}

{#
    True when the anchor (macro wrapped_bounds) may differ from the one of the last complete Gold build: the
    latest local date of the rows loaded before the watermark, all of which that build had, is not the latest
    now, or a listener may have changed time zone (macro wrapped_rezoned_users). The rolling periods are then
    rebuilt whole. `rezoned`: a relation or CTE name already holding macro wrapped_rezoned_users, if any.
#}
{% macro wrapped_anchor_moved(rezoned=none) -%}
    coalesce(
        (select max(local_date) from {{ ref('listener_events') }})
        <> (select max(local_date) from {{ ref('listener_events') }} where not {{ is_changed() }}),
        true
    )
    or exists (select 1 from {{ rezoned if rezoned is not none else wrapped_rezoned_users() }} as suspects)
{%- endmacro %}
