/** PublishSummary / RecordFailure: the run summary and report to S3, and a notification on failure. */
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { ConfigError } from '../shared/errors.ts';
import { publishRequestFromEvent, publishRun, type PublisherEvent, type PublishResult } from './publish.ts';

const bucket = process.env.BUCKET_NAME;
const s3 = new S3Client({});
const sns = new SNSClient({});

export const handler = async (event: PublisherEvent): Promise<PublishResult> => {
  if (!bucket) throw new ConfigError('BUCKET_NAME', 'is not set', 'Set it to the Bronze bucket name');
  return publishRun(
    { s3, bucket, sns, topicArn: process.env.ALERT_TOPIC_ARN },
    publishRequestFromEvent(event, bucket),
  );
};
