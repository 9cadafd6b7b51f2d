import { lookup } from 'node:dns/promises';
import { chmod, chown, mkdir, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { FileOwner } from './workspace.js';

/** A host and port a sandboxed run may reach. */
export interface EgressRoute {
  host: string;
  port: number;
}

/**
 * What one run may reach: the `allowed` routes exactly (the model API it was configured with,
 * even on this machine's loopback), and with `open` any other host on the internet or the LAN —
 * never this machine itself (loopback, its own addresses: mainloop, its Postgres) and never
 * link-local addresses (a cloud's metadata service).
 */
export interface EgressPolicy {
  allowed: EgressRoute[];
  open: boolean;
}

/**
 * mainloop's egress proxy for one sandboxed run: an HTTP proxy (CONNECT for TLS, absolute-form
 * requests for plain HTTP) on a Unix socket that the sandbox shows inside; the sandbox's relay
 * (egress-relay.mjs) brings its loopback's connections here. Every destination is checked against
 * the run's policy after its name is resolved, and the connection goes to the address checked.
 * A refusal is a 403 that says what is allowed and how to allow more.
 */
export class EgressProxy {
  private readonly server: http.Server;
  private readonly sockets = new Set<Duplex>();

  private constructor(
    readonly socketPath: string,
    private readonly policy: EgressPolicy,
    private readonly logger: Logger,
  ) {
    this.server = http.createServer((request, response) => void this.forward(request, response));
    this.server.on('connect', (request: http.IncomingMessage, client: Duplex, head: Buffer) => {
      void this.tunnel(request, client, head);
    });
    this.server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Listens at `socketPath` (its directory made; the socket given to `owner`, the only one who may use it). */
  static async open(options: {
    socketPath: string;
    policy: EgressPolicy;
    owner: FileOwner | undefined;
    logger: Logger;
  }): Promise<EgressProxy> {
    const { socketPath, policy, owner, logger } = options;
    await mkdir(path.dirname(socketPath), { recursive: true, mode: 0o711 });
    await rm(socketPath, { force: true });
    const proxy = new EgressProxy(socketPath, policy, logger);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(socketPath, () => resolve());
    });
    if (owner) await chown(socketPath, owner.uid, owner.gid);
    await chmod(socketPath, 0o600);
    return proxy;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.socketPath, { force: true });
  }

  /** CONNECT host:port — a tunnel, once the destination is allowed. */
  private async tunnel(request: http.IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    client.on('error', () => client.destroy());
    const route = parseAuthority(request.url ?? '');
    const address = route ? await this.resolve(route) : { refused: 'CONNECT needs host:port' };
    if (!route || typeof address !== 'string') {
      const reason = typeof address === 'string' ? '' : address.refused;
      client.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${reason}\n`);
      return;
    }
    const upstream = net.connect({ host: address, port: route.port });
    let connected = false;
    upstream.on('error', (error) => {
      if (connected) client.destroy();
      else client.end(`HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\n\r\n${error.message}\n`);
    });
    upstream.once('connect', () => {
      connected = true;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  }

  /** GET http://host/path and the like — forwarded, once the destination is allowed. */
  private async forward(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    let target: URL;
    try {
      target = new URL(request.url ?? '');
      if (target.protocol !== 'http:') throw new Error('not http');
    } catch {
      response.writeHead(400, { 'content-type': 'text/plain' }).end('send an absolute http:// URL, or CONNECT\n');
      return;
    }
    const route = { host: target.hostname.replace(/^\[|\]$/g, ''), port: Number(target.port || 80) };
    const address = await this.resolve(route);
    if (typeof address !== 'string') {
      response.writeHead(403, { 'content-type': 'text/plain' }).end(`${address.refused}\n`);
      return;
    }
    const headers = { ...request.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const upstream = http.request(
      {
        host: address,
        port: route.port,
        method: request.method,
        path: `${target.pathname}${target.search}`,
        headers,
        setHost: false,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', (error) => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
      response.end(`${error.message}\n`);
    });
    request.pipe(upstream);
  }

  /** The address to connect to for `route`, or why it is refused. */
  private async resolve(route: EgressRoute): Promise<string | { refused: string }> {
    const { allowed, open } = this.policy;
    const host = route.host.toLowerCase();
    const listed = allowed.some((each) => each.host.toLowerCase() === host && each.port === route.port);
    const refused = (why: string) => {
      this.logger.info({ host: route.host, port: route.port, why }, 'sandbox: a connection was refused');
      return { refused: `mainloop's sandbox refused ${route.host}:${route.port}: ${why}` };
    };
    if (!listed && !open) {
      const allowedText = allowed.map((each) => `${each.host}:${each.port}`).join(', ') || 'nothing';
      return refused(
        `this run may reach ${allowedText}; a project's "allow network" setting opens the internet to its tasks`,
      );
    }
    let addresses: string[];
    try {
      addresses = net.isIP(host) ? [host] : (await lookup(host, { all: true })).map((each) => each.address);
    } catch (error) {
      return refused(`its name does not resolve (${(error as Error).message})`);
    }
    if (!addresses.length) return refused('its name does not resolve');
    // Listed routes are what the person configured (a model API on this machine, say): as they are.
    if (listed) return addresses[0]!;
    const local = addresses.find((address) => isLocalAddress(address));
    if (local) return refused(`${local} is this machine or its link-local network, which tasks may not reach`);
    return addresses[0]!;
  }
}

function parseAuthority(authority: string): EgressRoute | undefined {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(authority);
  if (!match) return undefined;
  const port = Number(match[2]);
  return port > 0 && port < 65536 ? { host: match[1]!, port } : undefined;
}

/** Loopback, unspecified, link-local, multicast, or one of this machine's own addresses. */
export function isLocalAddress(address: string): boolean {
  const plain = address.toLowerCase().replace(/^::ffff:(?=\d+\.)/, '');
  if (net.isIPv4(plain)) {
    const [a, b] = plain.split('.').map(Number) as [number, number];
    if (a === 127 || a === 0 || (a === 169 && b === 254) || a >= 224) return true;
  } else if (net.isIPv6(plain)) {
    if (plain === '::1' || plain === '::' || /^fe[89ab]/.test(plain) || plain.startsWith('ff')) return true;
  } else return true;
  return ownAddresses().has(plain);
}

function ownAddresses(): Set<string> {
  const own = new Set<string>();
  for (const entries of Object.values(os.networkInterfaces()))
    for (const entry of entries ?? []) own.add(entry.address.toLowerCase());
  return own;
}

/** The host and port an http(s) URL reaches. */
export function routeOf(url: string): EgressRoute {
  const parsed = new URL(url);
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port };
}
