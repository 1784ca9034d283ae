/**
 * An independent computation of Silver and every Gold table in TypeScript, straight from the Bronze rows and
 * the definitions in docs/data-model.md (not from the warehouse), to compare with what dbt builds.
 */
import {
  artistDays,
  artistSkipRates,
  countryMix,
  deviceMix,
  playsPerHour,
  songPopularityDistribution,
  songSkipRates,
  topArtistsDaily,
  topTracksDaily,
  trackDays,
  userTopArtists,
  userTopTracks,
} from './reference-charts.ts';
import type { Row, SilverEvent } from './reference-core.ts';
import {
  albumCompletion,
  artistDayStreaks,
  artistStreaks,
  dimListeners,
  hourlyListeningPreferences,
  listenerDays,
  listenerEvents,
  listeningClock,
  listeningSessions,
  trackCatalog,
  userWrapped,
  userWrappedClock,
  userWrappedTop,
  wrappedEvents,
} from './reference-listeners.ts';

export { silver, type Row, type SilverEvent, type Value } from './reference-core.ts';

/** Every Gold table: its reference rows and its key columns (docs/data-model.md). */
export const GOLD: Readonly<
  Record<string, { compute: (e: readonly SilverEvent[]) => Row[]; key: readonly string[] }>
> = {
  plays_per_hour: { compute: playsPerHour, key: ['hour_start'] },
  track_days: { compute: trackDays, key: ['event_date', 'song_id'] },
  artist_days: { compute: artistDays, key: ['event_date', 'artist_name'] },
  top_tracks_daily: { compute: topTracksDaily, key: ['event_date', 'song_id'] },
  top_artists_daily: { compute: topArtistsDaily, key: ['event_date', 'artist_name'] },
  song_skip_rates: { compute: songSkipRates, key: ['song_id'] },
  artist_skip_rates: { compute: artistSkipRates, key: ['artist_name'] },
  device_mix: { compute: deviceMix, key: ['event_date', 'device_type'] },
  country_mix: { compute: countryMix, key: ['event_date', 'country'] },
  dim_listeners: { compute: dimListeners, key: ['user_id'] },
  listener_events: { compute: listenerEvents, key: ['event_id'] },
  listening_sessions: { compute: listeningSessions, key: ['session_id'] },
  artist_streaks: { compute: artistStreaks, key: ['user_id', 'streak_start'] },
  artist_day_streaks: { compute: artistDayStreaks, key: ['user_id', 'artist_name', 'streak_start_date'] },
  listener_days: { compute: listenerDays, key: ['user_id', 'local_date'] },
  listening_clock: { compute: listeningClock, key: ['local_weekday', 'local_hour'] },
  hourly_listening_preferences: { compute: hourlyListeningPreferences, key: ['hour_of_day'] },
  song_popularity_distribution: { compute: songPopularityDistribution, key: ['bucket'] },
  wrapped_events: { compute: wrappedEvents, key: ['period', 'event_id'] },
  user_wrapped: { compute: userWrapped, key: ['user_id', 'period'] },
  user_wrapped_top: { compute: userWrappedTop, key: ['user_id', 'period', 'kind', 'rank'] },
  user_wrapped_clock: { compute: userWrappedClock, key: ['user_id', 'period', 'local_hour'] },
  track_catalog: { compute: trackCatalog, key: ['artist_name', 'album_name', 'song_id'] },
  album_completion: { compute: albumCompletion, key: ['user_id', 'artist_name', 'album_name'] },
  user_top_artists: { compute: userTopArtists, key: ['user_id', 'rank'] },
  user_top_tracks: { compute: userTopTracks, key: ['user_id', 'rank'] },
};
