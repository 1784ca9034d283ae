/** PublishSummary / RecordFailure: the run summary and report to S3, and a notification on failure. */
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { publisherEnv } from './env.ts';
import { publishRequestFromEvent, publishRun, type PublisherEvent, type PublishResult } from './publish.ts';

const s3 = new S3Client({});
const sns = new SNSClient({});

export const handler = async (event: PublisherEvent): Promise<PublishResult> => {
  const { BUCKET_NAME: bucket, ALERT_TOPIC_ARN: topicArn } = publisherEnv.read(process.env);
  return publishRun(
    { s3, bucket, sns, topicArn: topicArn || undefined },
    publishRequestFromEvent(event, bucket),
  );
};
