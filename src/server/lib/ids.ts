import { hash, randomBytes, randomUUID } from 'node:crypto';

/** Ids and secrets, behind a class so tests can make them predictable. */
export class IdGenerator {
  id(): string {
    return randomUUID();
  }
  /** A URL-safe secret with 256 bits of entropy, optionally with a recognisable prefix. */
  secret(prefix = ''): string {
    return prefix + randomBytes(32).toString('base64url');
  }
}
export type Ids = Pick<IdGenerator, keyof IdGenerator>;

/**
 * Secrets (session cookies, API tokens, set-up tokens) are stored only as this hash. One-shot
 * `hash` (Node 20.12+): a third of `createHash`'s cost, paid by every authenticated request.
 */
export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}
