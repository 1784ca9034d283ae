import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { STATUS_CHANGE, UNSUCCESSFUL_STATUSES } from '../../lambdas/core/status-change-event.ts';
import { acknowledge } from './acknowledge.ts';

export interface RunFailureRuleProps {
  readonly stateMachine: sfn.StateMachine;
  /** The publisher function: it writes the failed run's summary and sends the alert. */
  readonly publisher: lambda.Function;
}

/**
 * A failed run's summary and alert, recorded outside the state machine (stepfunctions/workflow.ts says why):
 * an EventBridge rule on the state machine's "Step Functions Execution Status Change" events with status
 * FAILED, TIMED_OUT or ABORTED invokes the publisher with the event. A redriven execution that fails again
 * sends the event again (its status changes again), so every failed attempt is recorded.
 *
 * EventBridge invokes Lambda asynchronously: an event it cannot hand to Lambda is retried for up to 24 hours
 * and then put in the dead-letter queue (EventBridge user guide, "Using dead-letter queues",
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/rule-dlq.html); an error of the function itself is
 * retried twice by Lambda and then sent to the same queue (Lambda developer guide, "Error handling for
 * asynchronous invocation", https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
 * The queue holds its messages 14 days, as long as the execution can be redriven.
 */
export class RunFailureRule extends Construct {
  readonly rule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: RunFailureRuleProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is the dead-letter queue of the failure rule and of the publisher; it needs none of its own.',
    );

    this.rule = new events.Rule(this, 'Rule', {
      description:
        'A workflow execution stopped without success: the publisher records its summary and alerts',
      eventPattern: {
        source: ['aws.states'],
        detailType: [STATUS_CHANGE],
        detail: {
          stateMachineArn: [props.stateMachine.stateMachineArn],
          status: [...UNSUCCESSFUL_STATUSES],
        },
      },
    });
    this.rule.addTarget(
      new targets.LambdaFunction(props.publisher, {
        deadLetterQueue: this.deadLetterQueue,
        maxEventAge: Duration.hours(24),
        retryAttempts: 185,
      }),
    );
    props.publisher.configureAsyncInvoke({
      retryAttempts: 2,
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });

    // The event may leave the input out, and never has what the run produced: the publisher reads the execution
    // and its history, of this state machine's executions only. A policy of its own, not the role's default
    // policy, which the function (and so the state machine that invokes it) depends on.
    const executions = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${props.stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const role = props.publisher.role;
    if (!role) throw new Error('the publisher function has no role');
    new iam.Policy(this, 'ReadsExecutions', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
          resources: [executions],
        }),
      ],
    });
  }
}
