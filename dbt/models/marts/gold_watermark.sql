{#
    Incremental Gold's watermark (macro gold_watermark): merged_through, the newest merged_at of Silver that
    Gold has built from (loaded_through: its newest loaded_at). It depends on every incremental mart (the
    depends_on lines below), so dbt builds it last and skips it when one of them, or one of their tests, fails:
    the next run then redoes the changes again. A mart made incremental is listed here
    (test/dbt/incremental-gold.test.ts checks that none is missing).
#}
-- depends_on: {{ ref('album_completion') }}
-- depends_on: {{ ref('artist_day_streaks') }}
-- depends_on: {{ ref('artist_days') }}
-- depends_on: {{ ref('artist_streaks') }}
-- depends_on: {{ ref('artist_skip_rates') }}
-- depends_on: {{ ref('country_mix') }}
-- depends_on: {{ ref('device_mix') }}
-- depends_on: {{ ref('hourly_listening_preferences') }}
-- depends_on: {{ ref('listener_days') }}
-- depends_on: {{ ref('listener_events') }}
-- depends_on: {{ ref('listening_sessions') }}
-- depends_on: {{ ref('plays_per_hour') }}
-- depends_on: {{ ref('song_skip_rates') }}
-- depends_on: {{ ref('top_artists_daily') }}
-- depends_on: {{ ref('top_tracks_daily') }}
-- depends_on: {{ ref('track_catalog') }}
-- depends_on: {{ ref('track_days') }}
-- depends_on: {{ ref('user_top_artists') }}
-- depends_on: {{ ref('user_top_tracks') }}
-- depends_on: {{ ref('user_wrapped') }}
-- depends_on: {{ ref('user_wrapped_clock') }}
-- depends_on: {{ ref('user_wrapped_top') }}
select
    max(merged_at) as merged_through,
    max(loaded_at) as loaded_through,
    count(*) as silver_events
from {{ ref('stg_spotify__events') }}
