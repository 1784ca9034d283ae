/**
 * Every synthesized template of every environment passes the CloudFormation validator that aws-cdk-lib
 * bundles (@aws/cloudformation-validate, the engine behind `builtinCloudFormationValidation`), and the
 * state machine definition passes asl-validator. The other suites synthesize without the built-in
 * validation, for speed; this one runs the same engine on the templates once, with the settings CDK's
 * plugin uses (STANDARD detail, WARN floor), and fails on any ERROR or FATAL diagnostic.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../../lib/config/environments.ts';
import { synthesizeLocalWorkflow } from '../../localstack/workflow/definition.ts';
import { synthesize } from './synth-helpers.ts';

/** The parts of @aws/cloudformation-validate's API used here (its index.d.ts has the rest). */
interface Diagnostic {
  readonly ruleId: string;
  readonly severity: 'FATAL' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG';
  readonly message: string;
  readonly propertyPath?: string;
  readonly entity?: { readonly logicalId?: string };
}
interface CfnValidate {
  CompositeEngine: new () => {
    validateTemplate(
      template: unknown,
      config: { detailLevel: 'STANDARD'; severityLevel: 'WARN' },
    ): { status: 'OK' | 'ANALYSIS_INCOMPLETE' | 'ERROR'; diagnostics: Diagnostic[] };
    free(): void;
  };
  TemplateContent: new (content: string, name?: string) => unknown;
}
type AslValidator = (definition: unknown) => { isValid: boolean; errorsText: (separator?: string) => string };

const require = createRequire(import.meta.url);
// A dependency of aws-cdk-lib, not of the project: resolve it from aws-cdk-lib's own folder.
const cfnValidate = createRequire(require.resolve('aws-cdk-lib/package.json'))(
  '@aws/cloudformation-validate',
) as CfnValidate;
const aslValidator = require('asl-validator') as AslValidator;

let engine: InstanceType<CfnValidate['CompositeEngine']>;
const templates: { name: string; json: Record<string, unknown> }[] = [];
const definitions = new Map<EnvironmentName, Record<string, unknown>>();

beforeAll(() => {
  // The engine compiles its rules once (seconds); every template reuses it.
  engine = new cfnValidate.CompositeEngine();
  for (const envName of ENVIRONMENT_NAMES) {
    const app = synthesize(envName, undefined, { nag: false });
    try {
      for (const [unit, template] of Object.entries(app.templates)) {
        templates.push({ name: `${envName} ${unit}`, json: template.toJSON() });
      }
    } finally {
      app.cleanup();
    }
    definitions.set(envName, synthesizeLocalWorkflow({ envName }).definition);
  }
});

afterAll(() => engine?.free());

/** ERROR and FATAL diagnostics of one template, as readable lines. */
function errors(name: string, json: unknown): string[] {
  const report = engine.validateTemplate(new cfnValidate.TemplateContent(JSON.stringify(json), name), {
    detailLevel: 'STANDARD',
    severityLevel: 'WARN',
  });
  const found = report.diagnostics
    .filter((d) => d.severity === 'ERROR' || d.severity === 'FATAL')
    .map((d) => `${name}: ${d.ruleId} ${d.entity?.logicalId ?? ''} ${d.propertyPath ?? ''}: ${d.message}`);
  if (report.status !== 'OK') found.push(`${name}: validation ${report.status}`);
  return found;
}

describe('CloudFormation validation of the synthesized templates', () => {
  it('finds no error in any template of any environment', () => {
    expect(templates).toHaveLength(ENVIRONMENT_NAMES.length * 6);
    expect(templates.flatMap((t) => errors(t.name, t.json))).toEqual([]);
  });

  it('does find the error in a copy of a template with an invalid property', () => {
    // Prepare: dev's Ingest template with a property the mapping does not have and a wrong type.
    const copy = structuredClone(templates.find((t) => t.name === 'dev ingest')!.json);
    const resources = copy.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
    const esm = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::EventSourceMapping')!;
    esm.Properties.BatchSizeInRecords = 1000;
    esm.Properties.MaximumRetryAttempts = 'twice';
    // Act
    const found = errors('dev ingest (broken copy)', copy);
    // Assess
    expect(found.join('\n')).toContain('BatchSizeInRecords');
    expect(found.join('\n')).toContain('MaximumRetryAttempts');
  });
});

describe('Amazon States Language validation of the workflow', () => {
  it('accepts the synthesized definition of every environment', () => {
    for (const [envName, definition] of definitions) {
      // asl-validator fills in QueryLanguage; give it a copy.
      const result = aslValidator(structuredClone(definition));
      expect(result.isValid, `${envName}: ${result.errorsText('\n')}`).toBe(true);
    }
  });

  it('rejects a copy whose state points at a state that does not exist', () => {
    const copy = structuredClone(definitions.get('dev')!);
    const states = copy.States as Record<string, { Next?: string; End?: boolean }>;
    const [name, state] = Object.entries(states).find(([, s]) => typeof s.Next === 'string')!;
    state.Next = `${name}-nowhere`;
    expect(aslValidator(copy).isValid).toBe(false);
  });
});
