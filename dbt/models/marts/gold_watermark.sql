{#
    Incremental Gold's watermark (macro gold_watermark): the newest loaded_at of Silver that Gold has built
    from. It depends on every incremental mart (the depends_on lines below), so dbt builds it last and skips it
    when one of them, or one of their tests, fails: the next run then redoes the changes again. A mart made
    incremental is listed here (test/dbt/incremental-gold.test.ts checks that none is missing).
#}
-- depends_on: {{ ref('device_mix') }}
-- depends_on: {{ ref('user_wrapped_top') }}
-- depends_on: {{ ref('user_wrapped_clock') }}
select
    max(loaded_at) as loaded_through,
    count(*) as silver_events
from {{ ref('stg_spotify__events') }}
