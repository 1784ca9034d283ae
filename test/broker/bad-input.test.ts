/**
 * Misbehaving clients on raw sockets: garbage, an oversized frame, unsupported versions and requests for
 * unknown topics or partitions get the right error or a closed connection, and the broker keeps serving
 * everyone else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../localstack/broker/index.ts';
import { tempDir, testKafka } from './helpers.ts';
import { frame, i16, i32, i64, i8, RawClient, str } from './raw.ts';

describe('broker under bad input', () => {
  const data = tempDir('broker-bad');
  const logs: string[] = [];
  let broker: RunningBroker;
  let bystander: RawClient;

  beforeAll(async () => {
    broker = await startBroker({
      dataDir: data.dir,
      port: 0,
      log: (l) => logs.push(l),
      maxRequestBytes: 1024 * 1024,
    });
    // Metadata v1 for a topic, so it exists (auto-created with 3 partitions).
    const c = new RawClient(broker.port);
    await c.send(frame(3, 1, 1, [i32(1), str('known')]));
    await c.response();
    c.end();
    bystander = new RawClient(broker.port);
  });
  afterAll(async () => {
    bystander.end();
    await broker.close();
    data.remove();
  });

  it('closes a connection that sends garbage, and only that one', async () => {
    // Prepare
    const c = new RawClient(broker.port);

    // Act: an HTTP request line reads as a frame size of about 1.2 GB; a Metadata request cut short is malformed.
    await c.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const answer = await c.response();
    const d = new RawClient(broker.port);
    await d.send(Buffer.concat([i32(12), i16(3), i16(1), i32(7), i32(5)]));
    const answerD = await d.response();
    await bystander.send(frame(18, 2, 42, []));
    const healthy = await bystander.response();

    // Assess
    expect(answer).toBeNull();
    expect(answerD).toBeNull();
    expect(healthy?.correlationId).toBe(42);
    expect(healthy?.body.readInt16BE(0)).toBe(0);
  });

  it('closes a connection announcing an oversized frame without waiting for its bytes', async () => {
    // Prepare
    const c = new RawClient(broker.port);

    // Act
    await c.send(i32(512 * 1024 * 1024));
    const answer = await c.response();

    // Assess
    expect(answer).toBeNull();
    expect(logs.some((l) => /request frame of 536870912 bytes/.test(l))).toBe(true);
  });

  it('answers a newer ApiVersions per KIP-511 and closes on other unsupported versions, logging once', async () => {
    // Prepare
    const c = new RawClient(broker.port);
    const p1 = new RawClient(broker.port);
    const p2 = new RawClient(broker.port);

    // Act
    await c.send(frame(18, 3, 9, [Buffer.from([0])]));
    const kip511 = await c.response();
    await p1.send(frame(1, 0, 1, [i32(-1), i32(100), i32(1), i32(0)]));
    await p2.send(frame(1, 0, 1, [i32(-1), i32(100), i32(1), i32(0)]));
    const [r1, r2] = [await p1.response(), await p2.response()];

    // Assess
    expect(kip511?.correlationId).toBe(9);
    expect(kip511?.body.readInt16BE(0)).toBe(35);
    const count = kip511!.body.readInt32BE(2);
    const apis = Array.from({ length: count }, (_, i) => kip511!.body.readInt16BE(6 + i * 6));
    expect(apis).toContain(18);
    expect([r1, r2]).toEqual([null, null]);
    expect(logs.filter((l) => /version 0 of API 1 is not supported/.test(l))).toHaveLength(1);
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION for an unknown topic or partition', async () => {
    // Prepare
    const c = new RawClient(broker.port);

    // Act: Produce v3 to a topic that does not exist; Fetch v4 of partition 7 of a 3-partition topic;
    // Metadata v4 for an unknown topic with auto-creation off.
    await c.send(frame(0, 3, 1, [i16(-1), i16(1), i32(1000), i32(1), str('nope'), i32(1), i32(0), i32(-1)]));
    const produce = await c.response();
    await c.send(
      frame(1, 4, 2, [
        i32(-1),
        i32(0),
        i32(0),
        i32(1 << 20),
        i8(0),
        i32(1),
        str('known'),
        i32(1),
        i32(7),
        i64(0),
        i32(1 << 20),
      ]),
    );
    const fetch = await c.response();
    await c.send(frame(3, 4, 3, [i32(1), str('unknown-topic'), i8(0)]));
    const metadata = await c.response();

    // Assess: produce v3 = [topics: name, [partition, error...]]; fetch v4 = throttle, [name, [partition, error...]]
    const produceError = produce!.body.readInt16BE(4 + 2 + 4 + 4 + 4);
    expect(produceError).toBe(3);
    const fetchError = fetch!.body.readInt16BE(4 + 4 + 2 + 5 + 4 + 4);
    expect(fetchError).toBe(3);
    const mb = metadata!.body;
    let at = 4; // throttle
    at += 4 + 4 + 2 + broker.bootstrap.split(':')[0]!.length + 4 + 2; // one broker: id, host, port, null rack
    at += 2 + 'mds-local-broker'.length + 4; // cluster id, controller id
    at += 4; // topic count
    expect(mb.readInt16BE(at)).toBe(3);
    expect(c.closed).toBe(false);
    c.end();
  });

  it('still serves a kafkajs client after all of that', async () => {
    // Prepare
    const { kafka } = testKafka(broker.bootstrap);
    const admin = kafka.admin();

    // Act
    await admin.connect();
    const topics = await admin.listTopics();
    await admin.disconnect();

    // Assess
    expect(topics).toContain('known');
  });
});
