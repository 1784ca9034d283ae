/**
 * Reads a dbt project the way dbt parses it: dbt_project.yml, the properties YAML files, models, singular
 * and generic tests, macros; renders every node once with execute = false to collect refs, sources and
 * config(); resolves each model's schema by calling the project's generate_schema_name macro.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { BUILTIN_MACROS } from './builtins.ts';
import { asArray, checkConfig, mergeConfig, projectConfig } from './config.ts';
import type { TargetType } from './adapter.ts';
import { collectDependencies, createJinja } from './context.ts';
import { DbtCompilationError, JinjaEnv, callMacro, notSupported } from './jinja.ts';
import { Relation, type ModelNode, type RenderState, type SourceNode, type TestNode } from './nodes.ts';
import {
  listFiles,
  readProperties,
  testEntries,
  type ModelProperties,
  type Properties,
} from './properties.ts';
import { genericTest, singularTests, type TestContext } from './tests.ts';

export {
  Relation,
  type ExecNode,
  type FreshnessRule,
  type FreshnessSpec,
  type Materialization,
  type ModelNode,
  type NodeConfig,
  type RenderState,
  type Severity,
  type SourceNode,
  type TestNode,
} from './nodes.ts';
export { genericTestName } from './tests.ts';

export interface Project {
  readonly name: string;
  /** dbt_project.yml's `profile`: the entry of profiles.yml the project runs with. */
  readonly profile?: string;
  readonly root: string;
  readonly vars: Record<string, unknown>;
  readonly targetSchema: string;
  readonly adapterType: TargetType;
  readonly models: Map<string, ModelNode>;
  readonly tests: Map<string, TestNode>;
  readonly sources: Map<string, SourceNode>;
  readonly jinja: JinjaEnv;
  /** What the context functions see while a node renders. */
  readonly state: RenderState;
}

export interface LoadOptions {
  readonly projectDir: string;
  readonly vars?: Readonly<Record<string, unknown>>;
  readonly targetSchema?: string;
  /** The warehouse the project runs on (dbt's target.type). @default 'duckdb' */
  readonly adapterType?: TargetType;
  /** Where `{{ log(msg, info=True) }}` writes. */
  readonly log?: (line: string) => void;
}

/** What dbt_project.yml (and the command line) says: name, paths, vars, the raw sections for config. */
interface Settings {
  readonly root: string;
  readonly yml: Record<string, unknown>;
  readonly name: string;
  readonly modelPaths: string[];
  readonly macroPaths: string[];
  readonly testPaths: string[];
  readonly vars: Record<string, unknown>;
  readonly targetSchema: string;
  /** A path relative to the project root, with forward slashes. */
  rel(file: string): string;
}

