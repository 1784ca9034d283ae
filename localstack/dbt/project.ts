/**
 * Reads a dbt project the way dbt parses it: dbt_project.yml, the properties YAML files, models, singular
 * and generic tests, macros; renders every node once with execute = false to collect refs, sources and
 * config(); resolves each model's schema by calling the project's generate_schema_name macro.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type nunjucks from 'nunjucks';
import YAML from 'yaml';
import { BUILTIN_MACROS } from './builtins.ts';
import { DbtCompilationError, JinjaEnv, callMacro, splitKwargs } from './jinja.ts';

export type Materialization = 'view' | 'table' | 'incremental';
export type Severity = 'error' | 'warn';

export interface NodeConfig {
  materialized?: string;
  schema?: string | null;
  alias?: string;
  tags: string[];
  unique_key?: string | string[];
  on_schema_change?: string;
  enabled?: boolean;
  severity?: Severity;
  where?: string;
  [key: string]: unknown;
}

export class Relation {
  constructor(
    readonly schema: string,
    readonly identifier: string,
  ) {}
  get name(): string {
    return this.identifier;
  }
  toString(): string {
    return `"${this.schema}"."${this.identifier}"`;
  }
}

interface BaseNode {
  readonly uniqueId: string;
  readonly name: string;
  /** Path relative to the project root. */
  readonly file: string;
  /** unique_ids of the models and sources this node reads. */
  dependsOn: Set<string>;
  config: NodeConfig;
}

export interface ModelNode extends BaseNode {
  readonly resourceType: 'model';
  readonly template: nunjucks.Template;
  /** Directory parts under models/ and the file stem: what dbt_project.yml config paths match. */
  readonly fqn: string[];
  relation: Relation;
}

export interface TestNode extends BaseNode {
  readonly resourceType: 'test';
  readonly kind: 'generic' | 'singular';
  /** Singular: the test file; generic: the macro call rendered at execution. */
  readonly render: () => string;
  /** The model (or source) the test is attached to, for messages and selection. */
  readonly attachedTo?: string;
}

export interface SourceNode {
  readonly resourceType: 'source';
  readonly uniqueId: string;
  readonly name: string;
  readonly sourceName: string;
  readonly file: string;
  readonly relation: Relation;
  readonly loadedAtField?: string;
  readonly freshness?: FreshnessSpec | null;
  readonly tags: string[];
}

export interface FreshnessRule {
  readonly count: number;
  readonly period: 'minute' | 'hour' | 'day';
}
export interface FreshnessSpec {
  readonly warn_after?: FreshnessRule;
  readonly error_after?: FreshnessRule;
  readonly filter?: string;
}

export type ExecNode = ModelNode | TestNode;

export interface Project {
  readonly name: string;
  readonly root: string;
  readonly vars: Record<string, unknown>;
  readonly targetSchema: string;
  readonly models: Map<string, ModelNode>;
  readonly tests: Map<string, TestNode>;
  readonly sources: Map<string, SourceNode>;
  readonly jinja: JinjaEnv;
  /** What the context functions see while a node renders. */
  readonly state: RenderState;
}

export interface RenderState {
  node?: ExecNode;
  execute: boolean;
  isIncremental: boolean;
  /** Set while parsing: refs and sources found. */
  collected?: Set<string>;
  /** Set while parsing: config() calls found. */
  configured?: NodeConfig;
}

const CONFIG_KEYS = new Set([
  'materialized',
  'schema',
  'alias',
  'tags',
  'unique_key',
  'on_schema_change',
  'enabled',
  'severity',
  'where',
  'incremental_strategy',
  'database',
  'docs',
  'meta',
  'persist_docs',
  'full_refresh',
  'store_failures',
  'warn_if',
  'error_if',
  'limit',
]);

export interface LoadOptions {
  readonly projectDir: string;
  readonly vars?: Readonly<Record<string, unknown>>;
  readonly targetSchema?: string;
  /** Where `{{ log(msg, info=True) }}` writes. */
  readonly log?: (line: string) => void;
}

async function listFiles(dir: string, ext: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(ext))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

