import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct, IValidation } from 'constructs';
import { acknowledge } from './acknowledge.ts';

/**
 * Actions that accept no narrower resource than "*" (AWS service authorization reference), or that act on
 * resources created at run time: the ECS task of each dbt run (Step Functions' RunTask .sync integration).
 */
const STAR_ONLY_ACTIONS = new Set([
  'ecs:DescribeTasks',
  'ecs:StopTask',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'ecr:GetAuthorizationToken',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
]);

/** Wildcards that CDK grants produce for narrowly scoped access, each with the reason it is acceptable. */
const JUSTIFIED: readonly { readonly finding: RegExp; readonly reason: string }[] = [
  {
    finding: /^Action::s3:(GetObject|GetBucket|List|DeleteObject|Abort|PutObject)\*$/,
    reason:
      'An action group of a CDK bucket grant (grantRead/grantPut/grantReadWrite) on one prefix of the Bronze bucket; the resource limits it.',
  },
  {
    finding: /^Resource::.+\/(bronze|quarantine|runs|arrivals|imports|import-summaries)\/\*$/,
    reason:
      'Objects under one prefix of the Bronze bucket; keys are made per event hour (or landing hour) and Kafka offsets, so they cannot be listed in advance (imports/: named by whoever uploads an export).',
  },
  {
    finding: /^Resource::.+\/runs\/\*\/dbt\/\*$/,
    reason:
      "The dbt task's artifacts (manifest, run results, sources, log) in the dbt folder of a run; the run id is made per workflow run.",
  },
  {
    finding: /^Resource::<[A-Za-z0-9]+\.Arn>:\*$/,
    reason: 'Versions and aliases of one Lambda function that this principal invokes (CDK grantInvoke).',
  },
  {
    finding: /^Action::kms:(GenerateDataKey|ReEncrypt)\*$/,
    reason: 'A CDK key grant on the one KMS key of the notification topic.',
  },
  {
    finding:
      /^Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<[A-Za-z0-9]+\.Name>:\*$/,
    reason:
      "The executions of the one workflow state machine (DescribeExecution, GetExecutionHistory): an execution's name is made per run.",
  },
  {
    finding: /^Resource::arn:\{"Fn::Select".*"Ref":"[A-Za-z0-9]*TaskDefinition[A-Za-z0-9]*".*\}:\*$/,
    reason: 'Every revision of the dbt task definition family, so Step Functions can run the current one.',
  },
];

/**
 * Reviews every IAM policy of the app for cdk-nag's wildcard rule (AwsSolutions-IAM5) and acknowledges,
 * on that one policy, each finding that matches a justified pattern above, or a "*" resource used only by
 * actions that cannot be scoped. Any other wildcard stays a finding and fails synth.
 *
 * It runs as a construct validation of the app, not as an aspect: validations run after CDK has turned
 * cross-stack references into imports, so a finding reads exactly as cdk-nag will report it.
 */
export function reviewWildcards(root: IConstruct): void {
  const review: IValidation = {
    validate: () => {
      for (const node of root.node.findAll()) if (node instanceof iam.CfnPolicy) reviewPolicy(node);
      return [];
    },
  };
  root.node.addValidation(review);
}

function reviewPolicy(node: iam.CfnPolicy): void {
  const document = Stack.of(node).resolve(node.policyDocument) as { Statement?: Statement[] };
  const findings = new Set<string>();
  // The actions of every statement whose resource is "*": the finding covers all of them at once.
  const starActions = new Set<string>();
  for (const statement of document.Statement ?? []) {
    if (statement.Effect !== 'Allow') continue;
    const actions = toArray(statement.Action);
    for (const action of actions.filter((a) => a.includes('*'))) findings.add(`Action::${action}`);
    for (const resource of toArray(statement.Resource).map((r) => flattenCfnReference(r))) {
      if (!resource.includes('*')) continue;
      findings.add(`Resource::${resource}`);
      if (resource === '*') actions.forEach((a) => starActions.add(a));
    }
  }
  for (const finding of findings) {
    if (finding === 'Resource::*') {
      if ([...starActions].every((a) => STAR_ONLY_ACTIONS.has(a))) {
        acknowledge(
          node,
          'AwsSolutions-IAM5[Resource::*]',
          `${[...starActions].join(', ')} accept no narrower resource, or act on ECS tasks created per run.`,
        );
      }
    } else {
      const justified = JUSTIFIED.find((j) => j.finding.test(finding));
      if (justified) acknowledge(node, `AwsSolutions-IAM5[${finding}]`, justified.reason);
    }
  }
}

interface Statement {
  readonly Effect?: string;
  readonly Action?: string | string[];
  readonly Resource?: unknown;
}

function toArray<T>(v: T | T[] | undefined): T[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}
