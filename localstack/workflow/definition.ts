/**
 * The state machine that the CDK app synthesizes, as a local definition: the app is synthesized
 * in-process (without bundling the functions and without cdk-nag, to be fast), and every CloudFormation
 * expression in the DefinitionString becomes a local placeholder, e.g.
 * arn:aws:lambda:local:000000000000:function:<LogicalId>. The local runner (executor.ts) executes this
 * very definition, mapping Task states by name to local handlers. It lives with the local stand-ins, not in
 * stepfunctions/, because it synthesizes the whole CDK app: stepfunctions/ holds only the definition CDK
 * deploys.
 */
import { App } from 'aws-cdk-lib';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildApp, stackName } from '../../lib/app.ts';
import { loadConfig, type EnvironmentName } from '../../lib/config/environments.ts';
import { MdsError } from '../../lambdas/core/errors.ts';

export const LOCAL_REGION = 'local';
export const LOCAL_ACCOUNT = '000000000000';

export interface LocalWorkflowOptions {
  /** The environment whose configuration the app is synthesized with. @default 'dev' */
  readonly envName?: EnvironmentName;
  /** The name that stands for the Bronze bucket (the value of its Ref). @default 'mds-local' */
  readonly bucketName?: string;
  /** The dbt project folder, relative to the project root. @default 'dbt' */
  readonly dbtDirectory?: string;
}

export interface LocalWorkflow {
  /** Amazon States Language JSON with every token resolved to a local placeholder. */
  readonly definition: Record<string, unknown>;
  readonly stateMachineLogicalId: string;
}

type Template = {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: string } }>;
  Parameters?: Record<string, { Type: string; Default?: unknown }>;
};

/**
 * A local value for a resource's Ref or attribute, when the local stand-ins provide one (the local broker's
 * address for the cluster's bootstrap brokers, say); `undefined` keeps the placeholder.
 */
export type LocalBinding = (ref: {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string | undefined;
  readonly attribute: string;
}) => string | undefined;

