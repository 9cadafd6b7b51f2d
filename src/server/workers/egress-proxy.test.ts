import { mkdtemp, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EgressProxy, isLocalAddress, routeOf, type EgressPolicy } from './egress-proxy.js';

/** The egress proxy, spoken to as a sandbox's relay does: over its Unix socket. */

let dir: string;
let target: http.Server;
let targetPort: number;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mainloop-egress-'));
  target = http.createServer((request, response) => response.end(`target saw ${request.method} ${request.url}`));
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  targetPort = (target.address() as net.AddressInfo).port;
});
afterAll(async () => {
  target.close();
  await rm(dir, { recursive: true, force: true });
});

async function withProxy(policy: EgressPolicy, use: (socketPath: string) => Promise<void>): Promise<void> {
  const proxy = await EgressProxy.open({
    socketPath: path.join(dir, `egress-${Math.random().toString(36).slice(2)}.sock`),
    policy,
    owner: undefined,
    logger: pino({ level: 'silent' }),
  });
  try {
    await use(proxy.socketPath);
  } finally {
    await proxy.close();
  }
}

/**
 * Sends `request` over the socket (and `after` once a tunnel is up); answers the first line of the
 * answer and all that came after its head, once the connection closed.
 */
function exchange(socketPath: string, request: string, after?: string): Promise<{ status: string; rest: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath, () => socket.write(request));
    let data = '';
    socket.on('data', (chunk: Buffer) => {
      const first = !data;
      data += chunk.toString();
      if (first && after && data.startsWith('HTTP/1.1 200')) socket.write(after);
    });
    socket.on('close', () => {
      const head = data.indexOf('\r\n\r\n');
      resolve({ status: data.split('\r\n')[0]!, rest: head < 0 ? '' : data.slice(head + 4) });
    });
    socket.on('error', reject);
  });
}

const connect = (host: string, port: number) => `CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`;
const get = (url: string) => `GET ${url} HTTP/1.1\r\nHost: ${new URL(url).host}\r\nConnection: close\r\n\r\n`;

describe('EgressProxy', () => {
  it('tunnels to a route it lists (a model API on this machine), and nothing else of this machine', async () => {
    await withProxy({ allowed: [{ host: '127.0.0.1', port: targetPort }], open: false }, async (socket) => {
      const tunnel = await exchange(
        socket,
        connect('127.0.0.1', targetPort),
        `GET /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      );
      expect(tunnel.status).toBe('HTTP/1.1 200 Connection Established');
      expect(tunnel.rest).toContain('target saw GET /v1');

      const other = await exchange(socket, connect('127.0.0.1', targetPort + 1));
      expect(other.status).toMatch(/^HTTP\/1\.1 403/);
      expect(other.rest).toContain(`this run may reach 127.0.0.1:${targetPort}`);
      expect((await exchange(socket, connect('example.com', 443))).status).toMatch(/^HTTP\/1\.1 403/);
    });
  });

  it('forwards a plain http request to a listed route, and refuses the rest', async () => {
    await withProxy({ allowed: [{ host: '127.0.0.1', port: targetPort }], open: false }, async (socket) => {
      const answer = await exchange(socket, get(`http://127.0.0.1:${targetPort}/models?x=1`));
      expect(answer.status).toBe('HTTP/1.1 200 OK');
      expect(answer.rest).toContain('target saw GET /models?x=1');
      const refused = await exchange(socket, get(`http://127.0.0.1:${targetPort + 1}/`));
      expect(refused.status).toMatch(/^HTTP\/1\.1 403/);
    });
  });

  it('open to the internet, it still refuses this machine, its own addresses and link-local ones', async () => {
    const own = Object.values(os.networkInterfaces())
      .flat()
      .find((entry) => entry && !entry.internal)?.address;
    await withProxy({ allowed: [], open: true }, async (socket) => {
      for (const [host, port] of [
        ['127.0.0.1', targetPort],
        ['localhost', targetPort],
        ['[::1]', targetPort],
        ['169.254.169.254', 80],
        ['0.0.0.0', targetPort],
        ...(own ? [[own.includes(':') ? `[${own}]` : own, targetPort] as const] : []),
      ] as const) {
        const answer = await exchange(socket, connect(String(host), Number(port)));
        expect(answer.status, `${host}:${port}`).toMatch(/^HTTP\/1\.1 403/);
      }
    });
  });

  it('gives its socket to the run alone', async () => {
    await withProxy({ allowed: [], open: false }, async (socket) => {
      expect((await stat(socket)).mode & 0o777).toBe(0o600);
    });
  });
});

describe('isLocalAddress and routeOf', () => {
  it('knows this machine and its link-local network from the internet', () => {
    for (const address of [
      '127.0.0.1',
      '127.8.0.1',
      '::1',
      '::',
      '0.0.0.0',
      '169.254.169.254',
      'fe80::1',
      '::ffff:127.0.0.1',
      '224.0.0.1',
    ])
      expect(isLocalAddress(address), address).toBe(true);
    for (const address of ['1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '10.1.2.3'])
      expect(isLocalAddress(address), address).toBe(false);
  });

  it('reads the route of an http(s) URL', () => {
    expect(routeOf('https://api.anthropic.com')).toEqual({ host: 'api.anthropic.com', port: 443 });
    expect(routeOf('http://127.0.0.1:8080/v1')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(routeOf('http://[::1]:9/')).toEqual({ host: '::1', port: 9 });
  });
});
