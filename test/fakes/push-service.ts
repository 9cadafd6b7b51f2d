import {
  createDecipheriv,
  createECDH,
  createPublicKey,
  hkdfSync,
  randomBytes,
  randomUUID,
  verify,
  type ECDH,
} from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A Web Push service on 127.0.0.1, speaking the real protocol at its end, with node:crypto only
 * (never the web-push library, which is what it checks):
 * - RFC 8292 (VAPID): `Authorization: vapid t=<JWT>, k=<public key>`; the JWT's ES256 signature is
 *   verified against `k`, `aud` must be this service's origin, `exp` in the future (≤ 24 h), `sub` set;
 * - RFC 8291 / 8188 (aes128gcm): the body is decrypted with the device's private key and auth
 *   secret (ECDH P-256, HKDF-SHA-256, AES-128-GCM, padding delimiter) and the JSON payload recorded;
 * - RFC 8030: `TTL` required, `Urgency` recorded; answers 201 Created, or what a test scripts for a
 *   device (404/410: gone, 500: failing); `hold()` keeps answers back until `release()`.
 * Anything that does not verify is answered 400/401 and recorded in `problems`: `close()` throws then.
 */
export class FakePushService {
  readonly received: ReceivedPush[] = [];
  readonly problems: string[] = [];
  /** requests that arrived, verified or not (the bench's floor posts count here too) */
  requests = 0;
  private readonly devices = new Map<string, FakeDevice>();
  private readonly sockets = new Set<Socket>();
  private readonly held: Array<() => void> = [];
  private holding = false;
  private origin = '';

  private readonly server: Server;

