{#
    The counts of one day's rows of a song or an artist (track_days, artist_days): events, streams, plays,
    skips, minutes listened, listeners, and the skip rate's two counts. All but listeners add up over days.
#}
{% macro day_counts() -%}
    count(*) as events,
    count(case when {{ is_stream() }} then 1 end) as streams,
    count(case when event_type = 'play' then 1 end) as plays,
    count(case when event_type = 'skip' then 1 end) as skips,
    {{ minutes_listened() }} as minutes_listened,
    count(distinct user_id) as listeners,
    {{ reported_skips() }} as reported_skips,
    {{ reported_plays_and_skips() }} as reported_plays_and_skips
{%- endmacro %}

{#
    changed_day_keys(alias, key): the join that keeps, of the Silver rows `alias`, those of a (day, key) pair a
    changed Silver row (macro changed_events) has: what incremental track_days and artist_days count anew.
    A pair, not the whole day: a day holds thousands of songs, of which an hour's events touch a part, and the
    rows are replaced by (event_date, key), one target row per new row.
#}
{% macro changed_day_keys(alias, key) -%}
    inner join (
        select distinct event_date, {{ key }}
        from {{ changed_events() }} as changed
    ) as changed_keys
        on changed_keys.event_date = {{ alias }}.event_date
        and changed_keys.{{ key }} = {{ alias }}.{{ key }}
{%- endmacro %}
