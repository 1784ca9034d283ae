/**
 * The rule that records failed runs outside the state machine: the state machine's status-change events for
 * FAILED, TIMED_OUT and ABORTED go to the publisher, with a dead-letter queue for the rule's delivery and for the
 * function's own failures, and the publisher may read this state machine's executions and nothing more.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { only, synthesize } from './synth-helpers.ts';

// With cdk-nag: synth throws on a finding nobody acknowledged.
const app = synthesize('dev');
afterAll(() => app.cleanup());

const pipeline = () => app.templates.pipeline;

describe('the failed-run rule', () => {
  it("matches the workflow's unsuccessful status changes and targets the publisher, with a dead-letter queue", () => {
    const [machine] = only(pipeline(), 'AWS::StepFunctions::StateMachine');
    const [queue] = only(pipeline(), 'AWS::SQS::Queue');
    const publisher = Object.entries(pipeline().findResources('AWS::Lambda::Function')).find(([id]) =>
      id.startsWith('Publisher'),
    )?.[0];
    pipeline().hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [{ Ref: machine }], status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
      },
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [publisher, 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queue, 'Arn'] } },
          RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
        }),
      ],
    });
    // The function's own errors: two retries by Lambda, then the same queue.
    pipeline().hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: publisher },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
    });
    pipeline().hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86_400,
    });
    pipeline().hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [publisher, 'Arn'] },
    });
  });

  it("lets the publisher describe and read the history of this state machine's executions only", () => {
    const [machine] = only(pipeline(), 'AWS::StepFunctions::StateMachine');
    const statements = Object.values(pipeline().findResources('AWS::IAM::Policy')).flatMap(
      (p) =>
        (p.Properties as { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } })
          .PolicyDocument.Statement,
    );
    const reads = statements.filter((s) => JSON.stringify(s.Action).includes('states:'));
    const executions = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':states:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':execution:',
          { 'Fn::GetAtt': [machine, 'Name'] },
          ':*',
        ],
      ],
    };
    expect(
      reads.filter((s) => JSON.stringify(s.Action).match(/DescribeExecution|GetExecutionHistory/)),
    ).toEqual([
      expect.objectContaining({
        Action: ['states:DescribeExecution', 'states:GetExecutionHistory'],
        Resource: executions,
      }),
    ]);
  });
});
