/** `--help` of the local commands says what a user needs; a subcommand `mds local` does not have is an error. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../localstack/paths.ts';

const mds = (args: string[]) =>
  spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin/mds.mjs'), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });

/** The help text with its lines joined, so a phrase wrapped by the help formatter still matches. */
const help = (args: string[]) => {
  const res = mds([...args, '--help']);
  expect(res.status).toBe(0);
  return res.stdout.replace(/\s+/g, ' ');
};

describe('mds local up --help', () => {
  const text = help(['local', 'up']);
  it.each([
    ['port 0', /--broker-port <port> local Kafka broker port \(0 picks a free port\)/],
    ['port 0 (S3)', /--s3-port <port> local S3 server port \(0 picks a free port\)/],
    ['port 0 (dashboard)', /--dashboard-port <port> dashboard port \(0 picks a free port\)/],
    [
      'the --json fields',
      /events\.\* .*bronze\.\* .*stages\.<stage> .*functions\[\] .*assetHash.*overrides.*mapping/,
    ],
    ['the exit code', /Exit code: 0 only when every workflow run succeeded and the reconciliation holds/],
    ['a second instance', /A second mds process on the same --data is refused/],
    ['serving', /Without --once .* keeps landing .* the workflow runs when the environment's schedule fires/],
    [
      '--source spotify-api',
      /--source spotify-api polls every Spotify user connected in --data .*\(--api-base-url, --accounts-base-url/,
    ],
    [
      '--assembly',
      /a folder with no assembly, or one older than a source file, stops before anything starts/,
    ],
  ])('%s', (_what, phrase) => {
    expect(text).toMatch(phrase);
  });
});

describe('mds run --help', () => {
  const text = help(['run']);
  it.each([
    ['the refused windows', /an END before or at START, an END in the future .* an instant off the hour/],
    ['idempotence', /re-running a window loads nothing twice/],
    ['port 0', /\(0 picks a free port\)/],
    ['the exit code', /Exit code: 0 when the run succeeded, 1 when it failed/],
  ])('%s', (_what, phrase) => {
    expect(text).toMatch(phrase);
  });
});

describe('mds local clean --help', () => {
  it('says it refuses while a pipeline uses the directory', () => {
    expect(help(['local', 'clean'])).toMatch(/While an mds process holds that directory .* removes nothing/);
  });
});

describe('an unknown local subcommand', () => {
  it.each([[['local', 'run', '--help']], [['local', 'nope']]])(
    'mds %j is an error, not the help of mds local',
    (args) => {
      const res = mds(args);
      expect(res.status).toBe(2);
      expect(res.stdout).toBe('');
      expect(res.stderr.trim()).toMatch(
        /^mds: unknown command 'local \w+'; the local commands are 'local up', 'local clean'$/,
      );
    },
  );
});
