import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { openDatabase, type Database } from '../db/database.js';
import { DomainError } from '../errors.js';
import { hashSecret, IdGenerator } from '../lib/ids.js';
import { ApiTokenRepository } from './api-token.repository.js';
import { AuthService, SESSION_TTL_MS } from './auth.service.js';
import type { Credentials, OriginFacts } from './credentials.js';
import { PasswordHasher } from './password-hasher.js';
import { SessionRepository } from './session.repository.js';
import { UserRepository } from './user.repository.js';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

class FakeClock {
  constructor(private time = new Date('2026-03-01T12:00:00Z').getTime()) {}
  now(): Date {
    return new Date(this.time);
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

let testDatabase: TestDatabase;
let database: Database;
const users = new UserRepository();
const passwords = new PasswordHasher();
let clock: FakeClock;
let auth: AuthService;
let ownerId: string;

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  database = openDatabase(testDatabase.url);
});
afterAll(async () => {
  await database?.close();
  await testDatabase?.drop();
});
beforeEach(async () => {
  await database.db.deleteFrom('users').execute();
  clock = new FakeClock();
  auth = new AuthService({
    db: database.db,
    users,
    tokens: new ApiTokenRepository(),
    sessions: new SessionRepository(),
    passwords,
    clock,
    ids: new IdGenerator(),
    logger: pino({ level: 'silent' }),
  });
  ownerId = (
    await users.insert(database.db, {
      id: 'owner-1',
      username: 'ada',
      isOwner: true,
      passwordHash: await passwords.hash('s3cret-password'),
    })
  ).id;
});

const sameOrigin: OriginFacts = { fetchSite: 'same-origin', origin: undefined, self: 'http://127.0.0.1:3000' };
const crossOrigin: OriginFacts = {
  fetchSite: 'cross-site',
  origin: 'https://evil.example',
  self: 'http://127.0.0.1:3000',
};
const cookie = (secret: string, changesState = false, origin = sameOrigin): Credentials => ({
  kind: 'session',
  secret,
  changesState,
  origin,
});

async function storedSession(secret: string) {
  return database.db
    .selectFrom('sessions')
    .selectAll()
    .where('secret_hash', '=', hashSecret(secret))
    .executeTakeFirst();
}

describe('login', () => {
  it('starts a session for the right password; only the secret’s hash is stored', async () => {
    const { user, session } = await auth.login({ username: 'ada', password: 's3cret-password', userAgent: 'vitest' });
    expect(user).toEqual({ id: ownerId, username: 'ada', isOwner: true, createdAt: expect.any(String) });
    expect(session.expiresAt.getTime()).toBe(clock.now().getTime() + SESSION_TTL_MS);
    const row = await storedSession(session.secret);
    expect(row).toMatchObject({ user_id: ownerId, user_agent: 'vitest' });
    expect(JSON.stringify(row)).not.toContain(session.secret);
  });

  it('refuses a wrong password and an unknown user alike, checking a decoy hash for the unknown one', async () => {
    const decoy = vi.spyOn(passwords, 'verifyDecoy');
    const wrong = await auth.login({ username: 'ada', password: 'wrong-password' }).catch((error: unknown) => error);
    const unknown = await auth
      .login({ username: 'nobody', password: 's3cret-password' })
      .catch((error: unknown) => error);
    for (const error of [wrong, unknown]) {
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: 'INVALID_CREDENTIALS', message: 'the username or password is wrong' });
    }
    expect(decoy).toHaveBeenCalledTimes(1);
    decoy.mockRestore();
  });

  it('refuses a user who has no password yet', async () => {
    await users.insert(database.db, { id: 'user-2', username: 'grace', isOwner: false });
    await expect(auth.login({ username: 'grace', password: 'anything-at-all' })).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
    });
  });
});

