/**
 * The publisher: PublishSummary's run summary and report to S3, and, from a failed execution's status-change
 * event (EventBridge), the failed run's summary, report and notification.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { publisherEnv } from './env.ts';
import {
  publishRequestFromEvent,
  publishRun,
  type PublisherEvent,
  type PublishResult,
  type PublishSkipped,
} from './publish.ts';
import {
  failedRunRequest,
  isStatusChangeEvent,
  readFailedExecution,
  type ExecutionStatusChangeEvent,
} from './status-change.ts';

const s3 = new S3Client({});
const sns = new SNSClient({});
const sfn = new SFNClient({});

export const handler = async (
  event: PublisherEvent | ExecutionStatusChangeEvent,
): Promise<PublishResult | PublishSkipped> => {
  const { BUCKET_NAME: bucket, ALERT_TOPIC_ARN: topicArn } = publisherEnv.read(process.env);
  const deps = { s3, bucket, sns, topicArn: topicArn || undefined };
  if (!isStatusChangeEvent(event)) return publishRun(deps, publishRequestFromEvent(event, bucket));
  const request = failedRunRequest(event, await readFailedExecution(sfn, event), bucket);
  if ('skipped' in request) {
    console.log(JSON.stringify({ message: 'status change not published', reason: request.skipped }));
    return request;
  }
  return publishRun(deps, request);
};
