/** The simulated producer's environment: written by the ingest stack, read on every invocation. */
import { envContract, envInt, envString } from '../core/env.ts';
import { KAFKA_AUTH } from '../core/kafka.ts';

export const producerEnv = envContract('the producer function', {
  KAFKA_BROKERS: envString('the comma-separated host:port list of the brokers'),
  KAFKA_TOPIC: envString('the topic the events go to', 'spotify-events'),
  EVENTS_PER_INVOCATION: envInt(
    'the events one invocation sends (producer.eventsPerInvocation)',
    1,
    1_000_000,
    600,
  ),
  WINDOW_SECONDS: envInt('the seconds before the invocation the events are spread over', 1, 86_400, 60),
  KAFKA_AUTH,
  AWS_REGION: envString('the region MSK IAM tokens are signed for (set by Lambda)', ''),
});
