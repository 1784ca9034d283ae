/**
 * Data test nodes: generic tests (a `test_<name>` macro applied to a model, source or column from a
 * properties file) and singular tests (a SQL file under the test paths, outside `generic/`).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { checkConfig, mergeConfig, projectConfig } from './config.ts';
import { collectDependencies, withRenderScope } from './context.ts';
import { DbtCompilationError, callMacro, type JinjaEnv } from './jinja.ts';
import type { NodeConfig, Relation, RenderState, TestNode } from './nodes.ts';
import { listFiles, type YamlTestEntry } from './properties.ts';

/** dbt's generic test node name: <test>_<target>_<args flattened>, long names shortened with an md5. */
export function genericTestName(testName: string, targetName: string, args: Record<string, unknown>): string {
  const flat: string[] = [];
  for (const key of Object.keys(args).sort()) {
    if (key === 'model') continue;
    const v = args[key];
    const parts = Array.isArray(v) ? v : v && typeof v === 'object' ? Object.values(v) : [v];
    // Python's str(): booleans print as True/False in dbt's names.
    const text = (p: unknown): string => (typeof p === 'boolean' ? (p ? 'True' : 'False') : String(p));
    flat.push(...parts.map((p) => text(p).replace(/[^0-9a-zA-Z_]+/g, '_')));
  }
  const identifier = `${testName}_${targetName}`;
  const full = `${identifier}_${flat.join('__')}`;
  if (full.length < 64) return full;
  return `${identifier.slice(0, 30)}_${createHash('md5').update(full).digest('hex')}`;
}

/** What test nodes are built with: the project's name, its Jinja environment and render state. */
export interface TestContext {
  readonly projectName: string;
  readonly jinja: JinjaEnv;
  readonly state: RenderState;
  /** dbt_project.yml's `data_tests:` (or `tests:`) section. */
  readonly testDefaults: unknown;
  /** The directories of a properties file under its model path (dbt's test fqn), by file. */
  readonly dirsOf: (file: string) => string[];
}

/** The resource a generic test is attached to; its relation is read when the test renders. */
export interface TestTarget {
  readonly uniqueId: string;
  readonly name: string;
  readonly relation: () => Relation;
  /** The name dbt puts in the test's name: the model's, or `<source>_<table>`. */
  readonly testedName: string;
  readonly isSource: boolean;
}

/** A test argument that names a relation, such as relationships' `to: ref('x')`. */
const isRelationArg = (v: unknown): v is string => typeof v === 'string' && /^\s*(ref|source)\s*\(/.test(v);

/**
 * One generic test from a properties file entry; relation arguments are dependencies too. Its config, as
 * dbt layers it: config() in the test's definition, then dbt_project.yml's data_tests: down the test's
 * fqn (the properties file's directories, then the test's name), then the entry's config. Undefined when
 * the test is disabled.
 */
export function genericTest(
  ctx: TestContext,
  target: TestTarget,
  column: string | undefined,
  entry: YamlTestEntry,
  file: string,
): TestNode | undefined {
  const { jinja, projectName: name } = ctx;
  const macro = jinja.macros.get(`test_${entry.testName}`);
  if (!macro) {
    throw new DbtCompilationError(
      file,
      undefined,
      `unknown data test '${entry.testName}' (on ${target.name})`,
    );
  }
  const args: Record<string, unknown> = { ...entry.args };
  if (column !== undefined) args.column_name = column;
  const testName =
    entry.name ??
    genericTestName(target.isSource ? `source_${entry.testName}` : entry.testName, target.testedName, args);
  const hash = createHash('md5')
    .update(JSON.stringify([target.uniqueId, entry.testName, args]))
    .digest('hex')
    .slice(0, 10);
  const fqn = [...ctx.dirsOf(file), testName];
  const config = mergeConfig(projectConfig(ctx.testDefaults, name, fqn), entry.config);
  const renderRelationArg = (expr: string): { toString(): string } => {
    const text = jinja.renderString(file, `{{ ${expr} }}`);
    return { toString: () => text };
  };
  const test: TestNode = {
    resourceType: 'test',
    kind: 'generic',
    uniqueId: `test.${name}.${testName}.${hash}`,
    name: testName,
    file,
    fqn,
    config,
    attachedTo: target.uniqueId,
    testName: entry.testName,
    kwargs: args,
    ...(column === undefined ? {} : { columnName: column }),
    dependsOn: new Set([target.uniqueId]),
    render: () => {
      // dbt renders the model argument as `{{ get_where_subquery(<relation>) }}`: the project's override if
      // there is one (a macro of the project replaces dbt's of that name), else dbt's own (builtins.ts).
      const subquery = callMacro(jinja.macros.get('get_where_subquery'), {
        relation: target.relation(),
      });
      // As dbt's native rendering of it: the relation itself without a filter, the subquery's text with one.
      const model = typeof subquery === 'string' ? { toString: () => subquery.trim() } : subquery;
      const kwargs: Record<string, unknown> = { model };
      for (const [k, v] of Object.entries(args)) kwargs[k] = isRelationArg(v) ? renderRelationArg(v) : v;
      return String(callMacro(macro, kwargs));
    },
  };
  for (const v of Object.values(args)) {
    if (!isRelationArg(v)) continue;
    const collected = new Set<string>();
    withRenderScope(jinja, ctx.state, { node: test, execute: false, collected }, () =>
      jinja.renderString(file, `{{ ${v} }}`),
    );
    for (const dep of collected) test.dependsOn.add(dep);
  }
  // dbt renders the test's definition at parse time; its config() calls are the test's lowest-precedence config.
  const fromMacro: NodeConfig = { tags: [] };
  withRenderScope(jinja, ctx.state, { node: test, execute: false, configured: fromMacro }, test.render);
  test.config = mergeConfig(mergeConfig(fromMacro, projectConfig(ctx.testDefaults, name, fqn)), entry.config);
  if (test.config.enabled === false) return undefined;
  checkConfig('test', test.config, file, testName);
  return test;
}

/** Singular tests: the .sql files under the test paths outside `generic/`, parsed like models. */
export async function singularTests(
  ctx: TestContext,
  root: string,
  testPaths: readonly string[],
  rel: (file: string) => string,
): Promise<TestNode[]> {
  const { jinja, projectName: name } = ctx;
  const out: TestNode[] = [];
  for (const testPath of testPaths) {
    const base = path.join(root, testPath);
    for (const file of await listFiles(base, '.sql')) {
      if (path.relative(base, file).split(path.sep)[0] === 'generic') continue;
      const relFile = rel(file);
      const testName = path.basename(file, '.sql');
      const template = jinja.compile(relFile, await readFile(file, 'utf8'));
      const test: TestNode = {
        resourceType: 'test',
        kind: 'singular',
        uniqueId: `test.${name}.${testName}`,
        name: testName,
        file: relFile,
        fqn: [...path.relative(base, path.dirname(file)).split(path.sep).filter(Boolean), testName],
        config: projectConfig(ctx.testDefaults, name, [
          ...path.relative(base, path.dirname(file)).split(path.sep).filter(Boolean),
          testName,
        ]),
        dependsOn: new Set(),
        render: () => jinja.render(relFile, template),
      };
      const parsed = collectDependencies(jinja, ctx.state, test, undefined, () =>
        jinja.render(relFile, template),
      );
      test.dependsOn = parsed.dependsOn;
      test.config = parsed.config;
      if (test.config.enabled === false) continue;
      checkConfig('test', test.config, relFile, testName);
      out.push(test);
    }
  }
  return out;
}
