/**
 * The resources of a parsed dbt project: relations, models, tests and sources, their config, and the state
 * the Jinja context functions read while a node renders.
 */
import type nunjucks from 'nunjucks';

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
  /** Where dbt_project.yml's data_tests: config applies: the directories of its file, then its name. */
  readonly fqn: string[];
  /** Singular: the test file; generic: the macro call rendered at execution. */
  readonly render: () => string;
  /** The model (or source) the test is attached to, for messages and selection. */
  readonly attachedTo?: string;
  /** Generic tests: the test's name (not_null, ...), its arguments and column, for the manifest. */
  readonly testName?: string;
  readonly kwargs?: Readonly<Record<string, unknown>>;
  readonly columnName?: string;
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
  readonly enabled: boolean;
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

/** What the context functions see while a node renders; set only by `withRenderScope` (context.ts). */
export interface RenderState {
  node?: ExecNode;
  execute: boolean;
  isIncremental: boolean;
  /** The relation `{{ this }}` names: the model being rendered, none for a test. */
  this?: Relation;
  /** Set while parsing: refs and sources found. */
  collected?: Set<string>;
  /** Set while parsing: config() calls found. */
  configured?: NodeConfig;
  /**
   * At execution: the warehouse's relations when the node started ("schema.identifier", lower case), what
   * adapter.get_relation() answers from; unset while parsing, where it answers none, as dbt's parse does.
   */
  relations?: ReadonlyMap<string, 'table' | 'view'>;
}
