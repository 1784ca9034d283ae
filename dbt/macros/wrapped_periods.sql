{#
    The Wrapped periods, in one place (model wrapped_events and the Wrapped marts use them).
    Periods by listener-local date (listener_events.local_date); "last" is relative to the data: the anchor is the
    latest local date of any event in Gold.
      all_time       every event; period_start_date/period_end_date: the earliest local date in Gold and the anchor
      year_YYYY      the calendar year YYYY: YYYY-01-01 to YYYY-12-31
      last_6_months  the 182 days (26 weeks) up to and including the anchor
      last_4_weeks   the 28 days up to and including the anchor
#}

{# The earliest local date (first_date) and the anchor (anchor_date) of all of Gold, as a one-row subquery. #}
{% macro wrapped_bounds() -%}
    (select min(local_date) as first_date, max(local_date) as anchor_date from {{ ref('listener_events') }})
{%- endmacro %}

{#
    Every row of `events` (a relation or CTE name with listener_events' columns) once for each period it falls in:
    period, period_start_date, period_end_date, then the event's columns. The bounds are those of all of Gold,
    whatever subset `events` is.
#}
{% macro wrapped_periods(events) -%}
    select 'all_time' as period, b.first_date as period_start_date, b.anchor_date as period_end_date, e.*
    from {{ events }} as e
    cross join {{ wrapped_bounds() }} as b
    union all
    select
        'year_' || cast(cast(extract(year from e.local_date) as integer) as varchar),
        cast(cast(cast(extract(year from e.local_date) as integer) as varchar) || '-01-01' as date),
        cast(cast(cast(extract(year from e.local_date) as integer) as varchar) || '-12-31' as date),
        e.*
    from {{ events }} as e
    union all
    select 'last_6_months', {{ add_days('b.anchor_date', -181) }}, b.anchor_date, e.*
    from {{ events }} as e
    cross join {{ wrapped_bounds() }} as b
    where e.local_date >= {{ add_days('b.anchor_date', -181) }}
    union all
    select 'last_4_weeks', {{ add_days('b.anchor_date', -27) }}, b.anchor_date, e.*
    from {{ events }} as e
    cross join {{ wrapped_bounds() }} as b
    where e.local_date >= {{ add_days('b.anchor_date', -27) }}
{%- endmacro %}

{# True for the periods that move with the anchor. #}
{% macro wrapped_is_rolling(period_col='period') -%}
    ({{ period_col }} in ('last_6_months', 'last_4_weeks'))
{%- endmacro %}

{#
    The Wrapped marts count by period without repeating every event once per period (as wrapped_periods does):
    they group the events by listener, key, local year and bucket first (macro wrapped_scoped_events), then
    fan those few rows out to the periods they count in and add them up (macro wrapped_by_period).
#}

{#
    The rows of `events` (a relation with listener_events' columns, alias e) with local_year, bucket (2: a local
    date in the last 4 weeks, 1: in the rest of the last 6 months, else 0) and complete. In an incremental run
    only some: the events whose `match` (a relation) has a row on `on` (a condition on e and alias c), the
    events of the listeners in `whole` (a relation of distinct user_id), and with `moved` (a relation of one
    row, anchor_moved) those of the rolling periods when anchor_moved holds. complete: the row is of a match or
    of a whole listener, so every event of its key is here (always, without a filter); else only its events of
    the rolling periods are. Left joins and one filter: an OR of EXISTS subqueries plans slowly.
#}
{% macro wrapped_scoped_events(events, match=none, on=none, whole=none, moved=none) -%}
    select
        e.*,
        cast(extract(year from e.local_date) as integer) as local_year,
        case
            when e.local_date >= {{ add_days('b.anchor_date', -27) }} then 2
            when e.local_date >= {{ add_days('b.anchor_date', -181) }} then 1
            else 0
        end as bucket,
        {%- if match is none and whole is none %}
        true as complete
        {%- else %}
        ({{ 'c.user_id is not null' if match is not none else 'false' }}
            or {{ 'w.user_id is not null' if whole is not none else 'false' }}) as complete
        {%- endif %}
    from {{ events }} as e
    cross join {{ wrapped_bounds() }} as b
    {%- if match is not none %}
    left join {{ match }} as c on {{ on }}
    {%- endif %}
    {%- if whole is not none %}
    left join {{ whole }} as w on w.user_id = e.user_id
    {%- endif %}
    {%- if moved is not none %}
    cross join {{ moved }} as m
    {%- endif %}
    {%- if match is not none or whole is not none or moved is not none %}
    where false
        {%- if match is not none %} or c.user_id is not null{% endif %}
        {%- if whole is not none %} or w.user_id is not null{% endif %}
        {%- if moved is not none %} or (m.anchor_moved and e.local_date >= {{ add_days('b.anchor_date', -181) }}){% endif %}
    {%- endif %}
{%- endmacro %}

{#
    Rows of `rows` (a subquery with columns user_id, local_year, bucket, complete, `keys`, and the columns
    `sums` and `mins`) added up per listener, period, `keys` and complete: every row counts in all_time and in
    year_YYYY, a bucket 1 or 2 row in last_6_months, a bucket 2 row in last_4_weeks.
#}
{% macro wrapped_by_period(rows, keys, sums, mins=[]) -%}
    select
        fanned.user_id,
        fanned.period,
        {%- for k in keys %}
        fanned.{{ k }},
        {%- endfor %}
        {%- for c in mins %}
        min(fanned.{{ c }}) as {{ c }},
        {%- endfor %}
        {%- for c in sums %}
        sum(fanned.{{ c }}) as {{ c }},
        {%- endfor %}
        fanned.complete
    from (
        select
            r.*,
            case
                when fanout.n = 0 then 'all_time'
                when fanout.n = 1 then 'year_' || cast(r.local_year as varchar)
                when fanout.n = 2 then 'last_6_months'
                else 'last_4_weeks'
            end as period
        from ({{ rows }}) as r
        inner join (select 0 as n union all select 1 union all select 2 union all select 3) as fanout
            on fanout.n <= 1 or (fanout.n = 2 and r.bucket >= 1) or (fanout.n = 3 and r.bucket = 2)
    ) as fanned
    group by fanned.user_id, fanned.period{% for k in keys %}, fanned.{{ k }}{% endfor %}, fanned.complete
{%- endmacro %}

{# The rows macro wrapped_items adds up for one kind: per listener, item, local year, bucket and complete. #}
{% macro wrapped_item_rows(events, kind, key, items, whole, moved) -%}
    select
        s.user_id,
        '{{ kind }}' as kind,
        s.{{ key }} as item_key,
        s.local_year,
        s.bucket,
        s.complete,
        {% if kind == 'artist' -%}
        s.artist_name as artist_name,
        cast(null as varchar) as song_id,
        cast(null as varchar) as song_name,
        {%- else -%}
        min(s.artist_name) as artist_name,
        s.song_id as song_id,
        min(s.song_name) as song_name,
        {%- endif %}
        count(case when {{ is_stream('s.event_type', 's.duration_ms', 's.source') }} then 1 end) as streams,
        {{ ms_listened('s.event_type', 's.duration_ms') }} as play_ms
    from ({{ wrapped_scoped_events(
        events,
        match=items,
        on="c.kind = '" ~ kind ~ "' and c.user_id = e.user_id and c.item_key = e." ~ key,
        whole=whole,
        moved=moved
    ) }}) as s
    group by s.user_id, s.{{ key }}, s.local_year, s.bucket, s.complete
{%- endmacro %}

{#
    Per listener, period and artist (kind 'artist') or song (kind 'track': artist_name and song_name the least of
    its events'): streams and minutes listened of the rows of `events` (a relation with listener_events'
    columns), item_key the artist or the song, and complete (macro wrapped_scoped_events). For an incremental
    run, `items`: a relation of (user_id, kind, item_key), one row each, whose events are counted; `whole` and
    `moved` as in wrapped_scoped_events.
#}
{% macro wrapped_items(events, items=none, whole=none, moved=none) -%}
    select
        user_id, period, kind, item_key, artist_name, song_id, song_name,
        cast(streams as bigint) as streams,
        cast(play_ms as double precision) / 60000.0 as minutes_listened,
        complete
    from (
        {%- for kind, key in [['artist', 'artist_name'], ['track', 'song_id']] %}
        {{ wrapped_by_period(wrapped_item_rows(events, kind, key, items, whole, moved), ['kind', 'item_key'], ['streams', 'play_ms'], ['artist_name', 'song_id', 'song_name']) }}
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    ) as items
{%- endmacro %}

{#
    user_wrapped_clock's rows: plays, streams and minutes listened by listener, period and listener-local hour,
    and complete (macro wrapped_scoped_events). `scoped`: an incremental run, with CTEs touched (user_id,
    local_hour: its events are counted), rezoned (user_id) and moved. There the plays are picked inside the
    aggregates rather than by a filter on the events: a filter makes the events' estimated rows fewer than the
    touched hours', and the warehouse (DuckDB) would then hash all the plays to join those few, rather than
    hash the touched hours and stream the events past them.
#}
{% macro wrapped_clock_rows(scoped) -%}
    {%- set rows %}
    select
        s.user_id,
        s.local_hour,
        s.local_year,
        s.bucket,
        s.complete,
        count({{ "case when s.event_type = 'play' then 1 end" if scoped else '*' }}) as plays,
        count(case when {{ is_stream('s.event_type', 's.duration_ms', 's.source') }} then 1 end) as streams,
        {{ ms_listened('s.event_type', 's.duration_ms') }} as play_ms
    from ({{ wrapped_scoped_events(
        ref('listener_events'),
        match='touched' if scoped else none,
        on='c.user_id = e.user_id and c.local_hour = e.local_hour',
        whole='rezoned' if scoped else none,
        moved='moved' if scoped else none
    ) }}) as s
    {%- if scoped %}
    group by s.user_id, s.local_hour, s.local_year, s.bucket, s.complete
    having count(case when s.event_type = 'play' then 1 end) > 0
    {%- else %}
    where s.event_type = 'play'
    group by s.user_id, s.local_hour, s.local_year, s.bucket, s.complete
    {%- endif %}
    {%- endset %}
    select
        user_id, period, local_hour,
        cast(plays as bigint) as plays,
        cast(streams as bigint) as streams,
        cast(play_ms as double precision) / 60000.0 as minutes_listened,
        complete
    from ({{ wrapped_by_period(rows, ['local_hour'], ['plays', 'streams', 'play_ms']) }}) as clock
{%- endmacro %}