  private constructor() {
    this.server = createServer((request, response) => void this.handle(request, response));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(): Promise<FakePushService> {
    const fake = new FakePushService();
    const server = fake.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    fake.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return fake;
  }

  /** `http://127.0.0.1:<port>`: the `aud` a VAPID token for this service must carry */
  get url(): string {
    return this.origin;
  }

  /** A browser's new subscription: its own P-256 key pair and 16-byte auth secret. */
  device(): FakeDevice {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const id = randomUUID();
    const device = new FakeDevice(id, `${this.origin}/push/${id}`, ecdh, randomBytes(16));
    this.devices.set(id, device);
    return device;
  }

  /** Answers requests only once `release()` is called (a send in flight when a server dies). */
  hold(): void {
    this.holding = true;
  }

  release(): void {
    this.holding = false;
    for (const answer of this.held.splice(0)) answer();
  }

  /** Requests waiting for `release()`. */
  get waiting(): number {
    return this.held.length;
  }

  async waitFor(count: number, timeoutMs = 10_000): Promise<ReceivedPush[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (Date.now() > deadline) {
        throw new Error(`expected ${count} push(es), received ${this.received.length}; problems: ${this.problems}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.received;
  }

  assertNoProblems(): void {
    if (this.problems.length) throw new Error(`the push service refused:\n  - ${this.problems.join('\n  - ')}`);
  }

  async close(): Promise<void> {
    this.release();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.assertNoProblems();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    this.requests++;
    const path = new URL(request.url ?? '/', this.origin).pathname;
    if (path === '/floor') return void response.writeHead(201).end();
    const device = this.devices.get(/^\/push\/([^/]+)$/.exec(path)?.[1] ?? '');
    const refuse = (status: number, problem: string) => {
      this.problems.push(problem);
      response.writeHead(status, { 'content-type': 'text/plain' }).end(problem);
    };
    if (request.method !== 'POST') return refuse(405, `${request.method} ${path}: only POST is a push`);
    if (!device) return refuse(404, `no subscription at ${path}`);

    let vapid: VapidClaims;
    try {
      vapid = this.verifyVapid(request.headers.authorization);
    } catch (error) {
      return refuse(401, `VAPID: ${(error as Error).message}`);
    }
    if (!/^\d+$/.test(String(request.headers.ttl ?? ''))) return refuse(400, 'TTL header missing or not a number');
    if (request.headers['content-encoding'] !== 'aes128gcm') {
      return refuse(400, `Content-Encoding must be aes128gcm, was ${request.headers['content-encoding']}`);
    }
    let payload: unknown;
    try {
      payload = JSON.parse(device.decrypt(body).toString('utf8'));
    } catch (error) {
      return refuse(400, `payload: ${(error as Error).message}`);
    }
    const push: ReceivedPush = {
      deviceId: device.id,
      endpoint: device.endpoint,
      payload,
      bytes: body.length,
      ttl: Number(request.headers.ttl),
      urgency: typeof request.headers.urgency === 'string' ? request.headers.urgency : undefined,
      vapid,
      status: device.status,
    };
    const answer = () => {
      this.received.push(push);
      device.received.push(push);
      response.writeHead(push.status, push.status === 201 ? { location: `${device.endpoint}/m/${randomUUID()}` } : {});
      response.end();
    };
    if (this.holding) this.held.push(answer);
    else answer();
  }

  private verifyVapid(header: string | undefined): VapidClaims {
    const match = /^vapid\s+(.+)$/i.exec(header ?? '');
    if (!match) throw new Error(`Authorization is not "vapid t=…, k=…": ${header}`);
    const params = new Map(
      match[1]!.split(',').map((part) => {
        const [key, ...value] = part.trim().split('=');
        return [key!.trim(), value.join('=').trim()] as const;
      }),
    );
    const token = params.get('t');
    const key = params.get('k');
    if (!token || !key) throw new Error('t= or k= missing');
    const publicKey = Buffer.from(key, 'base64url');
    if (publicKey.length !== 65 || publicKey[0] !== 4) throw new Error('k is not an uncompressed P-256 point');
    const [encodedHeader, encodedClaims, encodedSignature] = token.split('.');
    if (!encodedHeader || !encodedClaims || !encodedSignature) throw new Error('t is not a JWT');
    const jwtHeader = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8')) as { alg?: string };
    if (jwtHeader.alg !== 'ES256') throw new Error(`alg must be ES256, was ${jwtHeader.alg}`);
    const jwk = {
      kty: 'EC',
      crv: 'P-256',
      x: publicKey.subarray(1, 33).toString('base64url'),
      y: publicKey.subarray(33, 65).toString('base64url'),
    };
    const valid = verify(
      'sha256',
      Buffer.from(`${encodedHeader}.${encodedClaims}`),
      { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
      Buffer.from(encodedSignature, 'base64url'),
    );
    if (!valid) throw new Error('the JWT signature does not verify with k');
    const claims = JSON.parse(Buffer.from(encodedClaims, 'base64url').toString('utf8')) as Partial<VapidClaims>;
    if (claims.aud !== this.origin) throw new Error(`aud must be ${this.origin}, was ${claims.aud}`);
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== 'number' || claims.exp <= now) throw new Error(`exp is not in the future: ${claims.exp}`);
    if (claims.exp > now + 24 * 60 * 60) throw new Error('exp is more than 24 hours ahead');
    if (!claims.sub || !/^(mailto:|https:)/.test(claims.sub))
      throw new Error(`sub must be mailto: or https:, was ${claims.sub}`);
    return { aud: claims.aud, exp: claims.exp, sub: claims.sub, publicKey: key };
  }
}

export interface VapidClaims {
  aud: string;
  exp: number;
  sub: string;
  /** `k=`: the server's public key */
  publicKey: string;
}

export interface ReceivedPush {
  deviceId: string;
  endpoint: string;
  /** the decrypted payload, parsed as JSON */
  payload: unknown;
  /** encrypted body size */
  bytes: number;
  ttl: number;
  urgency: string | undefined;
  vapid: VapidClaims;
  /** what the fake answered */
  status: number;
}

/** One subscribed browser: what `pushManager.subscribe()` returns, and the private key to read its messages. */
export class FakeDevice {
  readonly received: ReceivedPush[] = [];
  /** what the push service answers for this device: 201, or 404/410 (gone), 500 (failing) */
  status = 201;

  constructor(
    readonly id: string,
    readonly endpoint: string,
    private readonly ecdh: ECDH,
    private readonly authSecret: Buffer,
  ) {}

  /** `PushSubscription.toJSON()` */
  get subscription(): { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } } {
    return {
      endpoint: this.endpoint,
      expirationTime: null,
      keys: { p256dh: this.ecdh.getPublicKey().toString('base64url'), auth: this.authSecret.toString('base64url') },
    };
  }

  /** RFC 8291 §3.4 and RFC 8188 §2: one aes128gcm record, keyid = the sender's public key. */
  decrypt(body: Buffer): Buffer {
    if (body.length < 21 + 65 + 17) throw new Error(`body too short for aes128gcm (${body.length} bytes)`);
    const salt = body.subarray(0, 16);
    const recordSize = body.readUInt32BE(16);
    const keyIdLength = body[20]!;
    if (keyIdLength !== 65) throw new Error(`keyid must be the sender's 65-byte public key, was ${keyIdLength} bytes`);
    const senderPublicKey = body.subarray(21, 21 + keyIdLength);
    const record = body.subarray(21 + keyIdLength);
    if (record.length > recordSize) throw new Error(`more than one record (${record.length} > rs ${recordSize})`);

    const sharedSecret = this.ecdh.computeSecret(senderPublicKey);
    const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), this.ecdh.getPublicKey(), senderPublicKey]);
    const ikm = Buffer.from(hkdfSync('sha256', sharedSecret, this.authSecret, keyInfo, 32));
    const contentKey = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
    const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));

    const decipher = createDecipheriv('aes-128-gcm', contentKey, nonce);
    decipher.setAuthTag(record.subarray(record.length - 16));
    const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
    let end = padded.length - 1;
    while (end >= 0 && padded[end] === 0) end--;
    if (padded[end] !== 2) throw new Error('the last record does not end with the 0x02 padding delimiter');
    return padded.subarray(0, end);
  }
}
