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
