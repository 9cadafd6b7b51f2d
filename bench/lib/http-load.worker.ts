import http from 'node:http';
import { parentPort } from 'node:worker_threads';
import { now, serveCommands } from './threads.js';

/**
 * A small HTTP load generator in a thread of its own (so it does not share the server's event
 * loop): `connections` keep-alive connections, each sending the next GET as soon as the previous
 * answer has been read, for `durationMs`.
 */
export interface LoadOptions {
  url: string;
  headers: Record<string, string>;
  connections: number;
  durationMs: number;
}

export interface LoadResult {
  /** answers with status 200 */
  ok: number;
  /** other statuses and failed requests */
  failed: number;
  elapsedMs: number;
  /** latency percentiles of the 200s, ms */
  p50: number;
  p99: number;
}

serveCommands(parentPort!, {
  async load(options: LoadOptions): Promise<LoadResult> {
    const target = new URL(options.url);
    const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
    const latencies: number[] = [];
    let failed = 0;
    const started = now();
    const end = started + options.durationMs;
    const one = () =>
      new Promise<void>((resolve) => {
        const sent = now();
        const request = http.get(
          { host: target.hostname, port: target.port, path: target.pathname, headers: options.headers, agent },
          (response) => {
            response.resume();
            response.on('end', () => {
              if (response.statusCode === 200) latencies.push(now() - sent);
              else failed++;
              resolve();
            });
          },
        );
        request.on('error', () => {
          failed++;
          resolve();
        });
      });
    await Promise.all(
      Array.from({ length: options.connections }, async () => {
        while (now() < end) await one();
      }),
    );
    const elapsedMs = now() - started;
    agent.destroy();
    latencies.sort((a, b) => a - b);
    const at = (fraction: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * fraction))] ?? NaN;
    return { ok: latencies.length, failed, elapsedMs, p50: at(0.5), p99: at(0.99) };
  },
});
