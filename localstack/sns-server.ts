/**
 * A local stand-in for the one SNS call the pipeline makes (Publish, from the publisher on a failed run):
 * an HTTP server on 127.0.0.1 that speaks SNS's Query protocol for Publish and appends each message to a
 * JSON-lines file, so a failure notification can be read where an operator would get the mail.
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';

export interface LocalSns {
  readonly endpoint: string;
  /** The JSON-lines file of published messages. */
  readonly file: string;
  close(): Promise<void>;
}

export interface PublishedMessage {
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
  readonly messageId: string;
  readonly at: string;
}

export async function startLocalSns(options: {
  readonly file: string;
  readonly port?: number;
}): Promise<LocalSns> {
  await mkdir(path.dirname(options.file), { recursive: true });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const action = form.get('Action');
      if (action !== 'Publish') {
        res.writeHead(400, { 'content-type': 'text/xml' });
        res.end(
          `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>the local SNS server supports Publish only, not ${action}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
        );
        return;
      }
      const entry: PublishedMessage = {
        topicArn: form.get('TopicArn') ?? '',
        ...(form.get('Subject') ? { subject: form.get('Subject') as string } : {}),
        message: form.get('Message') ?? '',
        messageId: randomUUID(),
        at: new Date().toISOString(),
      };
      appendFile(options.file, `${JSON.stringify(entry)}\n`).then(
        () => {
          res.writeHead(200, { 'content-type': 'text/xml' });
          res.end(
            `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${entry.messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
          );
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'text/xml' });
          res.end(
            `<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code><Message>${err.message}</Message></Error></ErrorResponse>`,
          );
        },
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    file: options.file,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