function asArray(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

/** Applies one level of dbt_project.yml config (`+key` or a known key) onto `into`; tags add up. */
function applyConfig(into: NodeConfig, level: Record<string, unknown>): void {
  for (const [rawKey, value] of Object.entries(level)) {
    const key = rawKey.startsWith('+') ? rawKey.slice(1) : rawKey;
    if (!rawKey.startsWith('+') && !CONFIG_KEYS.has(key)) continue;
    if (key === 'tags') into.tags = [...into.tags, ...asArray(value)];
    else into[key] = value;
  }
}

/** The config dbt_project.yml gives a resource at `fqn` (most specific path last, so it wins). */
function projectConfig(section: unknown, projectName: string, fqn: readonly string[]): NodeConfig {
  const config: NodeConfig = { tags: [] };
  let level = (section as Record<string, unknown> | undefined)?.[projectName] as
    Record<string, unknown> | undefined;
  if (!level) return config;
  applyConfig(config, level);
  for (const part of fqn) {
    const next = level[part];
    if (!next || typeof next !== 'object' || Array.isArray(next)) break;
    level = next as Record<string, unknown>;
    applyConfig(config, level);
  }
  return config;
}

function mergeConfig(base: NodeConfig, override: Record<string, unknown> | undefined): NodeConfig {
  if (!override) return base;
  const out: NodeConfig = { ...base, tags: [...base.tags] };
  for (const [key, value] of Object.entries(override)) {
    if (key === 'tags') out.tags = [...out.tags, ...asArray(value)];
    else out[key] = value;
  }
  return out;
}

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

interface YamlTestEntry {
  readonly testName: string;
  readonly args: Record<string, unknown>;
  readonly config: Record<string, unknown>;
}

function parseTestEntry(entry: unknown, file: string): YamlTestEntry {
  if (typeof entry === 'string') return { testName: entry, args: {}, config: {} };
  if (entry && typeof entry === 'object' && Object.keys(entry).length === 1) {
    const [testName, body] = Object.entries(entry)[0] as [string, Record<string, unknown> | null];
    const { config, arguments: explicitArgs, name: _name, where, severity, ...args } = body ?? {};
    const testConfig: Record<string, unknown> = { ...(config as Record<string, unknown> | undefined) };
    if (where !== undefined) testConfig.where = where;
    if (severity !== undefined) testConfig.severity = severity;
    return {
      testName,
      args: { ...args, ...(explicitArgs as Record<string, unknown> | undefined) },
      config: testConfig,
    };
  }
  throw new DbtCompilationError(file, undefined, `invalid data test entry ${JSON.stringify(entry)}`);
}

export async function loadProject(options: LoadOptions): Promise<Project> {
  const root = path.resolve(options.projectDir);
  const rel = (p: string): string => path.relative(root, p).split(path.sep).join('/');
  let projectYml: Record<string, unknown>;
  try {
    projectYml = YAML.parse(await readFile(path.join(root, 'dbt_project.yml'), 'utf8')) as Record<
      string,
      unknown
    >;
  } catch (err) {
    throw new DbtCompilationError('dbt_project.yml', undefined, `cannot read the project: ${String(err)}`, {
      cause: err,
    });
  }
  const name = String(projectYml.name);
  const modelPaths = asArray(projectYml['model-paths'] ?? ['models']);
  const macroPaths = asArray(projectYml['macro-paths'] ?? ['macros']);
  const testPaths = asArray(projectYml['test-paths'] ?? ['tests']);
  const projectVars = (projectYml.vars ?? {}) as Record<string, unknown>;
  // Project vars may be global or scoped to the project name; command-line vars override both.
  const scoped = projectVars[name];
  const vars: Record<string, unknown> = {
    ...projectVars,
    ...(scoped && typeof scoped === 'object' ? (scoped as Record<string, unknown>) : {}),
    ...options.vars,
  };
  const targetSchema = options.targetSchema ?? 'main';

  const state: RenderState = { execute: false, isIncremental: false };
  const models = new Map<string, ModelNode>();
  const sources = new Map<string, SourceNode>();
  const tests = new Map<string, TestNode>();
  const modelByName = new Map<string, ModelNode>();

  const currentFile = (): string => state.node?.file ?? '<project>';
  const jinja = new JinjaEnv({
    ref: (...args: unknown[]) => {
      const { positional } = splitKwargs(args);
      const modelName = String(positional[positional.length - 1]);
      const model = modelByName.get(modelName);
      if (!model) {
        throw new DbtCompilationError(
          currentFile(),
          undefined,
          `${state.node?.resourceType ?? 'node'} '${state.node?.name ?? '?'}' depends on a node named '${modelName}' which was not found`,
        );
      }
      state.collected?.add(model.uniqueId);
      return model.relation;
    },
    source: (sourceName: string, tableName: string) => {
      const source = sources.get(`source.${name}.${sourceName}.${tableName}`);
      if (!source) {
        throw new DbtCompilationError(
          currentFile(),
          undefined,
          `'${state.node?.name ?? '?'}' depends on a source named '${sourceName}.${tableName}' which was not found`,
        );
      }
      state.collected?.add(source.uniqueId);
      return source.relation;
    },
    config: (...args: unknown[]) => {
      const { positional, kwargs } = splitKwargs(args);
      const values = { ...(positional[0] as Record<string, unknown> | undefined), ...kwargs };
      if (state.configured) Object.assign(state.configured, mergeConfig(state.configured, values));
      return '';
    },
    var: (varName: string, ...rest: unknown[]) => {
      if (varName in vars) return vars[varName];
      if (rest.length > 0) return rest[0];
      throw new DbtCompilationError(
        currentFile(),
        undefined,
        `Required var '${varName}' not found in config`,
      );
    },
    env_var: (varName: string, ...rest: unknown[]) => {
      const value = process.env[varName];
      if (value !== undefined) return value;
      if (rest.length > 0) return rest[0];
      throw new DbtCompilationError(
        currentFile(),
        undefined,
        `Env var required but not provided: '${varName}'`,
      );
    },
    is_incremental: () => state.isIncremental,
    // dbt's log(msg, info=False): info messages go to the progress output, the others only to dbt's log file.
    log: (...args: unknown[]) => {
      const { positional, kwargs } = splitKwargs(args);
      if (positional[1] === true || kwargs.info === true) options.log?.(String(positional[0]));
      return '';
    },
    exceptions: {
      raise_compiler_error: (msg: unknown) => {
        throw new DbtCompilationError(currentFile(), undefined, String(msg));
      },
    },
    target: { name: 'duckdb', type: 'duckdb', schema: targetSchema, profile_name: name, threads: 1 },
    project_name: name,
    adapter: {
      dispatch: (...args: unknown[]) => {
        const { positional, kwargs } = splitKwargs(args);
        const macroName = String(positional[0]);
        const namespace = positional[1] ?? kwargs.macro_namespace;
        if (namespace !== undefined && namespace !== null && namespace !== name && namespace !== 'dbt') {
          throw new DbtCompilationError(
            currentFile(),
            undefined,
            `adapter.dispatch: unknown namespace '${String(namespace)}'`,
          );
        }
        for (const candidate of [`duckdb__${macroName}`, `default__${macroName}`]) {
          const macro = jinja.macros.get(candidate);
          if (macro) return macro;
        }
        throw new DbtCompilationError(
          currentFile(),
          undefined,
          `adapter.dispatch('${macroName}'): no macro duckdb__${macroName} or default__${macroName}`,
        );
      },
    },
  });
  jinja.setGlobal('execute', false);

  // Built-in macros first, so a project macro of the same name overrides it (as in dbt).
  for (const [file, source] of Object.entries(BUILTIN_MACROS)) jinja.loadMacros(file, source);
  const macroFiles = [
    ...(await Promise.all(macroPaths.map((p) => listFiles(path.join(root, p), '.sql')))).flat(),
    ...(await Promise.all(testPaths.map((p) => listFiles(path.join(root, p, 'generic'), '.sql')))).flat(),
  ];
  for (const file of macroFiles) jinja.loadMacros(rel(file), await readFile(file, 'utf8'));

  // Properties files: sources, model properties (config, tests).
  const yamlFiles = (await Promise.all(modelPaths.map((p) => listFiles(path.join(root, p), '.yml')))).flat();
  const modelProps = new Map<string, { file: string; props: Record<string, unknown> }>();
  const sourceTests: { source: SourceNode; column?: string; entry: YamlTestEntry; file: string }[] = [];
  for (const file of yamlFiles) {
    const doc = (YAML.parse(await readFile(file, 'utf8')) ?? {}) as Record<string, unknown>;
    for (const src of (doc.sources ?? []) as Record<string, unknown>[]) {
      for (const table of (src.tables ?? []) as Record<string, unknown>[]) {
        const sourceName = String(src.name);
        const tableName = String(table.name);
        const node: SourceNode = {
          resourceType: 'source',
          uniqueId: `source.${name}.${sourceName}.${tableName}`,
          name: tableName,
          sourceName,
          file: rel(file),
          relation: new Relation(String(src.schema ?? sourceName), String(table.identifier ?? tableName)),
          loadedAtField: (table.loaded_at_field ?? src.loaded_at_field) as string | undefined,
          freshness: (table.freshness !== undefined
            ? table.freshness
            : src.freshness) as FreshnessSpec | null,
          tags: asArray(src.tags),
        };
        sources.set(node.uniqueId, node);
        for (const entry of [...asArrayOf(table.data_tests), ...asArrayOf(table.tests)]) {
          sourceTests.push({ source: node, entry: parseTestEntry(entry, rel(file)), file: rel(file) });
        }
        for (const col of (table.columns ?? []) as Record<string, unknown>[]) {
          for (const entry of [...asArrayOf(col.data_tests), ...asArrayOf(col.tests)]) {
            sourceTests.push({
              source: node,
              column: String(col.name),
              entry: parseTestEntry(entry, rel(file)),
              file: rel(file),
            });
          }
        }
      }
    }
    for (const m of (doc.models ?? []) as Record<string, unknown>[]) {
      modelProps.set(String(m.name), { file: rel(file), props: m });
    }
  }

  // Models: compile each template now so a syntax error stops the run before anything executes (as in dbt).
  for (const modelPath of modelPaths) {
    const base = path.join(root, modelPath);
    for (const file of await listFiles(base, '.sql')) {
      const relFile = rel(file);
      const fqn = [...path.relative(base, file).split(path.sep)];
      fqn[fqn.length - 1] = path.basename(file, '.sql');
      const modelName = fqn[fqn.length - 1] as string;
      if (modelByName.has(modelName)) {
        throw new DbtCompilationError(relFile, undefined, `two models are named '${modelName}'`);
      }
      const template = jinja.compile(relFile, await readFile(file, 'utf8'));
      const config = mergeConfig(
        projectConfig(projectYml.models, name, fqn),
        modelProps.get(modelName)?.props.config as Record<string, unknown> | undefined,
      );
      const model: ModelNode = {
        resourceType: 'model',
        uniqueId: `model.${name}.${modelName}`,
        name: modelName,
        file: relFile,
        fqn,
        template,
        config,
        dependsOn: new Set(),
        relation: new Relation(targetSchema, modelName),
      };
      modelByName.set(modelName, model);
      models.set(model.uniqueId, model);
    }
  }
  for (const [modelName, { file }] of modelProps) {
    if (!modelByName.has(modelName)) {
      throw new DbtCompilationError(
        file,
        undefined,
        `properties for model '${modelName}', which does not exist`,
      );
    }
  }

  const project: Project = { name, root, vars, targetSchema, models, tests, sources, jinja, state };

  // Parse render: collect refs, sources and config(); is_incremental() is false and execute is false, as in dbt.
  for (const model of models.values()) {
    state.node = model;
    state.collected = new Set();
    state.configured = { ...model.config, tags: [...model.config.tags] };
    jinja.setGlobal('this', model.relation);
    jinja.render(model.file, model.template);
    model.dependsOn = state.collected;
    model.config = state.configured;
  }
  state.collected = undefined;
  state.configured = undefined;
  state.node = undefined;

  for (const model of models.values()) {
    if (model.config.enabled === false) models.delete(model.uniqueId);
  }
  // Schemas come from the project's generate_schema_name macro, called as dbt calls it.
  const generateSchemaName = jinja.macros.get('generate_schema_name');
  for (const model of models.values()) {
    const custom = model.config.schema ?? null;
    const schema = String(
      callMacro(generateSchemaName, {
        custom_schema_name: custom,
        node: { name: model.name, fqn: model.fqn },
      }),
    ).trim();
    const alias = model.config.alias ?? model.name;
    model.relation = new Relation(schema, alias);
  }

  // Generic tests from model properties and sources.
  const testDefaults = (projectYml.data_tests ?? projectYml.tests) as Record<string, unknown> | undefined;
  const addGeneric = (
    target: { uniqueId: string; name: string; relation: () => Relation },
    targetName: string,
    column: string | undefined,
    entry: YamlTestEntry,
    file: string,
    sourceTest: boolean,
  ): void => {
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
    const testName = genericTestName(
      sourceTest ? `source_${entry.testName}` : entry.testName,
      targetName,
      args,
    );
    const hash = createHash('md5')
      .update(JSON.stringify([target.uniqueId, entry.testName, args]))
      .digest('hex')
      .slice(0, 10);
    const config = mergeConfig(projectConfig(testDefaults, name, []), entry.config);
    const test: TestNode = {
      resourceType: 'test',
      kind: 'generic',
      uniqueId: `test.${name}.${testName}.${hash}`,
      name: testName,
      file,
      config,
      attachedTo: target.uniqueId,
      dependsOn: new Set([target.uniqueId]),
      render: () => {
        const relation = target.relation();
        const model = config.where
          ? {
              toString: () =>
                `(select * from ${relation.toString()} where ${String(config.where)}) dbt_subquery`,
            }
          : relation;
        const kwargs: Record<string, unknown> = { model };
        for (const [k, v] of Object.entries(args)) {
          kwargs[k] = typeof v === 'string' && /^\s*(ref|source)\s*\(/.test(v) ? renderRelationArg(v) : v;
        }
        return String(callMacro(macro, kwargs));
      },
    };
    // Relation arguments (relationships' `to`) are dependencies too.
    for (const v of Object.values(args)) {
      if (typeof v === 'string' && /^\s*(ref|source)\s*\(/.test(v)) {
        state.collected = new Set();
        state.node = test;
        jinja.renderString(file, `{{ ${v} }}`);
        for (const dep of state.collected) test.dependsOn.add(dep);
        state.collected = undefined;
        state.node = undefined;
      }
    }
    tests.set(test.uniqueId, test);
  };
  const renderRelationArg = (expr: string): { toString(): string } => {
    const node = state.node;
    const text = jinja.renderString(node?.file ?? '<test>', `{{ ${expr} }}`);
    return { toString: () => text };
  };

  for (const { source, column, entry, file } of sourceTests) {
    addGeneric(
      { uniqueId: source.uniqueId, name: source.name, relation: () => source.relation },
      `${source.sourceName}_${source.name}`,
      column,
      entry,
      file,
      true,
    );
  }
  for (const [modelName, { file, props }] of modelProps) {
    const model = modelByName.get(modelName) as ModelNode;
    if (!models.has(model.uniqueId)) continue;
    const target = { uniqueId: model.uniqueId, name: model.name, relation: () => model.relation };
    for (const entry of [...asArrayOf(props.data_tests), ...asArrayOf(props.tests)]) {
      addGeneric(target, modelName, undefined, parseTestEntry(entry, file), file, false);
    }
    for (const col of (props.columns ?? []) as Record<string, unknown>[]) {
      for (const entry of [...asArrayOf(col.data_tests), ...asArrayOf(col.tests)]) {
        addGeneric(target, modelName, String(col.name), parseTestEntry(entry, file), file, false);
      }
    }
  }

  // Singular tests: tests/*.sql outside tests/generic.
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
        config: projectConfig(testDefaults, name, [testName]),
        dependsOn: new Set(),
        render: () => jinja.render(relFile, template),
      };
      state.node = test;
      state.collected = new Set();
      state.configured = test.config;
      jinja.setGlobal('this', undefined);
      jinja.render(relFile, template);
      test.dependsOn = state.collected;
      test.config = state.configured;
      tests.set(test.uniqueId, test);
    }
  }
  state.collected = undefined;
  state.configured = undefined;
  state.node = undefined;
  return project;
}

function asArrayOf(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
