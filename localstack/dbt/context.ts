/**
 * dbt's Jinja context: ref(), source(), config(), var(), env_var(), is_incremental(), log(), exceptions,
 * target, adapter.dispatch, adapter.get_relation; and the one place that sets what they see while a node renders.
 */
import type { TargetType } from './adapter.ts';
import { DbtCompilationError, JinjaEnv, splitKwargs } from './jinja.ts';
import { mergeConfig } from './config.ts';
import {
  Relation,
  type ExecNode,
  type ModelNode,
  type NodeConfig,
  type RenderState,
  type SourceNode,
} from './nodes.ts';

export interface ContextInputs {
  readonly projectName: string;
  readonly targetSchema: string;
  /** dbt's target.type; adapter.dispatch looks for `<type>__<macro>` first. @default 'duckdb' */
  readonly adapterType?: TargetType;
  readonly vars: Readonly<Record<string, unknown>>;
  /** Filled while the project loads; ref() and source() look names up when a node renders. */
  readonly modelByName: ReadonlyMap<string, ModelNode>;
  readonly sources: ReadonlyMap<string, SourceNode>;
  /** Where `{{ log(msg, info=True) }}` writes. */
  readonly log?: (line: string) => void;
}

/** A Jinja environment whose context functions read `state` (the node rendering) when called. */
export function createJinja(inputs: ContextInputs, state: RenderState): JinjaEnv {
  const { projectName: name, targetSchema, vars, modelByName, sources } = inputs;
  const adapterType = inputs.adapterType ?? 'duckdb';
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
      // dbt: a ref the parse render did not see (inside {% if execute %}) is an error at execution.
      if (state.execute && !state.collected && state.node && !state.node.dependsOn.has(model.uniqueId)) {
        const n = state.node.name;
        throw new DbtCompilationError(
          currentFile(),
          undefined,
          `dbt was unable to infer all dependencies for the model "${n}". This typically happens when ref() is placed within a conditional block. To fix this, add the following hint to the top of the model "${n}":\n\n-- depends_on: {{ ref('${modelName}') }}`,
        );
      }
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
      if (positional[1] === true || kwargs.info === true) inputs.log?.(String(positional[0]));
      return '';
    },
    exceptions: {
      raise_compiler_error: (msg: unknown) => {
        throw new DbtCompilationError(currentFile(), undefined, String(msg));
      },
    },
    target: { name: adapterType, type: adapterType, schema: targetSchema, profile_name: name, threads: 1 },
    project_name: name,
    adapter: {
      // dbt's adapter.get_relation(database, schema, identifier): the relation if it exists, else none. The
      // database is the connection's own here (one catalog per warehouse file or Postgres database).
      get_relation: (...args: unknown[]) => {
        const { positional, kwargs } = splitKwargs(args);
        const schema = String(kwargs.schema ?? positional[1] ?? '');
        const identifier = String(kwargs.identifier ?? positional[2] ?? '');
        if (!schema || !identifier) {
          throw new DbtCompilationError(
            currentFile(),
            undefined,
            'adapter.get_relation needs schema= and identifier=',
          );
        }
        const found = state.relations?.get(`${schema}.${identifier}`.toLowerCase());
        return found === undefined ? null : new Relation(schema, identifier);
      },
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
        for (const candidate of [`${adapterType}__${macroName}`, `default__${macroName}`]) {
          const macro = jinja.macros.get(candidate);
          if (macro) return macro;
        }
        throw new DbtCompilationError(
          currentFile(),
          undefined,
          `adapter.dispatch('${macroName}'): no macro ${adapterType}__${macroName} or default__${macroName}`,
        );
      },
    },
  });
  jinja.setGlobal('execute', state.execute);
  return jinja;
}

/** One render of one node: what `state` and the `execute` and `this` globals hold while it runs. */
export interface RenderScope {
  readonly node: ExecNode;
  readonly execute: boolean;
  readonly this?: Relation;
  readonly isIncremental?: boolean;
  /** Parsing: ref() and source() add the unique_ids they resolve here. */
  readonly collected?: Set<string>;
  /** Parsing: config() merges into this. */
  readonly configured?: NodeConfig;
  /** Execution: the relations adapter.get_relation() finds. */
  readonly relations?: ReadonlyMap<string, 'table' | 'view'>;
}

/** Runs `render` inside `scope`, then restores what was there before, even when the render throws. */
export function withRenderScope<T>(
  jinja: JinjaEnv,
  state: RenderState,
  scope: RenderScope,
  render: () => T,
): T {
  const saved: RenderState = { ...state };
  enter(jinja, state, { ...scope, isIncremental: scope.isIncremental ?? false });
  try {
    return render();
  } finally {
    enter(jinja, state, saved);
  }
}

function enter(jinja: JinjaEnv, state: RenderState, next: RenderState): void {
  state.node = next.node;
  state.execute = next.execute;
  state.isIncremental = next.isIncremental;
  state.this = next.this;
  state.collected = next.collected;
  state.configured = next.configured;
  state.relations = next.relations;
  jinja.setGlobal('execute', next.execute);
  jinja.setGlobal('this', next.this);
}

/** Parse render (execute = false): the refs and sources a node reads and the config its config() calls set. */
export function collectDependencies(
  jinja: JinjaEnv,
  state: RenderState,
  node: ExecNode,
  thisRelation: Relation | undefined,
  render: () => unknown,
): { dependsOn: Set<string>; config: NodeConfig } {
  const collected = new Set<string>();
  const configured: NodeConfig = { ...node.config, tags: [...node.config.tags] };
  withRenderScope(jinja, state, { node, execute: false, this: thisRelation, collected, configured }, render);
  return { dependsOn: collected, config: configured };
}