async function readSettings(options: LoadOptions): Promise<Settings> {
  const root = path.resolve(options.projectDir);
  let yml: Record<string, unknown>;
  try {
    yml = YAML.parse(await readFile(path.join(root, 'dbt_project.yml'), 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new DbtCompilationError('dbt_project.yml', undefined, `cannot read the project: ${String(err)}`, {
      cause: err,
    });
  }
  const name = String(yml.name);
  const projectVars = (yml.vars ?? {}) as Record<string, unknown>;
  // Project vars may be global or scoped to the project name; command-line vars override both.
  const scoped = projectVars[name];
  return {
    root,
    yml,
    name,
    modelPaths: asArray(yml['model-paths'] ?? ['models']),
    macroPaths: asArray(yml['macro-paths'] ?? ['macros']),
    testPaths: asArray(yml['test-paths'] ?? ['tests']),
    vars: {
      ...projectVars,
      ...(scoped && typeof scoped === 'object' ? (scoped as Record<string, unknown>) : {}),
      ...options.vars,
    },
    targetSchema: options.targetSchema ?? 'main',
    rel: (p) => path.relative(root, p).split(path.sep).join('/'),
  };
}

/** dbt_project.yml keys the runner reads, or that change nothing it runs; any other is refused by name. */
const PROJECT_KEYS = new Set([
  'name',
  'version',
  'config-version',
  'profile',
  'model-paths',
  'macro-paths',
  'test-paths',
  'analysis-paths',
  'docs-paths',
  'asset-paths',
  'seed-paths',
  'snapshot-paths',
  'target-path',
  'clean-targets',
  'log-path',
  'packages-install-path',
  'require-dbt-version',
  'flags',
  'vars',
  'models',
  'data_tests',
  'tests',
]);

/**
 * Refuses, by name, what dbt would run and the runner would not: on-run-start/on-run-end hooks, seeds and
 * snapshots (files under seed-paths/snapshot-paths, or their dbt_project.yml sections), other project keys.
 */
async function checkProjectFeatures(settings: Settings): Promise<void> {
  for (const key of Object.keys(settings.yml)) {
    if (!PROJECT_KEYS.has(key)) throw notSupported(`dbt_project.yml key '${key}'`, 'dbt_project.yml', key);
  }
  const dirs: [string, string[], string[]][] = [
    ['seeds', asArray(settings.yml['seed-paths'] ?? ['seeds']), ['.csv']],
    ['snapshots', asArray(settings.yml['snapshot-paths'] ?? ['snapshots']), ['.sql', '.yml']],
  ];
  for (const [kind, paths, exts] of dirs) {
    for (const p of paths) {
      for (const ext of exts) {
        const [first] = await listFiles(path.join(settings.root, p), ext);
        if (first) throw notSupported(kind, settings.rel(first), path.basename(first, ext));
      }
    }
  }
}

/** Built-in macros first, so a project macro of the same name overrides it (as in dbt); then macros/ and tests/generic/. */
async function loadMacros(jinja: JinjaEnv, settings: Settings): Promise<void> {
  const { root, macroPaths, testPaths } = settings;
  for (const [file, source] of Object.entries(BUILTIN_MACROS)) jinja.loadMacros(file, source);
  const macroFiles = [
    ...(await Promise.all(macroPaths.map((p) => listFiles(path.join(root, p), '.sql')))).flat(),
    ...(await Promise.all(testPaths.map((p) => listFiles(path.join(root, p, 'generic'), '.sql')))).flat(),
  ];
  for (const file of macroFiles) jinja.loadMacros(settings.rel(file), await readFile(file, 'utf8'));
}

/** The models, by name; each template compiled now so a syntax error stops the run before anything executes (as in dbt). */
async function readModels(
  jinja: JinjaEnv,
  settings: Settings,
  modelProps: ReadonlyMap<string, ModelProperties>,
  into: Map<string, ModelNode>,
): Promise<void> {
  const { root, name, targetSchema } = settings;
  for (const modelPath of settings.modelPaths) {
    const base = path.join(root, modelPath);
    for (const file of await listFiles(base, '.sql')) {
      const relFile = settings.rel(file);
      const fqn = [...path.relative(base, file).split(path.sep)];
      fqn[fqn.length - 1] = path.basename(file, '.sql');
      const modelName = fqn[fqn.length - 1] as string;
      if (into.has(modelName)) {
        throw new DbtCompilationError(relFile, undefined, `two models are named '${modelName}'`);
      }
      const template = jinja.compile(relFile, await readFile(file, 'utf8'));
      const config = mergeConfig(
        projectConfig(settings.yml.models, name, fqn),
        modelProps.get(modelName)?.props.config as Record<string, unknown> | undefined,
      );
      into.set(modelName, {
        resourceType: 'model',
        uniqueId: `model.${name}.${modelName}`,
        name: modelName,
        file: relFile,
        fqn,
        template,
        config,
        dependsOn: new Set(),
        relation: new Relation(targetSchema, modelName),
      });
    }
  }
  for (const [modelName, { file }] of modelProps) {
    if (!into.has(modelName)) {
      throw new DbtCompilationError(
        file,
        undefined,
        `properties for model '${modelName}', which does not exist`,
      );
    }
  }
}

/** Parse render of every model: refs, sources and config(); is_incremental() and execute are false, as in dbt. */
function parseModels(project: Project): void {
  for (const model of project.models.values()) {
    const parsed = collectDependencies(project.jinja, project.state, model, model.relation, () =>
      project.jinja.render(model.file, model.template),
    );
    model.dependsOn = parsed.dependsOn;
    model.config = parsed.config;
  }
}

/** Each enabled model's relation: the schema from the project's generate_schema_name macro, called as dbt calls it. */
function resolveRelations(project: Project): void {
  const generateSchemaName = project.jinja.macros.get('generate_schema_name');
  for (const model of project.models.values()) {
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
}

/** Generic tests from the sources' and the enabled models' properties, in file order. */
function addGenericTests(
  project: Project,
  ctx: TestContext,
  properties: Properties,
  modelByName: ReadonlyMap<string, ModelNode>,
): void {
  const add = (test: TestNode): void => {
    project.tests.set(test.uniqueId, test);
  };
  for (const { source, column, entry, file } of properties.sourceTests) {
    const target = {
      uniqueId: source.uniqueId,
      name: source.name,
      relation: () => source.relation,
      testedName: `${source.sourceName}_${source.name}`,
      isSource: true,
    };
    const test = genericTest(ctx, target, column, entry, file);
    if (test) add(test);
  }
  for (const [modelName, { file, props }] of properties.modelProps) {
    const model = modelByName.get(modelName) as ModelNode;
    if (!project.models.has(model.uniqueId)) continue;
    const target = {
      uniqueId: model.uniqueId,
      name: model.name,
      relation: () => model.relation,
      testedName: modelName,
      isSource: false,
    };
    for (const { column, entry } of testEntries(props, file)) {
      const test = genericTest(ctx, target, column, entry, file);
      if (test) add(test);
    }
  }
}

/**
 * Parses the project in dbt's order: settings, macros, properties files, models (compiled), the parse
 * render of each model, disabled models dropped, relations, then generic and singular tests.
 */
export async function loadProject(options: LoadOptions): Promise<Project> {
  const settings = await readSettings(options);
  await checkProjectFeatures(settings);
  const { root, name, vars, targetSchema } = settings;
  const state: RenderState = { execute: false, isIncremental: false };
  const modelByName = new Map<string, ModelNode>();
  const sources = new Map<string, SourceNode>();
  const adapterType = options.adapterType ?? 'duckdb';
  const jinja = createJinja(
    { projectName: name, targetSchema, adapterType, vars, modelByName, sources, log: options.log },
    state,
  );
  await loadMacros(jinja, settings);

  const yamlFiles = (
    await Promise.all(settings.modelPaths.map((p) => listFiles(path.join(root, p), '.yml')))
  ).flat();
  const properties = await readProperties(name, yamlFiles, settings.rel);
  for (const [id, source] of properties.sources) sources.set(id, source);
  await readModels(jinja, settings, properties.modelProps, modelByName);

  const models = new Map([...modelByName.values()].map((m) => [m.uniqueId, m]));
  const tests = new Map<string, TestNode>();
  const profile = typeof settings.yml.profile === 'string' ? settings.yml.profile : undefined;
  const project: Project = {
    name,
    profile,
    root,
    vars,
    targetSchema,
    adapterType,
    models,
    tests,
    sources,
    jinja,
    state,
  };
  parseModels(project);
  for (const model of models.values()) {
    if (model.config.enabled === false) models.delete(model.uniqueId);
  }
  resolveRelations(project);

  for (const model of models.values()) checkConfig('model', model.config, model.file, model.name);
  const testDefaults = settings.yml.data_tests ?? settings.yml.tests;
  const dirsOf = (file: string): string[] => {
    const modelPath = settings.modelPaths.find((p) => file.startsWith(`${p.replace(/\/$/, '')}/`));
    const relative = modelPath ? file.slice(modelPath.replace(/\/$/, '').length + 1) : file;
    return relative.split('/').slice(0, -1);
  };
  const ctx: TestContext = { projectName: name, jinja, state, testDefaults, dirsOf };
  addGenericTests(project, ctx, properties, modelByName);
  for (const test of await singularTests(ctx, root, settings.testPaths, settings.rel))
    tests.set(test.uniqueId, test);
  return project;
}
