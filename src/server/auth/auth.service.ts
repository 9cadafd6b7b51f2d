import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { SessionInfo, User } from '../../contract/auth.js';
import type { Db, Queryable } from '../db/database.js';
import { DomainError } from '../errors.js';
import type { Principal } from '../http/request-context.js';
import type { Clock } from '../lib/clock.js';
import { hashSecret, type Ids } from '../lib/ids.js';
import type { ApiTokenRepository } from './api-token.repository.js';
import { isSameOrigin, readCredentials, type Credentials } from './credentials.js';
import type { Passwords } from './password-hasher.js';
import type { SessionRepository } from './session.repository.js';
import type { UserRecord, UserRepository } from './user.repository.js';

/** A session lasts this long after its last use. */
export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** Using a session moves its expiry at most this often (one write per hour, not per request). */
const SESSION_SLIDE_MS = 60 * 60 * 1000;
/** How long a credential lookup is trusted without asking the database again. */
const CACHE_MS = 10_000;
const CACHE_LIMIT = 10_000;

export interface AuthServiceDeps {
  db: Db;
  users: UserRepository;
  tokens: ApiTokenRepository;
  sessions: SessionRepository;
  passwords: Passwords;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  /** MAINLOOP_PUBLIC_URL: an `Origin` equal to it counts as same-origin */
  publicUrl?: string;
}

/** A session just started: the secret goes into the cookie and is never stored. */
export interface NewSession {
  secret: string;
  expiresAt: Date;
}

export interface SignedIn {
  user: User;
  session: NewSession;
}

interface CachedSession {
  principal: Principal;
  expiresAt: number;
  lastSeenAt: number;
  until: number;
}

/**
 * Who is calling: an API token (`Authorization: Bearer`) or a session cookie, the token
 * winning when both are sent. Lookups are cached for CACHE_MS: signing out or revoking
 * through this instance takes effect at once, through another instance within CACHE_MS.
 * Cookie-authenticated requests that change state must come from mainloop's own origin.
 */
export class AuthService {
  private readonly tokenCache = new Map<string, { principal: Promise<Principal | null>; until: number }>();
  private readonly sessionCache = new Map<string, CachedSession>();

  constructor(private readonly deps: AuthServiceDeps) {}

  /** The HTTP guard's entry point (see http/app.ts). */
  authenticate(request: FastifyRequest): Promise<Principal | null> {
    return this.authenticateCredentials(readCredentials(request));
  }

  // Not `async`: a bearer request, the common case for scripts, is answered from the token cache's
  // promise without wrapping it in another (each costs, with async hooks enabled).
  authenticateCredentials(credentials: Credentials): Promise<Principal | null> {
    switch (credentials.kind) {
      case 'bearer':
        return credentials.token ? this.authenticateToken(credentials.token) : Promise.resolve(null);
      case 'session':
        return this.authenticateSession(credentials);
      case 'none':
        return Promise.resolve(null);
    }
  }

  private async authenticateSession(credentials: Extract<Credentials, { kind: 'session' }>): Promise<Principal | null> {
    const session = await this.findSession(credentials.secret);
    if (session && credentials.changesState) this.assertSameOrigin(credentials);
    return session?.principal ?? null;
  }

  /**
   * The token's owner, or null. Requests that arrive together with the same token share one
   * database read (its entry is in the cache from the moment the read starts, so a revocation
   * that lands meanwhile removes it).
   */
  authenticateToken(token: string): Promise<Principal | null> {
    const tokenHash = hashSecret(token);
    const now = this.deps.clock.now().getTime();
    const cached = this.tokenCache.get(tokenHash);
    if (cached && cached.until > now) return cached.principal;
    const entry = { principal: this.findToken(tokenHash, now), until: now + CACHE_MS };
    if (this.tokenCache.size > CACHE_LIMIT) this.tokenCache.clear();
    this.tokenCache.set(tokenHash, entry);
    entry.principal.catch(() => {
      if (this.tokenCache.get(tokenHash) === entry) this.tokenCache.delete(tokenHash);
    });
    return entry.principal;
  }

  /** A revoked token stops working on this instance at once. */
  forgetToken(tokenHash: string): void {
    this.tokenCache.delete(tokenHash);
  }

  /** Username and password → a new session. Unknown users cost the same time as wrong passwords. */
  async login(input: { username: string; password: string; userAgent?: string }): Promise<SignedIn> {
    const { db, users, passwords } = this.deps;
    const user = await users.findByUsername(db, input.username);
    const valid = user?.passwordHash
      ? await passwords.verify(user.passwordHash, input.password)
      : await passwords.verifyDecoy(input.password);
    if (!user || !valid) throw new DomainError('INVALID_CREDENTIALS', 'the username or password is wrong');
    return { user: toUser(user), session: await this.startSession(db, user.id, input.userAgent) };
  }

  /** Starts a session for the user, inside the caller's transaction when given one. */
  async startSession(db: Queryable, userId: string, userAgent?: string): Promise<NewSession> {
    const { sessions, clock, ids } = this.deps;
    const now = clock.now();
    const secret = ids.secret();
    const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
    await sessions.deleteExpired(db, userId, now);
    await sessions.insert(db, {
      id: ids.id(),
      userId,
      secretHash: hashSecret(secret),
      expiresAt,
      lastSeenAt: now,
      userAgent: userAgent?.slice(0, 512) ?? null,
    });
    return { secret, expiresAt };
  }

