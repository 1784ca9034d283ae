/** The publisher's environment (PublishSummary, and the failed runs' status-change events). */
import { BUCKET_NAME, envContract, envString } from '../core/env.ts';

export const publisherEnv = envContract('the publisher function', {
  BUCKET_NAME,
  ALERT_TOPIC_ARN: envString('the ARN of the SNS topic failed runs are sent to (empty: no notification)', ''),
});
