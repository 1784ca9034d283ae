{#
    Songs with at least one play in percentile bands of all-time streams. A song's band is set by how many
    songs have strictly more streams than it: fewer than 1% of the songs -> 'top 1%', fewer than 5% ->
    'top 1-5%', and so on. Songs with equal streams are in the same band (ties go to the higher band), so a
    band may hold more or fewer songs than its nominal share. Only bands that hold songs.
#}
{% set bands = [
    ['top 1%', 1],
    ['top 1-5%', 5],
    ['top 5-20%', 20],
    ['top 20-50%', 50]
] %}

with song_streams as (

    -- All-time plays and streams per song (song_skip_rates): a table of the songs, not of the events, so a
    -- full build of this mart costs the catalog, not the history.
    select song_id, plays, streams
    from {{ ref('song_skip_rates') }}
    where plays > 0

),

ranked as (

    select
        plays,
        streams,
        -- rank() - 1: the songs with strictly more streams; integer comparisons, no rounding at an edge.
        rank() over (order by streams desc) - 1 as songs_above,
        count(*) over () as songs_total
    from song_streams

),

banded as (

    select
        case
            {%- for label, percent in bands %}
            when 100 * songs_above < {{ percent }} * songs_total then '{{ label }}'
            {%- endfor %}
            else 'bottom 50%'
        end as bucket,
        case
            {%- for label, percent in bands %}
            when 100 * songs_above < {{ percent }} * songs_total then {{ loop.index }}
            {%- endfor %}
            else {{ bands | length + 1 }}
        end as bucket_order,
        plays,
        streams
    from ranked

)

select
    bucket,
    bucket_order,
    count(*) as songs,
    cast(sum(streams) as bigint) as streams,
    cast(sum(plays) as bigint) as plays,
    cast(sum(streams) as double precision) / nullif(sum(sum(streams)) over (), 0) as share_of_streams,
    cast(sum(plays) as double precision) / sum(sum(plays)) over () as share_of_plays
from banded
group by bucket, bucket_order
