import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

/** One request as a fake received it. */
export interface RecordedRequest {
  method: string;
  /** path and query, as sent */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** parsed JSON when the body was JSON, else the raw text ('' when empty) */
  body: unknown;
  /** the status the fake answered with */
  status?: number;
}

export type Handler = (request: RecordedRequest, response: ServerResponse) => Promise<void> | void;

/**
 * A small HTTP server on 127.0.0.1 with an ephemeral port that records every request. A fake
 * built on it calls `unexpected()` for anything it was not scripted for: that answers 500 and
 * remembers the problem, and `close()` (or `assertNoUnexpected()`) then fails the test loudly.
 */
export class FakeHttpServer {
  readonly requests: RecordedRequest[] = [];
  readonly problems: string[] = [];
  private readonly sockets = new Set<Socket>();

  private readonly server: Server;
  private address = '';

  private constructor(handler: Handler) {
    this.server = createServer((request, response) => void this.dispatch(handler, request, response));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(handler: Handler): Promise<FakeHttpServer> {
    const fake = new FakeHttpServer(handler);
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(0, '127.0.0.1', () => resolve());
    });
    fake.address = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** `http://127.0.0.1:<port>` */
  get url(): string {
    return this.address;
  }

  /** Answers 500 with `problem` and records it: the test fails at `close()`. */
  unexpected(response: ServerResponse, problem: string): void {
    this.problems.push(problem);
    if (!response.headersSent) {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: `fake: ${problem}` }));
    } else {
      response.destroy();
    }
  }

  assertNoUnexpected(): void {
    if (this.problems.length > 0) {
      throw new Error(
        `the fake received what it was not scripted for:\n${this.problems.map((p) => `  - ${p}`).join('\n')}`,
      );
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.assertNoUnexpected();
  }

  private async dispatch(handler: Handler, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    if (text && /json/.test(request.headers['content-type'] ?? '')) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const url = new URL(request.url ?? '/', 'http://fake');
    const recorded: RecordedRequest = {
      method: request.method ?? 'GET',
      url: request.url ?? '/',
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      body,
    };
    this.requests.push(recorded);
    response.on('finish', () => (recorded.status = response.statusCode));
    response.on('close', () => (recorded.status ??= response.statusCode));
    try {
      await handler(recorded, response);
    } catch (error) {
      this.unexpected(response, `the fake's handler failed: ${error instanceof Error ? error.stack : String(error)}`);
    }
  }
}

/** Writes one server-sent event as the real APIs do: `event:` (when named) and one `data:` line. */
export function writeSse(response: ServerResponse, data: unknown, event?: string): void {
  response.write(
    `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`,
  );
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** `prefix` + n random base62 characters, the shape of Anthropic's and OpenAI's ids. */
export function randomId(prefix: string, length = 24): string {
  return prefix + Array.from(randomBytes(length), (byte) => BASE62[byte % 62]).join('');
}

/** Splits `text` into `parts` pieces of about the same length (at least one character each). */
export function splitInto(text: string, parts: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / Math.max(1, parts)));
  const pieces: string[] = [];
  for (let index = 0; index < text.length; index += size) pieces.push(text.slice(index, index + size));
  return pieces.length > 0 ? pieces : [''];
}
