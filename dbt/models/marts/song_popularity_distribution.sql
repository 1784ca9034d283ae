{# How many songs fall in each band of total plays; only bands that hold songs. #}
{% set buckets = [
    ['1', 1, 1],
    ['2-5', 2, 5],
    ['6-10', 6, 10],
    ['11-50', 11, 50],
    ['51-100', 51, 100],
    ['101-500', 101, 500]
] %}

with song_plays as (

    select
        song_id,
        count(*) as plays
    from {{ ref('stg_spotify__events') }}
    where event_type = 'play'
    group by song_id

),

bucketed as (

    select
        case
            {%- for label, low, high in buckets %}
            when plays between {{ low }} and {{ high }} then '{{ label }}'
            {%- endfor %}
            else '501+'
        end as bucket,
        case
            {%- for label, low, high in buckets %}
            when plays between {{ low }} and {{ high }} then {{ loop.index }}
            {%- endfor %}
            else {{ buckets | length + 1 }}
        end as bucket_order,
        plays
    from song_plays

)

select
    bucket,
    bucket_order,
    count(*) as songs,
    cast(sum(plays) as bigint) as plays,
    cast(sum(plays) as double precision) / sum(sum(plays)) over () as share_of_plays
from bucketed
group by bucket, bucket_order
