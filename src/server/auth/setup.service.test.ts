import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { openDatabase, type Database } from '../db/database.js';
import { hashSecret, IdGenerator } from '../lib/ids.js';
import { ApiTokenRepository } from './api-token.repository.js';
import { AuthService } from './auth.service.js';
import { PasswordHasher } from './password-hasher.js';
import { SessionRepository } from './session.repository.js';
import { SetupService } from './setup.service.js';
import { SetupTokenRepository } from './setup-token.repository.js';
import { UserRepository } from './user.repository.js';

class FakeClock {
  private time = new Date('2026-03-01T12:00:00Z').getTime();
  now(): Date {
    return new Date(this.time);
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

class RecordingPrinter {
  readonly printed: Array<{ link: string; expiresAt: Date }> = [];
  print(link: string, expiresAt: Date): void {
    this.printed.push({ link, expiresAt });
  }
}

let testDatabase: TestDatabase;
let database: Database;
const users = new UserRepository();
const passwords = new PasswordHasher();
let clock: FakeClock;
let printer: RecordingPrinter;
let setup: SetupService;
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
  printer = new RecordingPrinter();
  const common = {
    db: database.db,
    users,
    passwords,
    clock,
    ids: new IdGenerator(),
    logger: pino({ level: 'silent' }),
  };
  const auth = new AuthService({ ...common, tokens: new ApiTokenRepository(), sessions: new SessionRepository() });
  setup = new SetupService({ ...common, setupTokens: new SetupTokenRepository(), auth, printer });
  ownerId = (await users.insert(database.db, { id: 'owner-1', username: 'owner', isOwner: true })).id;
});

const secretOf = (link: string) => new URL(link).searchParams.get('token')!;
const choose = { username: 'ada', password: 'a long enough password' };

describe('the set-up link', () => {
  it('is printed with the server’s address, lasts 24 hours, and only its hash is stored', async () => {
    const link = await setup.offerSetupLink({ baseUrl: 'https://mainloop.example.com/', ownerId });
    expect(link).toMatch(/^https:\/\/mainloop\.example\.com\/setup\?token=[\w-]{43}$/);
    expect(printer.printed).toEqual([{ link, expiresAt: new Date('2026-03-02T12:00:00Z') }]);
    const rows = await database.db.selectFrom('setup_tokens').selectAll().execute();
    expect(rows).toEqual([
      expect.objectContaining({ token_hash: hashSecret(secretOf(link!)), user_id: ownerId, used_at: null }),
    ]);
  });

  it('is not offered once the owner has a password', async () => {
    await users.setCredentials(database.db, ownerId, 'ada', await passwords.hash('a long enough password'));
    expect(await setup.offerSetupLink({ baseUrl: 'http://127.0.0.1:3000', ownerId })).toBeUndefined();
    expect(printer.printed).toEqual([]);
  });

  it('sets the owner’s username and argon2id password, signs them in, and works only once', async () => {
    const link = (await setup.offerSetupLink({ baseUrl: 'http://127.0.0.1:3000', ownerId }))!;
    const { user, session } = await setup.completeSetup({ token: secretOf(link), ...choose });
    expect(user).toMatchObject({ id: ownerId, username: 'ada', isOwner: true });
    expect(session.secret).toBeTruthy();
    const owner = await users.findById(database.db, ownerId);
    expect(owner?.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await passwords.verify(owner!.passwordHash!, choose.password)).toBe(true);
    const token = await database.db.selectFrom('setup_tokens').selectAll().executeTakeFirst();
    expect(token?.used_at).toEqual(clock.now());
    await expect(setup.completeSetup({ token: secretOf(link), ...choose })).rejects.toMatchObject({
      code: 'SETUP_ALREADY_DONE',
    });
  });

  it('is replaced by the next one: only the newest link works', async () => {
    const first = (await setup.offerSetupLink({ baseUrl: 'http://127.0.0.1:3000', ownerId }))!;
    const second = (await setup.offerSetupLink({ baseUrl: 'http://127.0.0.1:3000', ownerId }))!;
    await expect(setup.completeSetup({ token: secretOf(first), ...choose })).rejects.toMatchObject({
      code: 'SETUP_TOKEN_INVALID',
    });
    await expect(setup.completeSetup({ token: secretOf(second), ...choose })).resolves.toBeDefined();
  });

  it('expires after 24 hours', async () => {
    const link = (await setup.offerSetupLink({ baseUrl: 'http://127.0.0.1:3000', ownerId }))!;
    clock.advance(24 * 60 * 60 * 1000);
    await expect(setup.completeSetup({ token: secretOf(link), ...choose })).rejects.toMatchObject({
      code: 'SETUP_TOKEN_INVALID',
    });
    expect((await users.findById(database.db, ownerId))?.passwordHash).toBeNull();
  });

  it('refuses a made-up token without changing anything', async () => {
    await setup.offerSetupLink({ baseUrl: 'http://127.0.0.1:3000', ownerId });
    await expect(setup.completeSetup({ token: 'made-up', ...choose })).rejects.toMatchObject({
      code: 'SETUP_TOKEN_INVALID',
    });
    expect((await users.findById(database.db, ownerId))?.username).toBe('owner');
  });

  it('lets only one of two simultaneous uses of the link through', async () => {
    const link = (await setup.offerSetupLink({ baseUrl: 'http://127.0.0.1:3000', ownerId }))!;
    const results = await Promise.allSettled([
      setup.completeSetup({ token: secretOf(link), username: 'ada', password: 'first password!' }),
      setup.completeSetup({ token: secretOf(link), username: 'eve', password: 'second password' }),
    ]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((result) => result.status === 'rejected')).toMatchObject({
      reason: { code: 'SETUP_ALREADY_DONE' },
    });
    expect(await database.db.selectFrom('sessions').select('id').execute()).toHaveLength(1);
  });
});
