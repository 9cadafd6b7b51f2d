import http from 'node:http';
import { parentPort } from 'node:worker_threads';
import { now, serveCommands } from './threads.js';

/**
 * Many SSE clients in one thread of their own (so reading does not share the server's event
 * loop). Each records when every event frame (`id: N\nevent: …\n\n`) completes, and once all
 * clients have an event the arrival times go to the main thread as one message.
 */
export interface Arrival {
  /** which set of clients (opened together) */
  group: string;
  id: number;
  /** per client, in `now()` milliseconds */
  times: Float64Array;
}

const port = parentPort!;
const groups = new Map<string, Group>();

class Group {
  readonly clients: Client[];
  readonly arrivals = new Map<number, { count: number; times: Float64Array }>();

  constructor(
    readonly name: string,
    count: number,
  ) {
    this.clients = Array.from({ length: count }, (_, index) => new Client(this, index));
  }

  record(id: number, client: number, at: number): void {
    let entry = this.arrivals.get(id);
    if (!entry)
      this.arrivals.set(id, (entry = { count: 0, times: new Float64Array(this.clients.length).fill(Number.NaN) }));
    if (!Number.isNaN(entry.times[client]!))
      throw new Error(`client ${client} of ${this.name} received event ${id} twice`);
    entry.times[client] = at;
    if (++entry.count === this.clients.length) {
      this.arrivals.delete(id);
      port.postMessage({ notice: { group: this.name, id, times: entry.times } satisfies Arrival }, [
        entry.times.buffer as ArrayBuffer,
      ]);
    }
  }
}

class Client {
  private pending = '';
  /** called at the first `id:` frame without an event: the server's resume frame (see open) */
  private onResume: (() => void) | undefined;
  private request: http.ClientRequest | undefined;
  response: http.IncomingMessage | undefined;

  constructor(
    private readonly group: Group,
    readonly index: number,
  ) {}

  /**
   * Resolves once the stream is live: at its first bytes, or with `untilResumeId` at the server's
   * resume frame (`id: N`), which mainloop sends once it knows where the stream starts. An event
   * committed before then may be counted in N, and so not sent to this client.
   */
  open(url: string, headers: Record<string, string>, untilResumeId: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      if (untilResumeId) this.onResume = resolve;
      const request = http.get(url, { headers, agent: false }, (response) => {
        if (response.statusCode !== 200) {
          reject(new Error(`GET ${url} answered ${response.statusCode}`));
          response.resume();
          return;
        }
        this.response = response;
        response.setEncoding('latin1');
        let opened = false;
        response.on('data', (chunk: string) => {
          const at = now();
          if (!opened && !untilResumeId) {
            opened = true;
            resolve();
          }
          this.read(chunk, at);
        });
        response.on('error', () => {});
      });
      request.on('error', reject);
      this.request = request;
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      const socket = this.request?.socket;
      if (!socket || socket.destroyed) return resolve();
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  private read(chunk: string, at: number): void {
    const text = this.pending + chunk;
    let start = 0;
    for (let end = text.indexOf('\n\n', start); end >= 0; end = text.indexOf('\n\n', start)) {
      if (text.startsWith('id: ', start)) {
        const lineEnd = text.indexOf('\n', start);
        if (lineEnd < end && text.startsWith('\nevent: ', lineEnd))
          this.group.record(Number(text.slice(start + 4, lineEnd)), this.index, at);
        else if (lineEnd === end) this.onResume?.();
      }
      start = end + 2;
    }
    this.pending = start === text.length ? '' : text.slice(start);
  }
}

serveCommands(port, {
  /** Opens `count` streams (at most `concurrency` handshakes at a time); resolves once each is live (see Client.open). */
  async open(options: {
    group: string;
    url: string;
    headers: Record<string, string>;
    count: number;
    concurrency?: number;
    untilResumeId?: boolean;
  }) {
    const { url, headers, count, concurrency = 50, untilResumeId = false } = options;
    const group = new Group(options.group, count);
    groups.set(group.name, group);
    const clients = group.clients;
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, count) }, async () => {
        while (next < count) await clients[next++]!.open(url, headers, untilResumeId);
      }),
    );
    return count;
  },
  async close({ group }: { group?: string } = {}) {
    for (const [name, { clients }] of groups) {
      if (group !== undefined && name !== group) continue;
      groups.delete(name);
      await Promise.all(clients.map((client) => client.close()));
    }
  },
});
