import { randomBytes, webcrypto } from 'node:crypto';
import utils from 'pg/lib/crypto/utils.js';
import { describe, expect, it } from 'vitest';
import './pg-scram.js';

type Fn = (...args: unknown[]) => Promise<Uint8Array>;
const call = async (name: string, ...args: unknown[]) => Buffer.from(await (utils[name] as Fn)(...args));
const { subtle } = webcrypto;

describe("pg's SCRAM helpers on node:crypto", () => {
  it('compute what WebCrypto computes', async () => {
    const salt = randomBytes(16);
    const password = await subtle.importKey('raw', new TextEncoder().encode('secret'), 'PBKDF2', false, ['deriveBits']);
    const salted = Buffer.from(
      await subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: 16 }, password, 256),
    );
    expect(await call('deriveKey', 'secret', salt, 16)).toEqual(salted);

    const hmacKey = await subtle.importKey('raw', salted, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const signed = Buffer.from(await subtle.sign('HMAC', hmacKey, new TextEncoder().encode('Client Key')));
    expect(
      await call('hmacSha256', salted.buffer.slice(salted.byteOffset, salted.byteOffset + 32), 'Client Key'),
    ).toEqual(signed);
    expect(await call('hmacSha256', salted, 'Client Key')).toEqual(signed);

    expect(await call('sha256', signed)).toEqual(Buffer.from(await subtle.digest('SHA-256', signed)));
    expect(await call('hashByName', 'SHA-384', signed)).toEqual(Buffer.from(await subtle.digest('SHA-384', signed)));
  });
});
