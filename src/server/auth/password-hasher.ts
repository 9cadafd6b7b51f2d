import { randomBytes } from 'node:crypto';
import type { Options } from '@node-rs/argon2';

/**
 * What an unknown user's password is verified against: an argon2id hash, with the default
 * parameters, of 24 random bytes that were thrown away. Written out rather than made at each
 * start, which would cost start-up a hash (tens of milliseconds of CPU).
 */
const DEFAULT_DECOY =
  '$argon2id$v=19$m=19456,t=2,p=1$YCTop+i63BcmymbzT6I4Yw$IzN9jqRAmQpaU13HxL+yUMh3HKfIa95IYavsHhAYgbM';

/** The native argon2 binding, loaded at the first hash or verification (none is needed to start). */
let argon2: Promise<typeof import('@node-rs/argon2')> | undefined;
const loadArgon2 = () => (argon2 ??= import('@node-rs/argon2'));

/**
 * Password hashing: argon2id with @node-rs/argon2's defaults (19 MiB, 2 passes, 1 lane: the
 * OWASP minimum). Runs on libuv's thread pool, so a hash does not block the event loop.
 */
export class PasswordHasher {
  /** A hash of nothing anyone knows, verified against when the user does not exist. */
  private readonly decoy: Promise<string>;

  constructor(private readonly options: Options = {}) {
    this.decoy =
      Object.keys(options).length === 0
        ? Promise.resolve(DEFAULT_DECOY)
        : this.hash(randomBytes(24).toString('base64url'));
    this.decoy.catch(() => {}); // surfaces at the first verifyDecoy, not as an unhandled rejection
  }

  async hash(password: string): Promise<string> {
    return (await loadArgon2()).hash(password, this.options);
  }

  /** false for a wrong password and for a hash that is not argon2 at all. */
  async verify(passwordHash: string, password: string): Promise<boolean> {
    const { verify } = await loadArgon2();
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
