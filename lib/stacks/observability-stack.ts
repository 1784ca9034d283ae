import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { MdsFunction } from '../constructs/mds-function.ts';

export const QUARANTINED_METRIC = 'RecordsQuarantined';
export const CONSUMER_SERVICE = 'consumer';

export interface ObservabilityStackProps extends StackProps {
  readonly consumer: MdsFunction;
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly stateMachine: sfn.IStateMachine;
  readonly failedBatches: sqs.IQueue;
  readonly alarmTopic: sns.ITopic;
  /** Alarm when no run succeeded for this long; only while the schedule is enabled. */
  readonly staleAfter?: Duration;
  readonly scheduleEnabled: boolean;
  /** Alarm when the consumer lags this many records behind the topic. @default 100000 */
  readonly maxOffsetLag?: number;
}

/** One dashboard (consumer lag, errors, quarantined records, run duration and outcome) and alarms to SNS. */
export class ObservabilityStack extends Stack {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const period = Duration.minutes(5);
    const offsetLag = new cloudwatch.Metric({
      namespace: 'AWS/Lambda',
      metricName: 'OffsetLag',
      dimensionsMap: { FunctionName: props.consumer.functionName },
      statistic: 'Maximum',
      period,
    });
    const quarantined = new cloudwatch.Metric({
      // Where and under which service name the consumer's Powertools metrics go (its environment says).
      namespace: props.consumer.metricsNamespace,
      metricName: QUARANTINED_METRIC,
      dimensionsMap: { service: props.consumer.serviceName },
      statistic: 'Sum',
      period,
    });
    const errors = Object.entries(props.functions).map(([name, fn]) =>
      fn.metricErrors({ period, statistic: 'Sum', label: name }),
    );
    const sm = props.stateMachine;
    const runFailed = sm.metricFailed({ period, statistic: 'Sum' });
    const runTimedOut = sm.metricTimedOut({ period, statistic: 'Sum' });
    const runSucceeded = sm.metricSucceeded({ period: Duration.hours(1), statistic: 'Sum' });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(1),
      widgets: [
        [
          new cloudwatch.GraphWidget({ title: 'Consumer lag (records)', left: [offsetLag], width: 12 }),
          new cloudwatch.GraphWidget({ title: 'Quarantined records', left: [quarantined], width: 12 }),
        ],
        [
          new cloudwatch.GraphWidget({ title: 'Function errors', left: errors, width: 12, stacked: true }),
          new cloudwatch.GraphWidget({
            title: 'Failed batches waiting (on-failure queue)',
            left: [props.failedBatches.metricApproximateNumberOfMessagesVisible({ period })],
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Run duration (ms)',
            left: [sm.metricTime({ period: Duration.hours(1), statistic: 'Maximum' })],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Run outcome',
            left: [
              runSucceeded.with({ label: 'succeeded' }),
              sm.metricFailed({ period: Duration.hours(1), statistic: 'Sum', label: 'failed' }),
              sm.metricTimedOut({ period: Duration.hours(1), statistic: 'Sum', label: 'timed out' }),
            ],
            width: 12,
          }),
        ],
      ],
    });

    new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboardName });

    const alarm = (
      id: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
      missing = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) => {
      const a = new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: missing,
        alarmDescription: description,
      });
      a.addAlarmAction(new actions.SnsAction(props.alarmTopic));
      this.alarms.push(a);
      return a;
    };
    alarm('RunFailedAlarm', runFailed, 1, 'A workflow run failed; its summary is under runs/<runId>/.');
    alarm('RunTimedOutAlarm', runTimedOut, 1, 'A workflow run timed out.');
    alarm(
      'ConsumerLagAlarm',
      offsetLag,
      props.maxOffsetLag ?? 100_000,
      'The consumer is falling behind the topic.',
    );
    alarm(
      'FailedBatchesAlarm',
      props.failedBatches.metricApproximateNumberOfMessagesVisible({ period }),
      1,
      'Kafka batches failed repeatedly and went to the on-failure queue.',
    );
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(
        `${name}ErrorsAlarm`,
        fn.metricErrors({ period, statistic: 'Sum' }),
        1,
        `The ${name} function reported errors.`,
      );
    }
    if (props.scheduleEnabled) {
      const staleAfter = props.staleAfter ?? Duration.hours(3);
      const stale = new cloudwatch.Alarm(this, 'NoSuccessfulRunAlarm', {
        metric: sm.metricSucceeded({ period: staleAfter, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        alarmDescription: `No workflow run succeeded in ${staleAfter.toHours()} hours.`,
      });
      stale.addAlarmAction(new actions.SnsAction(props.alarmTopic));
      this.alarms.push(stale);
    }
  }
}