describe('sessions', () => {
  it('authenticates the cookie as the session’s user', async () => {
    const session = await auth.startSession(database.db, ownerId);
    const principal = await auth.authenticateCredentials(cookie(session.secret));
    expect(principal).toEqual({ userId: ownerId, isOwner: true, via: 'session', sessionId: expect.any(String) });
    expect(await auth.authenticateCredentials(cookie('forged'))).toBeNull();
  });

  it('slides: a session used within 30 days lives on, one idle for 30 days ends', async () => {
    const session = await auth.startSession(database.db, ownerId);
    clock.advance(20 * DAY);
    expect(await auth.authenticateCredentials(cookie(session.secret))).not.toBeNull();
    expect((await storedSession(session.secret))?.expires_at.getTime()).toBe(clock.now().getTime() + SESSION_TTL_MS);
    clock.advance(20 * DAY); // 40 days after sign-in, 20 after last use
    expect(await auth.authenticateCredentials(cookie(session.secret))).not.toBeNull();
    clock.advance(30 * DAY);
    expect(await auth.authenticateCredentials(cookie(session.secret))).toBeNull();
  });

  it('writes the new expiry at most once an hour', async () => {
    const session = await auth.startSession(database.db, ownerId);
    const before = await storedSession(session.secret);
    clock.advance(50 * 60 * 1000);
    await auth.authenticateCredentials(cookie(session.secret));
    expect((await storedSession(session.secret))?.last_seen_at).toEqual(before?.last_seen_at);
    clock.advance(11 * 60 * 1000);
    await auth.authenticateCredentials(cookie(session.secret));
    expect((await storedSession(session.secret))?.last_seen_at).toEqual(clock.now());
  });

  it('ends at once when signed out through this instance, despite the cache', async () => {
    const session = await auth.startSession(database.db, ownerId);
    expect(await auth.authenticateCredentials(cookie(session.secret))).not.toBeNull();
    await auth.logout(cookie(session.secret, true));
    expect(await storedSession(session.secret)).toBeUndefined();
    expect(await auth.authenticateCredentials(cookie(session.secret))).toBeNull();
  });

  it('ends within the cache period when its row is deleted elsewhere (another instance)', async () => {
    const session = await auth.startSession(database.db, ownerId);
    expect(await auth.authenticateCredentials(cookie(session.secret))).not.toBeNull();
    await database.db.deleteFrom('sessions').execute();
    clock.advance(11_000);
    expect(await auth.authenticateCredentials(cookie(session.secret))).toBeNull();
  });

  it('refuses state-changing cookie requests from another origin, and leaves reads and unknown cookies alone', async () => {
    const session = await auth.startSession(database.db, ownerId);
    await expect(auth.authenticateCredentials(cookie(session.secret, true, crossOrigin))).rejects.toMatchObject({
      code: 'FORBIDDEN_ORIGIN',
    });
    expect(await auth.authenticateCredentials(cookie(session.secret, false, crossOrigin))).not.toBeNull();
    expect(await auth.authenticateCredentials(cookie(session.secret, true, sameOrigin))).not.toBeNull();
    expect(await auth.authenticateCredentials(cookie('forged', true, crossOrigin))).toBeNull();
    await expect(auth.logout(cookie(session.secret, true, crossOrigin))).rejects.toMatchObject({
      code: 'FORBIDDEN_ORIGIN',
    });
    expect(await storedSession(session.secret)).toBeDefined();
  });
});

describe('API tokens', () => {
  const tokens = new ApiTokenRepository();
  let reads: number;
  let afterRead: (() => Promise<void>) | undefined;

  beforeEach(async () => {
    reads = 0;
    afterRead = undefined;
    const observed = Object.create(tokens) as ApiTokenRepository;
    observed.findActiveByHash = async (db, tokenHash) => {
      reads++;
      const found = await tokens.findActiveByHash(db, tokenHash);
      await afterRead?.();
      return found;
    };
    auth = new AuthService({
      db: database.db,
      users,
      tokens: observed,
      sessions: new SessionRepository(),
      passwords,
      clock,
      ids: new IdGenerator(),
      logger: pino({ level: 'silent' }),
    });
    await tokens.insert(database.db, {
      id: 'token-1',
      userId: ownerId,
      name: 'script',
      tokenHash: hashSecret('a-token-0123456789abcdef'),
      source: 'user',
    });
  });
  const revoke = async () => {
    const revoked = await tokens.revoke(database.db, ownerId, 'token-1', clock.now());
    auth.forgetToken(revoked!.tokenHash);
  };

  it('authenticate as their user; requests that arrive together share one read, later ones the cache', async () => {
    const principals = await Promise.all(
      Array.from({ length: 20 }, () => auth.authenticateToken('a-token-0123456789abcdef')),
    );
    expect(principals).toEqual(Array(20).fill({ userId: ownerId, isOwner: true, via: 'token' }));
    await auth.authenticateToken('a-token-0123456789abcdef');
    expect(reads).toBe(1);
    expect(await auth.authenticateToken('not-a-token-0123456789')).toBeNull();
  });

  it('stop at once when revoked through this instance, also while a read of them was under way', async () => {
    let read!: () => void;
    let release!: () => void;
    const hasRead = new Promise<void>((resolve) => (read = resolve));
    afterRead = () => {
      read();
      return new Promise((resolve) => (release = resolve));
    };
    const during = auth.authenticateToken('a-token-0123456789abcdef');
    await hasRead; // it found the token active and is held before it answers
    afterRead = undefined;
    await revoke();
    release();
    expect(await during).not.toBeNull(); // it began before the revocation
    expect(await auth.authenticateToken('a-token-0123456789abcdef')).toBeNull();
  });

  it('stop within the cache period when revoked elsewhere (another instance)', async () => {
    expect(await auth.authenticateToken('a-token-0123456789abcdef')).not.toBeNull();
    await tokens.revoke(database.db, ownerId, 'token-1', clock.now());
    expect(await auth.authenticateToken('a-token-0123456789abcdef')).not.toBeNull();
    clock.advance(10_000);
    expect(await auth.authenticateToken('a-token-0123456789abcdef')).toBeNull();
  });

  it('do not keep a read that failed', async () => {
    afterRead = async () => {
      throw new Error('connection lost');
    };
    await expect(auth.authenticateToken('a-token-0123456789abcdef')).rejects.toThrow('connection lost');
    afterRead = undefined;
    expect(await auth.authenticateToken('a-token-0123456789abcdef')).not.toBeNull();
    expect(reads).toBe(2);
  });
});
