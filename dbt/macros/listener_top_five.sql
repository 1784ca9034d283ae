{#
    A listener's five most streamed items (user_top_tracks: key song_id; user_top_artists: key artist_name):
    by streams, then minutes listened (descending), then the key; every item the listener played is ranked,
    streamed or not. `names` are columns taken as min() per item (song_name, artist_name).

    Incremental (unique_key user_id): a listener's new top five is the top five of their stored five and
    their (listener, item) pairs that changed Silver rows touch, those pairs counted anew from all of Silver:
    an item outside the stored five that no changed row touches still ranks below the five, whose counts
    only grow. Should a stored entry have fallen (fewer streams or minutes: a copy of an event that changed
    its content), that listener is ranked again from all their plays.
#}
{% macro listener_top_five(key, names=[]) -%}
{%- set counts -%}
        count(case when {{ is_stream('s.event_type', 's.duration_ms', 's.source') }} then 1 end) as streams,
        count(*) as plays,
        {{ minutes_listened('s.event_type', 's.duration_ms') }} as minutes_listened
{%- endset -%}
{%- set name_cols %}{% for c in names %}min(s.{{ c }}) as {{ c }}, {% endfor %}{% endset -%}
{%- set columns %}user_id, {{ key }}, {% for c in names %}{{ c }}, {% endfor %}streams, plays, minutes_listened{% endset -%}
with
{% if is_incremental() %}
changed_pairs as (

    select distinct user_id, {{ key }}
    from {{ changed_events() }} as changed

),

-- The pairs' plays are picked inside the aggregates, not by a filter on Silver: a filter makes Silver's
-- estimated rows fewer than the changed pairs', and the warehouse (DuckDB) would then hash all of Silver's
-- plays to join the few pairs, rather than hash the pairs and stream Silver past them.
pair_totals as (

    select s.user_id, s.{{ key }},
        {%- for c in names %} min(case when s.event_type = 'play' then s.{{ c }} end) as {{ c }},{% endfor %}
        count(case when {{ is_stream('s.event_type', 's.duration_ms', 's.source') }} then 1 end) as streams,
        count(case when s.event_type = 'play' then 1 end) as plays,
        {{ minutes_listened('s.event_type', 's.duration_ms') }} as minutes_listened
    from {{ ref('stg_spotify__events') }} as s
    inner join changed_pairs as c on c.user_id = s.user_id and c.{{ key }} = s.{{ key }}
    group by s.user_id, s.{{ key }}
    having count(case when s.event_type = 'play' then 1 end) > 0

),

stored as (

    select t.*
    from {{ this }} as t
    where t.user_id in (select user_id from changed_pairs)

),

fallen as (

    select distinct st.user_id
    from stored as st
    inner join changed_pairs as c on c.user_id = st.user_id and c.{{ key }} = st.{{ key }}
    left join pair_totals as p on p.user_id = st.user_id and p.{{ key }} = st.{{ key }}
    where p.user_id is null
        or p.streams < st.streams
        or (p.streams = st.streams and p.minutes_listened < st.minutes_listened)

),

candidates as (

    select {{ columns }}
    from stored
    where user_id not in (select user_id from fallen)
        and not exists (
            select 1 from changed_pairs as c where c.user_id = stored.user_id and c.{{ key }} = stored.{{ key }}
        )
    union all
    select {{ columns }}
    from pair_totals
    where user_id not in (select user_id from fallen)
    union all
    select s.user_id, s.{{ key }}, {{ name_cols }}
        {{ counts }}
    from {{ ref('stg_spotify__events') }} as s
    where s.event_type = 'play' and s.user_id in (select user_id from fallen)
    group by s.user_id, s.{{ key }}

),
{% else %}
candidates as (

    select s.user_id, s.{{ key }}, {{ name_cols }}
        {{ counts }}
    from {{ ref('stg_spotify__events') }} as s
    where s.event_type = 'play'
    group by s.user_id, s.{{ key }}

),
{% endif %}

ranked as (

    select
        *,
        row_number() over (
            partition by user_id
            order by streams desc, minutes_listened desc, {{ key }}
        ) as rank
    from candidates

)

select user_id, rank, {{ key }}, {% for c in names %}{{ c }}, {% endfor %}streams, plays, minutes_listened
from ranked
where rank <= 5
{%- endmacro %}
