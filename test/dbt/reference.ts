/**
 * An independent computation of Silver and every Gold table in TypeScript, straight from the Bronze rows and
 * the definitions in docs/data-model.md (not from the warehouse), to compare with what dbt builds.
 */
import {
  artistSkipRates,
  countryMix,
  deviceMix,
  playsPerHour,
  songPopularityDistribution,
  songSkipRates,
  topArtistsDaily,
  topTracksDaily,
  userTopArtists,
  userTopTracks,
} from './reference-charts.ts';
import type { Row, SilverEvent } from './reference-core.ts';
import {
  artistStreaks,
  hourlyListeningPreferences,
  listeningSessions,
  userWrapped,
} from './reference-listeners.ts';

export { silver, type Row, type SilverEvent, type Value } from './reference-core.ts';

/** Every Gold table: its reference rows and its key columns (docs/data-model.md). */
export const GOLD: Readonly<
  Record<string, { compute: (e: readonly SilverEvent[]) => Row[]; key: readonly string[] }>
> = {
  plays_per_hour: { compute: playsPerHour, key: ['hour_start'] },
  top_tracks_daily: { compute: topTracksDaily, key: ['event_date', 'song_id'] },
  top_artists_daily: { compute: topArtistsDaily, key: ['event_date', 'artist_name'] },
  song_skip_rates: { compute: songSkipRates, key: ['song_id'] },
  artist_skip_rates: { compute: artistSkipRates, key: ['artist_name'] },
  device_mix: { compute: deviceMix, key: ['event_date', 'device_type'] },
  country_mix: { compute: countryMix, key: ['event_date', 'country'] },
  listening_sessions: { compute: listeningSessions, key: ['session_id'] },
  artist_streaks: { compute: artistStreaks, key: ['user_id', 'streak_start'] },
  hourly_listening_preferences: { compute: hourlyListeningPreferences, key: ['hour_of_day'] },
  song_popularity_distribution: { compute: songPopularityDistribution, key: ['bucket'] },
  user_wrapped: { compute: userWrapped, key: ['user_id'] },
  user_top_artists: { compute: userTopArtists, key: ['user_id', 'rank'] },
  user_top_tracks: { compute: userTopTracks, key: ['user_id', 'rank'] },
};
