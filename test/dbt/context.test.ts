import { describe, expect, it } from 'vitest';
import { collectDependencies, createJinja, withRenderScope } from '../../localstack/dbt/context.ts';
import { Relation, type ModelNode, type RenderState, type SourceNode } from '../../localstack/dbt/nodes.ts';

/** A model node over a real template of the environment, as loadProject builds one. */
function fixture() {
  const state: RenderState = { execute: false, isIncremental: false };
  const modelByName = new Map<string, ModelNode>();
  const sources = new Map<string, SourceNode>();
  const jinja = createJinja(
    { projectName: 'p', targetSchema: 'main', vars: {}, modelByName, sources },
    state,
  );
  const model = (name: string, source: string): ModelNode => {
    const node: ModelNode = {
      resourceType: 'model',
      uniqueId: `model.p.${name}`,
      name,
      file: `models/${name}.sql`,
      fqn: [name],
      template: jinja.compile(`models/${name}.sql`, source),
      config: { tags: [] },
      dependsOn: new Set(),
      relation: new Relation('main', name),
    };
    modelByName.set(name, node);
    return node;
  };
  return { state, jinja, model };
}

describe('render scope (what the context functions see while a node renders)', () => {
  it('restores the state and the execute/this globals after a render that throws', () => {
    // Prepare
    const { state, jinja, model } = fixture();
    const broken = model('broken', "select 1 {{ ref('missing') }}");
    const probe = jinja.compile('probe.sql', '{{ execute }}');
    // Act: the render fails inside the scope.
    const scope = { node: broken, execute: true, this: broken.relation, isIncremental: true };
    expect(() =>
      withRenderScope(jinja, state, scope, () => jinja.render(broken.file, broken.template)),
    ).toThrow(/^models\/broken\.sql: model 'broken' depends on a node named 'missing' which was not found$/);
    // Assess: nothing of the failed render is left for the next one.
    expect(state).toEqual({
      execute: false,
      isIncremental: false,
      node: undefined,
      this: undefined,
      collected: undefined,
      configured: undefined,
    });
    expect(jinja.render('probe.sql', probe)).toBe('False');
    expect(() => jinja.renderString('after.sql', "{{ ref('missing') }}")).toThrow(
      /^<project>: node '\?' depends on a node named 'missing' which was not found$/,
    );
  });

  it('a nested scope (a test argument rendered inside its test) gives the outer one back', () => {
    // Prepare
    const { state, jinja, model } = fixture();
    const upstream = model('upstream', 'select 1');
    const outer = model('outer', "{{ ref('upstream') }} {{ inner() }} {{ this }}");
    const collected = new Set<string>();
    jinja.setGlobal('inner', () =>
      withRenderScope(jinja, state, { node: upstream, execute: true, this: upstream.relation }, () =>
        jinja.renderString(upstream.file, '{{ this }}'),
      ),
    );
    // Act
    const parsed = collectDependencies(jinja, state, outer, outer.relation, () =>
      jinja.render(outer.file, outer.template),
    );
    const text = withRenderScope(
      jinja,
      state,
      { node: outer, execute: false, this: outer.relation, collected },
      () => jinja.render(outer.file, outer.template),
    );
    // Assess: `this` after the inner render is the outer model again; refs went to the outer node's set.
    expect(text).toBe('"main"."upstream" "main"."upstream" "main"."outer"');
    expect([...parsed.dependsOn]).toEqual(['model.p.upstream']);
    expect([...collected]).toEqual(['model.p.upstream']);
  });
});
