import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import utils from 'pg/lib/crypto/utils.js';

/**
 * pg computes each connection's SCRAM-SHA-256 proof through WebCrypto: a dozen asynchronous calls,
 * each a round through the thread pool, several milliseconds of CPU per connection; a pool that
 * grows under a burst of requests pays them at the worst moment. pg's SASL code looks these
 * functions up on its crypto module at each call, so they are replaced here, once, by node:crypto's
 * synchronous ones (as pg itself did before 8.12), with the same results. If pg's module no longer
 * has them, it is left as it is.
 */
const NAMES = ['deriveKey', 'sha256', 'hashByName', 'hmacSha256'] as const;

if (NAMES.every((name) => typeof utils[name] === 'function')) {
  Object.assign(utils, {
    deriveKey: async (password: string, salt: Uint8Array, iterations: number) =>
      pbkdf2Sync(password, salt, iterations, 32, 'sha256'),
    sha256: async (data: Uint8Array | ArrayBuffer) => createHash('sha256').update(toBuffer(data)).digest(),
    hashByName: async (name: string, data: Uint8Array | ArrayBuffer) =>
      createHash(name.replace('-', '').toLowerCase()).update(toBuffer(data)).digest(),
    hmacSha256: async (key: Uint8Array | ArrayBuffer, message: string) =>
      createHmac('sha256', toBuffer(key)).update(message).digest(),
  });
}

function toBuffer(data: Uint8Array | ArrayBuffer): Buffer {
  return data instanceof ArrayBuffer ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
