import type { Logger } from 'pino';
import type { SetupLinkStatus } from '../../contract/auth.js';
import type { Db } from '../db/database.js';
import { DomainError } from '../errors.js';
import type { Clock } from '../lib/clock.js';
import { hashSecret, type Ids } from '../lib/ids.js';
import { toUser, type AuthService, type SignedIn } from './auth.service.js';
import type { Passwords } from './password-hasher.js';
import type { SetupLinkPrinter } from './setup-link-printer.js';
import type { SetupTokenRepository } from './setup-token.repository.js';
import type { UserRepository } from './user.repository.js';

/** A set-up link works for this long, and only once. */
export const SETUP_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

export interface SetupServiceDeps {
  db: Db;
  users: UserRepository;
  setupTokens: SetupTokenRepository;
  passwords: Passwords;
  auth: Pick<AuthService, 'startSession'>;
  printer: Pick<SetupLinkPrinter, 'print'>;
  clock: Clock;
  ids: Ids;
  logger: Logger;
}

/**
 * The owner's way in before they have a password: a one-time set-up link printed at start-up.
 *
 * A new link is printed at every start while the owner has no password, and it replaces the
 * previous one. That holds with MAINLOOP_API_TOKEN set too: a headless set-up can ignore the
 * link, and whoever later wants the web app just restarts and opens the newest link.
 */
export class SetupService {
  constructor(private readonly deps: SetupServiceDeps) {}

  /** At start-up: prints a fresh set-up link while the owner has no password; returns it (or undefined). */
  async offerSetupLink(options: { baseUrl: string; ownerId: string }): Promise<string | undefined> {
    const { db, users, setupTokens, clock, ids, printer, logger } = this.deps;
    const secret = ids.secret();
    const expiresAt = new Date(clock.now().getTime() + SETUP_TOKEN_TTL_MS);
    const created = await db.transaction().execute(async (trx) => {
      const owner = await users.findById(trx, options.ownerId);
      if (!owner || owner.passwordHash) return false;
      await setupTokens.deleteUnused(trx, owner.id);
      await setupTokens.insert(trx, { tokenHash: hashSecret(secret), userId: owner.id, expiresAt });
      return true;
    });
    if (!created) return undefined;
    const link = `${options.baseUrl.replace(/\/+$/, '')}/setup?token=${secret}`;
    printer.print(link, expiresAt);
    // The link is a credential: the log says where to find it, not what it is.
    logger.info(
      { expiresAt: expiresAt.toISOString() },
      'set-up required: open the one-time set-up link printed on the console',
    );
    return link;
  }

  /**
   * Whether a set-up link still works, asked when it is opened, so that a used, replaced or expired
   * link says so before the person fills in the form rather than after.
   */
  async checkLink(token: string): Promise<SetupLinkStatus> {
    const { db, setupTokens, clock } = this.deps;
    const tokenHash = hashSecret(token);
    const problem = await this.linkProblem(tokenHash);
    if (problem) return problem;
    const usable = await setupTokens.findUsable(db, tokenHash, clock.now());
    return usable
      ? { state: 'valid', message: 'Choose the username and password of the owner account.' }
      : INVALID_LINK;
  }

  /** The set-up link's form: the owner chooses a username and password and is signed in. */
  async completeSetup(input: {
    token: string;
    username: string;
    password: string;
    userAgent?: string;
  }): Promise<SignedIn> {
    const { db, users, setupTokens, passwords, clock, auth } = this.deps;
    const tokenHash = hashSecret(input.token);
    // Cheap checks first: hashing a password costs real time and memory.
    const usable = await setupTokens.findUsable(db, tokenHash, clock.now());
    if (!usable) throw await this.invalidTokenError(tokenHash);
    const passwordHash = await passwords.hash(input.password);

    return db.transaction().execute(async (trx) => {
      const token = await setupTokens.consume(trx, tokenHash, clock.now());
      if (!token) throw await this.invalidTokenError(tokenHash);
      const user = await users.findById(trx, token.userId);
      if (!user || user.passwordHash) throw alreadyDone(); // a token outlives its user only by a race with deletion
      const clash = await users.findByUsername(trx, input.username);
      if (clash && clash.id !== user.id) {
        throw new DomainError('CONFLICT', `the username ${input.username} is taken: choose another`, {
          details: { field: 'username' },
        });
      }
      await users.setCredentials(trx, user.id, input.username, passwordHash);
      const session = await auth.startSession(trx, user.id, input.userAgent);
      return { user: toUser({ ...user, username: input.username, passwordHash }), session };
    });
  }

  /**
   * Why a link does not work, if it does not for a reason other than its secret: mainloop is set up
   * already (the link was used), or the link expired. Undefined otherwise.
   */
  private async linkProblem(tokenHash: string): Promise<SetupLinkStatus | undefined> {
    const { db, users, setupTokens, clock } = this.deps;
    const [owner, token] = await Promise.all([users.findOwner(db), setupTokens.find(db, tokenHash)]);
    if (owner?.passwordHash || token?.usedAt) return { state: 'set_up', message: ALREADY_SET_UP };
    if (token && token.expiresAt <= clock.now()) {
      return {
        state: 'expired',
        message:
          'This set-up link has expired: links work for 24 hours. Restart mainloop to print a new one, and open that.',
      };
    }
    return undefined;
  }

  /** A link that does not work, said as checkLink says it: set up already (409), expired or invalid (400). */
  private async invalidTokenError(tokenHash: string): Promise<DomainError> {
    const problem = (await this.linkProblem(tokenHash)) ?? INVALID_LINK;
    return problem.state === 'set_up' ? alreadyDone() : new DomainError('SETUP_TOKEN_INVALID', problem.message);
  }
}

const ALREADY_SET_UP = 'mainloop is already set up: sign in with your username and password.';

const INVALID_LINK: SetupLinkStatus = {
  state: 'invalid',
  message:
    'This set-up link is not valid: it was replaced by a newer one, or mistyped. Open the newest link mainloop printed, or restart mainloop to print a new one.',
};

function alreadyDone(): DomainError {
  return new DomainError('SETUP_ALREADY_DONE', ALREADY_SET_UP);
}
