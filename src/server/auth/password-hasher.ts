import { randomBytes } from 'node:crypto';
import { hash, verify, type Options } from '@node-rs/argon2';

/**
 * Password hashing: argon2id with @node-rs/argon2's defaults (19 MiB, 2 passes, 1 lane: the
 * OWASP minimum). Runs on libuv's thread pool, so a hash does not block the event loop.
 */
export class PasswordHasher {
  /** A hash of nothing anyone knows, verified against when the user does not exist. */
  private readonly decoy: Promise<string>;

  constructor(private readonly options: Options = {}) {
    this.decoy = this.hash(randomBytes(24).toString('base64url'));
    this.decoy.catch(() => {}); // surfaces at the first verifyDecoy, not as an unhandled rejection
  }

  hash(password: string): Promise<string> {
    return hash(password, this.options);
  }

  /** false for a wrong password and for a hash that is not argon2 at all. */
  async verify(passwordHash: string, password: string): Promise<boolean> {
    try {
      return await verify(passwordHash, password);
    } catch {
      return false;
    }
  }

  /** Spends the time a real verification takes, so a login answer does not tell whether the user exists. */
  async verifyDecoy(password: string): Promise<false> {
    await this.verify(await this.decoy, password);
    return false;
  }
}
export type Passwords = Pick<PasswordHasher, keyof PasswordHasher>;
