/** The Spotify poller's environment: written by the SpotifyPoller construct, read on the first invocation. */
import { envContract, envEnum, envInt, envString } from '../core/env.ts';
import { KAFKA_AUTH } from '../core/kafka.ts';
import { DEFAULT_ACCOUNTS_BASE_URL, DEFAULT_API_BASE_URL } from '../core/spotify/client.ts';

const url = (description: string, fallback: string) => ({
  description,
  fallback,
  parse: (text: string): string => {
    if (!/^https?:\/\/[^\s/]+/.test(text)) throw 'is not an http(s) URL';
    return text.replace(/\/+$/, '');
  },
});

export const pollerEnv = envContract('the Spotify poller function', {
  KAFKA_BROKERS: envString('the comma-separated host:port list of the brokers'),
  KAFKA_TOPIC: envString('the topic the plays go to', 'spotify-events'),
  KAFKA_AUTH,
  AWS_REGION: envString('the region MSK IAM tokens are signed for (set by Lambda)', ''),
  SPOTIFY_API_BASE_URL: url('the Spotify Web API base URL (spotify.poller.apiBaseUrl)', DEFAULT_API_BASE_URL),
  SPOTIFY_ACCOUNTS_BASE_URL: url(
    'the Spotify Accounts service base URL (spotify.poller.accountsBaseUrl)',
    DEFAULT_ACCOUNTS_BASE_URL,
  ),
  /**
   * Where the cursors and tokens live: `aws` (the DynamoDB table and the Secrets Manager secrets, as
   * deployed) or `file` (the local data directory; the local runtime's named override for `mds spotify poll`).
   */
  SPOTIFY_STATE_STORE: envEnum(
    'aws (DynamoDB and Secrets Manager) or file (a local data directory)',
    ['aws', 'file'],
    'aws',
  ),
  SPOTIFY_DATA_DIR: envString('the local data directory, with SPOTIFY_STATE_STORE=file', ''),
  CURSOR_TABLE: envString('the DynamoDB table of the cursors, with SPOTIFY_STATE_STORE=aws', ''),
  CLIENT_SECRET_ID: envString(
    'the Secrets Manager secret of the client id and secret, with SPOTIFY_STATE_STORE=aws',
    '',
  ),
  TOKENS_SECRET_ID: envString(
    'the Secrets Manager secret of the refresh tokens, with SPOTIFY_STATE_STORE=aws',
    '',
  ),
  TIME_MARGIN_SECONDS: envInt('the seconds of an invocation kept free of waiting for Spotify', 0, 600, 15),
});