export function synthesizeLocalWorkflow(options: LocalWorkflowOptions = {}): LocalWorkflow {
  const envName = options.envName ?? 'dev';
  const outdir = mkdtempSync(path.join(tmpdir(), 'mds-local-workflow-'));
  try {
    // An empty bundling-stacks list makes NodejsFunction skip esbuild: the code is not needed here.
    const app = new App({
      outdir,
      context: { 'aws:cdk:bundling-stacks': [] },
      // CloudFormation schema validation takes most of the synth time; the CDK app's own synth runs it.
      builtinCloudFormationValidation: false,
    });
    buildApp(app, { envName, config: loadConfig(envName), nag: false, dbtDirectory: options.dbtDirectory });
    const assembly = app.synth();
    const templates = new Map<string, Template>();
    for (const stack of assembly.stacks) {
      templates.set(
        stack.stackName,
        JSON.parse(readFileSync(path.join(outdir, stack.templateFile), 'utf8')) as Template,
      );
    }
    const pipelineName = stackName(envName, 'Pipeline');
    return workflowFromTemplates(templates, pipelineName, options.bucketName ?? 'mds-local');
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The state machine of a synthesized pipeline stack, every token resolved to a local placeholder. */
export function workflowFromTemplates(
  templates: ReadonlyMap<string, Template>,
  pipelineStack: string,
  bucketName: string,
): LocalWorkflow {
  const pipeline = templates.get(pipelineStack);
  const entry = Object.entries(pipeline?.Resources ?? {}).find(
    ([, r]) => r.Type === 'AWS::StepFunctions::StateMachine',
  );
  if (!pipeline || !entry) throw new MdsError(`no state machine in the synthesized stack ${pipelineStack}`);
  const [logicalId, resource] = entry;
  const text = new LocalResolver(templates, bucketName).resolve(
    resource.Properties?.DefinitionString,
    pipelineStack,
  );
  if (typeof text !== 'string') throw new MdsError('the state machine has no DefinitionString');
  return { definition: JSON.parse(text) as Record<string, unknown>, stateMachineLogicalId: logicalId };
}

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': LOCAL_REGION,
  'AWS::AccountId': LOCAL_ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'local',
};

/**
 * Evaluates the CloudFormation intrinsics CDK emits, with placeholder values for every resource (or the
 * local value `bind` gives). An expression it cannot evaluate is an error that quotes it.
 */
export class LocalResolver {
  constructor(
    private readonly templates: ReadonlyMap<string, Template>,
    private readonly bucketName: string,
    private readonly bind: LocalBinding = () => undefined,
  ) {}

  resolve(value: unknown, stack: string): unknown {
    if (
      typeof value === 'string' ||
      typeof value === 'number' ||
      typeof value === 'boolean' ||
      value === null
    ) {
      return value;
    }
    if (Array.isArray(value)) return value.map((v) => this.resolve(v, stack));
    const obj = value as Record<string, unknown>;
    const [fn] = Object.keys(obj);
    const arg = fn === undefined ? undefined : obj[fn];
    switch (fn) {
      case 'Fn::Join': {
        const [delimiter, parts] = arg as [string, unknown[]];
        return parts.map((p) => String(this.resolve(p, stack))).join(delimiter);
      }
      case 'Fn::Split': {
        const [delimiter, source] = arg as [string, unknown];
        return String(this.resolve(source, stack)).split(delimiter);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [number, unknown];
        return (this.resolve(list, stack) as unknown[])[Number(index)];
      }
      case 'Ref': {
        const pseudo = PSEUDO[arg as string];
        if (pseudo !== undefined) return pseudo;
        const parameter = this.templates.get(stack)?.Parameters?.[arg as string];
        return parameter
          ? this.parameter(arg as string, parameter)
          : this.placeholder(stack, arg as string, 'Ref');
      }
      case 'Fn::GetAtt': {
        const [id, attribute] = arg as [string, string];
        return this.placeholder(stack, id, attribute);
      }
      case 'Fn::ImportValue':
        return this.importValue(String(this.resolve(arg, stack)));
      default:
        throw new MdsError(`the local definition cannot resolve ${JSON.stringify(value).slice(0, 120)}`);
    }
  }

  /**
   * A stack parameter read from SSM at deploy (`AWS::SSM::Parameter::Value<String>`, CDK's
   * valueForStringParameter): the value of the SSM parameter of that name that one of the stacks writes.
   */
  private parameter(id: string, parameter: { Type: string; Default?: unknown }): unknown {
    if (parameter.Type === 'AWS::SSM::Parameter::Value<String>') {
      for (const [name, template] of this.templates) {
        for (const resource of Object.values(template.Resources)) {
          if (resource.Type === 'AWS::SSM::Parameter' && resource.Properties?.Name === parameter.Default) {
            return this.resolve(resource.Properties?.Value, name);
          }
        }
      }
    }
    throw new MdsError(
      `the stack parameter ${id} (${parameter.Type}${parameter.Default ? ` ${String(parameter.Default)}` : ''}) has no local value: no stack of the app writes it`,
    );
  }

  private importValue(exportName: string): unknown {
    for (const [name, template] of this.templates) {
      for (const output of Object.values(template.Outputs ?? {})) {
        if (output.Export?.Name === exportName) return this.resolve(output.Value, name);
      }
    }
    throw new MdsError(`no stack exports ${exportName}`);
  }

  /** A stable local stand-in for a resource's Ref or attribute, shaped like the real value. */
  private placeholder(stack: string, logicalId: string, attribute: string): string {
    const type = this.templates.get(stack)?.Resources[logicalId]?.Type;
    const bound = this.bind({ stack, logicalId, type, attribute });
    if (bound !== undefined) return bound;
    const arn = (service: string, resource: string) =>
      `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${resource}`;
    switch (type) {
      case 'AWS::Lambda::Function':
        return attribute === 'Ref' ? logicalId : arn('lambda', `function:${logicalId}`);
      case 'AWS::ECS::Cluster':
        return attribute === 'Ref' ? logicalId : arn('ecs', `cluster/${logicalId}`);
      case 'AWS::ECS::TaskDefinition':
        return arn('ecs', `task-definition/${logicalId}:1`);
      case 'AWS::EC2::Subnet':
        return `subnet-${logicalId}`;
      case 'AWS::EC2::SecurityGroup':
        return `sg-${logicalId}`;
      case 'AWS::S3::Bucket':
        return attribute === 'Arn' ? `arn:aws:s3:::${this.bucketName}` : this.bucketName;
      case 'AWS::SNS::Topic':
        return arn('sns', logicalId);
      default:
        return attribute === 'Ref' ? logicalId : arn('local', `${logicalId}/${attribute}`);
    }
  }
}
