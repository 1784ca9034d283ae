/**
 * Node selection as dbt 1.10 does it (dbt-core graph/selector_methods.py and selector_spec.py): the default
 * method is fqn (a leaf name, or a dotted prefix of the fqn, with Python fnmatch wildcards), graph operators
 * `+`, `N+`, `+N`, `@`; a criterion that matches nothing is a warning, and an empty selection does nothing
 * and exits 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from './project.ts';

let box: Sandbox;
beforeAll(async () => {
  // stg_a -> m -> n -> o, and stg_a -> other.
  box = await sandbox();
});
afterAll(async () => box?.close());

const models = async (select: string[]): Promise<string[]> => {
  const result = await box.run('run', { select });
  return result.runResults.results.map((r) => r.unique_id.replace('model.conf.', '')).sort();
};

describe('selectors', () => {
  it.each([
    [['m'], ['m']],
    [['2+o'], ['m', 'n', 'o']],
    [['+o'], ['m', 'n', 'o', 'stg_a']],
    [['m+1'], ['m', 'n']],
    [['m+'], ['m', 'n', 'o']],
    [['@n'], ['m', 'n', 'o', 'stg_a']],
    [['marts.m'], ['m']],
    [['marts'], ['m', 'n', 'o']],
    [['conf.marts.n'], ['n']],
    [['staging.stg_*'], ['stg_a']],
    [['marts.*'], ['m', 'n', 'o']],
    [['path:models/marts'], ['m', 'n', 'o']],
    [
      ['m', 'other'],
      ['m', 'other'],
    ],
    [['+o,marts'], ['m', 'n', 'o']],
  ])('%j selects %j', async (select, expected) => {
    expect(await models(select)).toEqual(expected);
  });

  it("'stg_*' matches nothing, as in dbt (the fqn conf.staging.stg_a does not start with stg_): a warning, exit 0", async () => {
    box.lines.length = 0;
    const result = await box.run('run', { select: ['stg_*'] });
    expect(result.success).toBe(true);
    expect(result.runResults.results).toEqual([]);
    expect(box.lines.join('\n')).toMatch(
      /\[WARNING\]: The selection criterion 'stg_\*' does not match any enabled nodes[\s\S]*Nothing to do/,
    );
  });

  it('an empty selection (dbt build -s nothing) warns, runs nothing and succeeds', async () => {
    box.lines.length = 0;
    const result = await box.run('build', { select: ['nothing'] });
    expect(result.success).toBe(true);
    expect(result.runResults.results).toEqual([]);
    expect(box.lines.join('\n')).toMatch(
      /The selection criterion 'nothing' does not match any enabled nodes/,
    );
  });

  it('an unknown selector method is a usage error naming it', async () => {
    await expect(box.run('run', { select: ['state:modified'] })).rejects.toThrow(
      /unsupported selector method 'state:'/,
    );
  });
});