  /** Ends the cookie's session (a request without one has nothing to end). */
  async logout(credentials: Credentials): Promise<void> {
    if (credentials.kind !== 'session') return;
    if (credentials.changesState) this.assertSameOrigin(credentials);
    const secretHash = hashSecret(credentials.secret);
    this.sessionCache.delete(secretHash);
    const id = await this.deps.sessions.deleteByHash(this.deps.db, secretHash);
    if (id) this.deps.logger.info({ sessionId: id }, 'signed out');
  }

  /**
   * Who is signed in (null for nobody) and whether the owner still has to set a password.
   * `sessionExpiresAt` is set when the caller came with a live session cookie, so the cookie can be renewed.
   */
  async sessionInfo(
    credentials: Credentials,
  ): Promise<{ info: SessionInfo; sessionExpiresAt?: Date; staleCookie: boolean }> {
    const { db, users } = this.deps;
    let session: CachedSession | undefined;
    let principal: Principal | null;
    if (credentials.kind === 'session') {
      session = await this.findSession(credentials.secret); // reading who one is needs no origin check
      principal = session?.principal ?? null;
    } else {
      principal = await this.authenticateCredentials(credentials);
    }
    const [user, owner] = await Promise.all([
      principal ? users.findById(db, principal.userId) : undefined,
      users.findOwner(db),
    ]);
    return {
      info: { user: user ? toUser(user) : null, setupRequired: !owner?.passwordHash },
      sessionExpiresAt: session ? new Date(session.expiresAt) : undefined,
      staleCookie: credentials.kind === 'session' && !session,
    };
  }

  /**
   * First start: make sure the owner exists, and that MAINLOOP_API_TOKEN (when set) is their token.
   */
  async bootstrap(options: { apiToken: string | undefined }): Promise<{ ownerId: string }> {
    const { db, users, tokens, ids, clock } = this.deps;
    return db.transaction().execute(async (trx) => {
      let owner = await users.findOwner(trx);
      if (!owner) owner = await users.insert(trx, { id: ids.id(), username: 'owner', isOwner: true });
      const tokenHash = options.apiToken ? hashSecret(options.apiToken) : undefined;
      await tokens.revokeEnvTokensExcept(trx, tokenHash, clock.now());
      if (tokenHash) {
        await tokens.insert(trx, {
          id: ids.id(),
          userId: owner.id,
          name: 'MAINLOOP_API_TOKEN',
          tokenHash,
          source: 'env',
        });
      }
      return { ownerId: owner.id };
    });
  }

  /** The active token with this hash, its last use written at most once a minute. */
  private async findToken(tokenHash: string, now: number): Promise<Principal | null> {
    const record = await this.deps.tokens.findActiveByHash(this.deps.db, tokenHash);
    if (!record) return null;
    if (!record.lastUsedAt || now - record.lastUsedAt.getTime() > 60_000) {
      await this.deps.tokens.touch(this.deps.db, record.id, new Date(now));
    }
    return { userId: record.userId, isOwner: record.isOwner, via: 'token' };
  }

  /** The live session with this secret (cached), its expiry slid forward at most hourly. */
  private async findSession(secret: string): Promise<CachedSession | undefined> {
    const { db, sessions, clock } = this.deps;
    const secretHash = hashSecret(secret);
    const now = clock.now().getTime();
    let entry = this.sessionCache.get(secretHash);
    if (!entry || entry.until <= now) {
      const record = await sessions.findByHash(db, secretHash);
      if (!record) {
        this.sessionCache.delete(secretHash);
        return undefined;
      }
      entry = {
        principal: { userId: record.userId, isOwner: record.isOwner, via: 'session', sessionId: record.id },
        expiresAt: record.expiresAt.getTime(),
        lastSeenAt: record.lastSeenAt.getTime(),
        until: now + CACHE_MS,
      };
      if (this.sessionCache.size > CACHE_LIMIT) this.sessionCache.clear();
      this.sessionCache.set(secretHash, entry);
    }
    if (entry.expiresAt <= now) {
      this.sessionCache.delete(secretHash);
      return undefined;
    }
    if (now - entry.lastSeenAt >= SESSION_SLIDE_MS) {
      entry.lastSeenAt = now;
      entry.expiresAt = now + SESSION_TTL_MS;
      await sessions.extend(db, entry.principal.sessionId!, new Date(now), new Date(entry.expiresAt));
    }
    return entry;
  }

  private assertSameOrigin(credentials: Extract<Credentials, { kind: 'session' }>): void {
    if (!isSameOrigin(credentials.origin, this.deps.publicUrl)) {
      throw new DomainError(
        'FORBIDDEN_ORIGIN',
        'this request carries the session cookie but does not come from mainloop itself (Origin / Sec-Fetch-Site); scripts should use an API token',
      );
    }
  }
}

export function toUser(record: UserRecord): User {
  return {
    id: record.id,
    username: record.username,
    isOwner: record.isOwner,
    createdAt: record.createdAt.toISOString(),
  };
}
