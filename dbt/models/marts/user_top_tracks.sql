{# Each user's five most streamed songs: by streams, then minutes listened (descending), then song_id;
    every song the user played is ranked, streamed or not, so a user with a play has a top song.
    Incremental on the listeners of changed Silver rows (macro listener_top_five). #}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='user_id', on_schema_change='fail') }}

{{ listener_top_five('song_id', ['song_name', 'artist_name']) }}
